package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/runner/course"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var hf handoutFlags
		cmd := &cobra.Command{
			Use:               "handout [flags] LAB",
			Short:             "write the student's version of a lab: Markdown, a printable page, the files to work in",
			Long:              handoutHelp,
			ValidArgsFunction: completeScenarios,
			RunE:              func(_ *cobra.Command, args []string) error { return c.handout(&hf, args) },
		}
		fs := cmd.Flags()
		fs.StringVar(&hf.out, "out", "handout", "write the files into `DIR` (made if need be)")
		fs.StringVar(&hf.student, "student", "", "the student's `ID`: the handout of that student's variant")
		fs.Var(&hf.vars, "var", "set a var of the lab: `NAME=VALUE`; repeatable")
		fs.IntVar(&hf.rows, "rows", 16, "rows of the blank interleaving table: `N`")
		fs.StringVar(&hf.key, "key", "", "also write the lab's solution as a student's file to `FILE` (for you: it earns every point), apart from the handout")
		completeFlags(cmd, map[string]cobra.CompletionFunc{
			"out":     cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs),
			"student": noCompletions,
			"var":     completeVars,
			"rows":    noCompletions,
		})
		return cmd
	})
}

const handoutHelp = `Writes the student's version of a lab (a scenario with course:) into --out:

  NAME.md        the handout: the problem without the solution's paragraphs,
                 the broken attempt with a blank interleaving table, the
                 student's programs as stubs, how to check the work, and the
                 things to try that do not give the answer away
  NAME.html      the same, a page to print, the table with room to write in
  NAME.lab.yaml  the lab without its solution, to grade the work with
  NAME.yaml      the student's file: the stubs, to fill in and hand in

--key FILE writes the lab's solution as a student's file, for you to grade
(it earns every point), apart from the handout.

What the student does not see is marked in the lab (docs/labs.md): a header
paragraph that starts with [solution], a program line whose comment starts
with "solution" (the stub leaves it out), the programs of course: hidden,
and a "# try:" line that says [solution] or names a program the student does
not see. Comments at the end of a program's lines are the teacher's and are
left out. pmrun checks what it writes: the student's lab loads, and the
stubs keep the lab's checks. --student ID writes that student's variant.`

type handoutFlags struct {
	out, student, key string
	vars              stringList
	rows              int
}

func (c *cli) handout(hf *handoutFlags, args []string) error {
	if len(args) != 1 {
		return usageErrorf("handout: want one lab: pmrun handout scenarios/labs/book/mutex.yaml")
	}
	if hf.rows < 1 || hf.rows > 1000 {
		return usageErrorf("--rows %d: want 1 to 1000", hf.rows)
	}
	opt := course.HandoutOptions{Student: hf.student, Vars: map[string]string{}, Rows: hf.rows}
	for _, v := range hf.vars {
		name, value, err := lang.ParseVar(v)
		if err != nil {
			return usageErrorf("%v", err)
		}
		opt.Vars[name] = value
	}
	if err := checkVarsDeclared(args[0], course.Options{Vars: opt.Vars}); err != nil {
		return err
	}
	h, err := course.MakeHandout(args[0], opt)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(hf.out, 0o755); err != nil {
		return usageErrorf("--out %v", err)
	}
	files := []struct {
		name  string
		write func(io.Writer) error
	}{
		{h.Name + ".md", h.WriteMarkdown},
		{h.Name + ".html", h.WriteHTML},
		{h.LabFile, func(w io.Writer) error { _, err := io.WriteString(w, h.LabText); return err }},
		{h.StudentFile, func(w io.Writer) error { _, err := io.WriteString(w, h.StudentText); return err }},
	}
	if hf.key != "" {
		if h.Key == "" {
			return usageErrorf("--key: the lab's solution borrows YAML anchors from programs a student does not write, so it is no student's file")
		}
		files = append(files, struct {
			name  string
			write func(io.Writer) error
		}{"", func(w io.Writer) error { _, err := io.WriteString(w, h.Key); return err }})
	}
	for _, f := range files {
		path := filepath.Join(hf.out, f.name)
		if f.name == "" {
			path = hf.key
		}
		if err := report.CheckOutputs([]report.Output{{Flag: "--out", Path: path, Replace: true}}, args); err != nil {
			return usageErrorf("%v", err)
		}
		if err := report.WriteFile(context.Background(), path, f.write); err != nil {
			fmt.Fprintf(c.stderr, "pmrun: --out %v\n", err)
			return &exitError{code: exitOutput}
		}
		fmt.Fprintln(c.stdout, path)
	}
	return nil
}
