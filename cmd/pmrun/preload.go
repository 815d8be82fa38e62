package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var header bool
		cmd := &cobra.Command{
			Use:   "preload [--header]",
			Short: "build the library that puts a C program under pmrun's scheduler; print its path",
			Long: `Builds pmrun's interposition library, which the controlled action loads into a
program with LD_PRELOAD, if it is not in the cache yet ($XDG_CACHE_HOME/pmrun,
or ~/.cache/pmrun), and prints its path. The library is built with $CC, else
cc, gcc or clang; pmrun builds it by itself the first time a controlled step
needs it, so this only builds it ahead (make preload). PMRUN_PRELOAD=PATH
makes pmrun use a library built elsewhere.

With --header it prints pmrun.h instead: one line that gives a C program
pmrun_point("name"), a point of its own between two accesses to plain memory.`,
			Args: noArgs(""),
			RunE: func(cmd *cobra.Command, _ []string) error {
				if header {
					_, err := fmt.Fprint(c.stdout, actions.PreloadHeader())
					return err
				}
				path, err := actions.PreloadLibrary(context.Background())
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(c.stdout, path)
				return err
			},
		}
		cmd.Flags().BoolVar(&header, "header", false, "print pmrun.h instead")
		return cmd
	})
}
