package main

import (
	"fmt"

	"github.com/pmrun/pmrun/runner/lang"
)

func init() {
	register(&command{
		name:    "check",
		usage:   "check [--var NAME=VALUE] PATH...",
		summary: "load and validate scenarios without running them",
		run:     (*cli).check,
	})
}

func (c *cli) check(args []string) error {
	var vars stringList
	fs := c.newFlags("check", "check [--var NAME=VALUE] PATH...", `Loads every scenario file (or every *.yaml under a folder) and checks it as
'pmrun run' would before running: YAML syntax, keys, actions, parameters and
their types, ids, names of processes, threads and channels, and every
expression. Every mistake is printed as FILE:LINE:COL: message; the exit code
is 0 when all files are valid and 2 otherwise.`)
	fs.Var(&vars, "var", "set a scenario var: `NAME=VALUE`, as for run; repeatable")
	paths, err := fs.parse(args)
	if err != nil {
		return err
	}
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
