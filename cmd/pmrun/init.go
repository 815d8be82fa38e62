package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
)

// starter is the scenario 'pmrun init' writes: every line commented, and
// it passes 'pmrun check' and 'pmrun run' (a test runs both).
//
//go:embed starter.yaml
var starter []byte

// defaultInitFile is where 'pmrun init' writes without a FILE.
const defaultInitFile = "scenario.yaml"

func init() {
	register(func(c *cli) *cobra.Command {
		return &cobra.Command{
			Use:   "init [FILE]",
			Short: "write a commented starter scenario (default " + defaultInitFile + ")",
			Long: `Writes a starter scenario to FILE (default ` + defaultInitFile + `): a process, a
thread, a message, a producer-consumer run and a program (a lost update found
by a search and replayed, its fix proved), each step commented, that passes
'pmrun check' and 'pmrun run'. An existing file is never overwritten
(exit 1).`,
			ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return completeScenarios(nil, nil, "")
			},
			RunE: func(_ *cobra.Command, args []string) error { return c.init(args) },
		}
	})
}

func (c *cli) init(args []string) error {
	if len(args) > 1 {
		return usageErrorf("init: want at most one FILE, got %d", len(args))
	}
	path := defaultInitFile
	if len(args) == 1 {
		path = args[0]
	}
	// O_EXCL: a file that exists, or a link planted there, is never
	// written through.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("init: %s exists already: not overwritten", path)
	}
	if err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if _, err := f.Write(starter); err != nil {
		f.Close()
		return fmt.Errorf("init: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	fmt.Fprintf(c.stdout, "wrote %s: check it with 'pmrun check %s', run it with 'pmrun %s'\n", path, path, path)
	return nil
}
