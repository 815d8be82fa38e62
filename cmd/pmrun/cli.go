package main

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/pmrun/pmrun/actions/contract"
)

// cli is what a subcommand works with: its streams.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// commandMakers make pmrun's subcommands; each subcommand's file adds its
// maker in init, so that the list of commands is the list of files.
var commandMakers []func(c *cli) *cobra.Command

// register adds a subcommand's maker.
func register(make func(c *cli) *cobra.Command) { commandMakers = append(commandMakers, make) }

const rootLong = `pmrun runs process-synchronization scenarios: YAML files whose steps spawn
processes, create threads, pass messages and assert conditions, against real
operating-system objects, logging every event as JSON lines.`

const exitCodesHelp = `Exit codes: 0 every scenario passed, 1 a step failed, 2 invalid scenario or
usage (nothing was run), 3 an output (log, report, trace, JUnit, stdout) could
not be written, 130 interrupted, 141 the console's reader went away.`

// commands returns pmrun's command tree. The root runs scenarios, as
// 'pmrun run' does, so that 'pmrun FILE.yaml' is a run; every other
// command is a subcommand.
func (c *cli) commands() *cobra.Command {
	var rf runFlags
	root := &cobra.Command{
		Use:     "pmrun",
		Short:   "run process-synchronization scenarios",
		Long:    rootLong,
		Version: versionLine(),
		// The first argument is a scenario unless it names a command:
		// one that names neither is a mistake, with a suggestion.
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 && !looksLikeScenario(args[0]) {
				return usageErrorf("unknown command or file %q%s\nRun 'pmrun --help' for usage.", args[0], suggestCommand(cmd, args[0]))
			}
			return nil
		},
		ValidArgsFunction: completeScenarios,
		RunE:              func(cmd *cobra.Command, args []string) error { return c.run(rf.given(cmd), args) },
		SilenceErrors:     true,
		SilenceUsage:      true,
	}
	rf.define(root)
	for _, make := range commandMakers {
		root.AddCommand(make(c))
	}
	root.SetIn(c.stdin)
	root.SetOut(c.stdout)
	root.SetErr(c.stderr)
	root.SetFlagErrorFunc(flagError)
	root.SetHelpFunc(c.help)
	root.SetVersionTemplate("pmrun {{.Version}}\n")
	root.InitDefaultCompletionCmd()
	for _, sub := range root.Commands() {
		if sub.Name() == "completion" {
			sub.Use = "completion bash|zsh|fish"
			sub.Short = "print a shell's completion script (commands, flags, files, --var names)"
		}
	}
	return root
}

// looksLikeScenario reports whether a first argument is meant as a
// scenario: a YAML file's name, or something that exists.
func looksLikeScenario(a string) bool {
	return strings.HasSuffix(a, ".yaml") || strings.HasSuffix(a, ".yml") || exists(a)
}

// suggestCommand returns ", did you mean …?" for a near miss of a
// command's name.
func suggestCommand(root *cobra.Command, s string) string {
	var names []string
	for _, cmd := range root.Commands() {
		if cmd.IsAvailableCommand() {
			names = append(names, cmd.Name())
		}
	}
	sort.Strings(names)
	return contract.DidYouMean(s, names)
}

// help prints a command's help on stdout: for pmrun itself, every command
// and the run flags; for a subcommand, its synopsis, description and flags.
func (c *cli) help(cmd *cobra.Command, _ []string) {
	w := cmd.OutOrStdout()
	if !cmd.HasParent() {
		fmt.Fprintf(w, "%s\n\nUsage:\n", cmd.Long)
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(w, "  pmrun %-34s %s\n", sub.Use, sub.Short)
			}
		}
		fmt.Fprintf(w, `
'run' is the default: 'pmrun scenarios/demo.yaml' runs the demo.
'pmrun COMMAND --help' tells more about a command.

Run flags (pmrun [run] [flags] PATH...):
%s
%s
`, cmd.LocalFlags().FlagUsages(), exitCodesHelp)
		return
	}
	fmt.Fprintf(w, "Usage: %s %s\n\n%s\n", cmd.Parent().CommandPath(), cmd.Use, strings.TrimSpace(cmd.Long))
	if cmd.HasAvailableLocalFlags() {
		fmt.Fprintf(w, "\nFlags:\n%s", cmd.LocalFlags().FlagUsages())
	}
	if cmd.HasAvailableSubCommands() {
		fmt.Fprintln(w, "\nCommands:")
		for _, sub := range cmd.Commands() {
			if sub.IsAvailableCommand() {
				fmt.Fprintf(w, "  %-12s %s\n", sub.Name(), sub.Short)
			}
		}
	}
}

// flagError turns a flag parser's complaint into a usage error (exit 2)
// that names the flag and what it wants.
func flagError(cmd *cobra.Command, err error) error {
	var bad *pflag.InvalidValueError
	if errors.As(err, &bad) {
		cause := bad.Unwrap()
		var num *strconv.NumError
		if errors.As(cause, &num) {
			cause = errors.New("want a whole number")
			if bad.GetFlag().Value.Type() == "bool" {
				cause = errors.New("want true or false")
			}
		}
		return usageErrorf("--%s %s: %v", bad.GetFlag().Name, bad.GetValue(), cause)
	}
	return usageErrorf("%v\nRun '%s --help' for usage.", err, cmd.CommandPath())
}

// singleDash matches a long flag written with one dash, as Go's flag
// package takes them: -name or -name=value.
var singleDash = regexp.MustCompile(`^-([a-z][a-z0-9-]+)(=.*)?$`)

// doubleDashes rewrites -name into --name where name is a long flag of
// some pmrun command, so that the single-dash spelling of earlier pmrun
// versions still works; help shows double dashes only. Arguments after
// "--" are left alone.
func doubleDashes(root *cobra.Command, args []string) []string {
	long := map[string]bool{"help": true, "version": true}
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) { long[f.Name] = true })
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
	out := make([]string, len(args))
	for i, a := range args {
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if m := singleDash.FindStringSubmatch(a); m != nil && long[m[1]] {
			a = "-" + a
		}
		out[i] = a
	}
	return out
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
func (s *stringList) Type() string       { return "stringList" }

// durationFlag is a duration flag whose mistakes say how to write one:
// "--timeout 5: a duration needs a unit, such as 5s".
type durationFlag struct{ d *time.Duration }

func (f durationFlag) Set(s string) error {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		if _, nerr := strconv.ParseFloat(strings.TrimSpace(s), 64); nerr == nil {
			return fmt.Errorf("a duration needs a unit, such as %ss", strings.TrimSpace(s))
		}
		return errors.New("want a duration such as 30s, 1m30s or 500ms")
	}
	*f.d = d
	return nil
}

func (f durationFlag) String() string {
	if f.d == nil || *f.d == 0 {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Type() string { return "duration" }

// durationVar defines a duration flag on fs.
func durationVar(fs *pflag.FlagSet, d *time.Duration, name string, value time.Duration, usage string) {
	*d = value
	fs.Var(durationFlag{d}, name, usage)
}

// noArgs is a command's Args for one that takes none, saying so by name.
func noArgs(why string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usageErrorf("%s takes no arguments, got %q%s", cmd.Name(), args[0], why)
		}
		return nil
	}
}
