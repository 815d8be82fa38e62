package main

import (
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
)

// starter is the scenario 'pmrun init' writes: every line commented, and
// it passes 'pmrun check' and 'pmrun run' (a test runs both).
//
//go:embed starter.yaml
var starter []byte

// labSkeleton is the lab 'pmrun init --lab NAME' writes, LABNAME standing
// for NAME: every part of a lab for a course, marked for the handout; it
// passes 'pmrun run', 'pmrun handout' and its things to try (a test runs
// them).
//
//go:embed lab_skeleton.yaml
var labSkeleton string

// labName is what a lab's name may be: a file's name and a scenario's.
var labName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// defaultInitFile is where 'pmrun init' writes without a FILE.
const defaultInitFile = "scenario.yaml"

func init() {
	register(func(c *cli) *cobra.Command {
		var lab string
		cmd := &cobra.Command{
			Use:   "init [--lab NAME] [FILE]",
			Short: "write a commented starter scenario (default " + defaultInitFile + "), or a lab",
			Long: `Writes a starter scenario to FILE (default ` + defaultInitFile + `): a process, a
thread, a message, a producer-consumer run and a program (a lost update found
by a search and replayed, its fix proved), each step commented, that passes
'pmrun check' and 'pmrun run'.

With --lab NAME, writes a lab for a course to FILE (default NAME.yaml): a
header with the problem, its constraints and the broken attempt, and the
teacher's paragraphs marked [solution]; a broken attempt and a solution
whose lines are marked # solution; course: (the program a student writes,
a variant); find, replay and proof steps with points; things to try. It
passes 'pmrun run', and 'pmrun handout' makes the student's version of it
(docs/labs.md, "Writing a lab").

An existing file is never overwritten (exit 1).`,
			ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) > 0 {
					return nil, cobra.ShellCompDirectiveNoFileComp
				}
				return completeScenarios(nil, nil, "")
			},
			RunE: func(_ *cobra.Command, args []string) error { return c.init(lab, args) },
		}
		cmd.Flags().StringVar(&lab, "lab", "", "write a lab for a course called `NAME` (letters, digits and _)")
		completeFlags(cmd, map[string]cobra.CompletionFunc{"lab": noCompletions})
		return cmd
	})
}

func (c *cli) init(lab string, args []string) error {
	if len(args) > 1 {
		return usageErrorf("init: want at most one FILE, got %d", len(args))
	}
	path, content := defaultInitFile, starter
	if lab != "" {
		if !labName.MatchString(lab) {
			return usageErrorf("init: --lab %q: a lab's name is lowercase letters, digits and _, such as bounded_buffer", lab)
		}
		path, content = lab+".yaml", []byte(strings.ReplaceAll(labSkeleton, "LABNAME", lab))
	}
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
	if _, err := f.Write(content); err != nil {
		f.Close()
		return fmt.Errorf("init: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("init: %w", err)
	}
	if lab != "" {
		fmt.Fprintf(c.stdout, "wrote %s: run it with 'pmrun %s', hand it out with 'pmrun handout %s'\n", path, path, path)
		return nil
	}
	fmt.Fprintf(c.stdout, "wrote %s: check it with 'pmrun check %s', run it with 'pmrun %s'\n", path, path, path)
	return nil
}
