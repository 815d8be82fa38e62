package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/runner/lang"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var vars stringList
		cmd := &cobra.Command{
			Use:   "check [--var NAME=VALUE] PATH...",
			Short: "load and validate scenarios without running them",
			Long: `Loads every scenario file (or every *.yaml under a folder) and checks it as
'pmrun run' would before running: YAML syntax, keys, actions, parameters and
their types, ids, names of processes, threads and channels, and every
expression. Every mistake is printed as FILE:LINE:COL: message; the exit code
is 0 when all files are valid and 2 otherwise.`,
			ValidArgsFunction: completeScenarios,
			RunE:              func(_ *cobra.Command, args []string) error { return c.check(vars, args) },
		}
		cmd.Flags().Var(&vars, "var", "set a scenario var: `NAME=VALUE`, as for run; repeatable")
		completeFlags(cmd, map[string]cobra.CompletionFunc{"var": completeVars})
		return cmd
	})
}

func (c *cli) check(vars stringList, paths []string) error {
	if len(paths) == 0 {
		return usageErrorf("check: no scenario given")
	}
	opt := lang.LoadOptions{Vars: map[string]any{}}
	for _, v := range vars {
		name, value, err := lang.ParseVar(v)
		if err != nil {
			return usageErrorf("%v", err)
		}
		opt.Vars[name] = value
	}
	files, err := scenarioFiles(paths)
	if err != nil {
		return err
	}
	scenarios, err := loadAll(files, opt)
	if err != nil {
		return err
	}
	for _, sc := range scenarios {
		fmt.Fprintf(c.stdout, "ok %s: %s, %d %s\n", sc.File, sc.Name, len(sc.Steps)+len(sc.Finally), plural(len(sc.Steps)+len(sc.Finally), "step", "steps"))
	}
	return nil
}
