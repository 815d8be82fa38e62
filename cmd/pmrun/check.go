package main

import (
	"fmt"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
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
	opt := lang.LoadOptions{Registry: actions.Registry(), Vars: map[string]string{}}
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
	// CheckFile keeps nothing a run would need, so a long file is checked
	// in little more memory than its steps take.
	defer boundLoadingHeap(files)()
	var checked []*lang.Checked
	var declared []string
	err = eachFile(files, opt, lang.CheckFile, func(c *lang.Checked) {
		checked = append(checked, c)
		declared = append(declared, c.Vars...)
	})
	if err == nil {
		err = undeclaredVars(opt.Vars, declared)
	}
	if err != nil {
		return err
	}
	for _, sc := range checked {
		fmt.Fprintf(c.stdout, "ok %s: %s, %d %s\n", sc.File, sc.Name, sc.Steps, plural(sc.Steps, "step", "steps"))
	}
	return nil
}

// boundLoadingHeap has the garbage collector keep the heap within half
// again what it holds (GOGC=50) while files are checked, and returns what
// restores the setting before. Checking a file holds its YAML tree, about
// 17 times the file's size, while the steps are decoded from it: left to
// the default of twice what it holds, the heap of a 10 MB file would pass
// 380 MB (make bench has the row). A file under 1 MiB is left alone.
func boundLoadingHeap(files []string) (restore func()) {
	largest := int64(0)
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.Mode().IsRegular() {
			largest = max(largest, fi.Size())
		}
	}
	if largest < 1<<20 {
		return func() {}
	}
	before := debug.SetGCPercent(50)
	return func() { debug.SetGCPercent(before) }
}
