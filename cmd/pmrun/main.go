// Command pmrun runs process-synchronization scenarios written in YAML
// against real processes, threads, pipes and semaphores, and logs
// everything it does as JSON lines.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/runner/lang"
)

func main() {
	// pmrun's OS threads lock the main goroutine to the main thread (package
	// osthread), so the real work runs on another goroutine: blocking here
	// would otherwise park a whole OS thread each time.
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		nameAgentProcess()
	}
	code := make(chan int)
	go func() {
		// PMRUN_CPUPROFILE=FILE writes a CPU profile of the command, for
		// whoever works on pmrun's speed (make bench).
		if path := os.Getenv("PMRUN_CPUPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
				c := pmrun(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
				pprof.StopCPUProfile()
				f.Close()
				code <- c
				return
			}
		}
		code <- pmrun(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	}()
	os.Exit(<-code)
}

var agentName = []byte("pmrun-agent\x00")

// nameAgentProcess names the process pmrun-agent in ps and top: an agent is
// /proc/self/exe re-executed, which the kernel would call "exe". It must
// run on the main thread, whose name is the process's; the main goroutine
// holds it (package osthread locks it there).
func nameAgentProcess() {
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&agentName[0])), 0, 0, 0)
}

// Exit codes (README "Exit codes").
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitOutput      = 3 // the log, a report, the trace or the JUnit file could not be written
	exitInterrupted = 130
)

// command is one pmrun subcommand.
type command struct {
	name    string
	usage   string // the synopsis after "pmrun"
	summary string
	run     func(c *cli, args []string) error
	hidden  bool
}

var commands = map[string]*command{}

func register(c *command) { commands[c.name] = c }

// cli is what a subcommand works with: its streams.
type cli struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

// exitError carries an exit code; main only maps errors to codes.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// pmrun runs the command line and returns the exit code.
func pmrun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	c := &cli{stdin: stdin, stdout: stdout, stderr: stderr}
	name := "run"
	if len(args) > 0 {
		switch a := args[0]; {
		case a == "-h" || a == "--help" || a == "-help" || a == "help":
			if len(args) > 1 {
				if cmd, ok := commands[args[1]]; ok {
					return code(cmd.run(c, []string{"--help"}), stderr)
				}
			}
			c.help(stdout)
			return exitOK
		case commands[a] != nil:
			name, args = a, args[1:]
		case !strings.HasPrefix(a, "-") && !strings.HasSuffix(a, ".yaml") && !strings.HasSuffix(a, ".yml") && !exists(a):
			fmt.Fprintf(stderr, "pmrun: unknown command or file %q%s\nRun 'pmrun --help' for usage.\n", a, suggestCommand(a))
			return exitUsage
		}
	}
	return code(commands[name].run(c, args), stderr)
}

func code(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	var loadErrs lang.LoadErrors
	if errors.As(err, &loadErrs) {
		// FILE:LINE:COL: message, one per line, as editors and CI parse them.
		fmt.Fprintln(stderr, loadErrs.Error())
		fmt.Fprintf(stderr, "pmrun: %d %s; nothing was run\n", len(loadErrs), plural(len(loadErrs), "error", "errors"))
	} else if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "pmrun: "+msg)
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return exitFailed
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func suggestCommand(s string) string {
	var names []string
	for name, cmd := range commands {
		if !cmd.hidden {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return lang.DidYouMean(s, names)
}

func (c *cli) help(w io.Writer) {
	fmt.Fprint(w, `pmrun runs process-synchronization scenarios: YAML files whose steps spawn
processes, create threads, pass messages and assert conditions, against real
operating-system objects, logging every event as JSON lines.

Usage:
`)
	names := make([]string, 0, len(commands))
	for name, cmd := range commands {
		if !cmd.hidden {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		cmd := commands[name]
		fmt.Fprintf(w, "  pmrun %-34s %s\n", cmd.usage, cmd.summary)
	}
	fmt.Fprint(w, `
'run' is the default: 'pmrun scenarios/demo.yaml' runs the demo.
'pmrun COMMAND --help' tells more about a command.

Exit codes: 0 every scenario passed, 1 a step failed, 2 invalid scenario or
usage (nothing was run), 3 an output (log, report, trace, JUnit) could not be
written, 130 interrupted, 141 the console's reader went away.
`)
}

// flags is a subcommand's flag set and what its --help prints.
type flags struct {
	*flag.FlagSet
	c                     *cli
	synopsis, description string
}

// newFlags returns the flag set of a subcommand.
func (c *cli) newFlags(cmd, synopsis, description string) *flags {
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(c.stderr, "Run 'pmrun %s --help' for usage.\n", cmd)
	}
	return &flags{FlagSet: fs, c: c, synopsis: synopsis, description: description}
}

func (f *flags) help() {
	w := f.c.stdout
	fmt.Fprintf(w, "Usage: pmrun %s\n\n%s\n", f.synopsis, strings.TrimSpace(f.description))
	n := 0
	f.VisitAll(func(*flag.Flag) { n++ })
	if n > 0 {
		fmt.Fprintln(w, "\nFlags:")
		f.SetOutput(w)
		f.PrintDefaults()
		f.SetOutput(f.c.stderr)
	}
}

// parse parses flags placed anywhere among the arguments and returns the
// positional arguments; --help prints the command's usage on stdout.
func (f *flags) parse(args []string) ([]string, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			f.help()
			return nil, flag.ErrHelp
		}
	}
	var rest []string
	for {
		if err := f.Parse(args); err != nil {
			return nil, &exitError{code: exitUsage}
		}
		args = f.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
