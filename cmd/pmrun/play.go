package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var f playFlags
		cmd := &cobra.Command{
			Use:   "play [--open] [--var NAME=VALUE] [--seed N] [--replay SCHEDULE] FILE [PROGRAM|STEP]",
			Short: "be the scheduler of a program, in a browser",
			Long: `Serves the manual scheduler of a program of FILE's programs: section as a
page in a browser: the threads side by side with their code, each one's next
step highlighted, the shared values, semaphores, mutexes and regions. Click a
thread (or press its key) and that thread takes its step, on its own OS
thread; undo, restart, open a schedule (a replay line) and step through it,
find a failure, or take a quiz. You win by breaking the program: the page then
shows the run as a table and the command that replays it.

PROGRAM defaults to the program the file's first program step runs (a lab's
broken attempt), else its first program. --replay SCHEDULE opens a schedule
at the start, ready to step through: a replay line pmrun run prints works
with run changed to play.

A file whose steps run real programs (controlled: a C program; scripts)
and that has no programs: section is played differently: pmrun has no
model of a real program to step by hand. pmrun play runs the file's steps
as pmrun run does, up to its first controlled or scripts step (PROGRAM:
the step of that id or name; --replay: the first step that replays the
schedule), and the page shows the run that step found: each thread's
calls in order with their source lines, a deadlock's wait-for graph, the
replay command; the page says what it cannot do for a real program.

The page is served on 127.0.0.1
only, at an address with a random token, printed when it is ready (--open
opens it in a browser). The game ends with Ctrl-C, or when the page has been
closed for 30 seconds; it has no time limit unless --timeout gives one.`,
			Args: func(_ *cobra.Command, args []string) error {
				if len(args) < 1 || len(args) > 2 {
					return usageErrorf("play: want a scenario file and, if you like, one of its programs: pmrun play FILE [PROGRAM]")
				}
				return nil
			},
			ValidArgsFunction: completeScenarios,
			RunE: func(_ *cobra.Command, args []string) error {
				name := ""
				if len(args) > 1 {
					name = args[1]
				}
				return c.play(args[0], name, f)
			},
		}
		cmd.Flags().Var(&f.vars, "var", "set a scenario var: `NAME=VALUE`, as for run; repeatable")
		cmd.Flags().BoolVar(&f.open, "open", false, "open the page in a browser (xdg-open, or $BROWSER)")
		cmd.Flags().Uint64Var(&f.seed, "seed", 0, "seed the page's searches and quizzes, and give the replay command this --seed (`N`; 0: the file's seed, else drawn at random)")
		cmd.Flags().DurationVar(&f.timeout, "timeout", 0, "end the game after this long, with a warning on the page in its last minute (`DURATION`; 0: no limit)")
		cmd.Flags().StringVar(&f.replay, "replay", "", "open this schedule at the start, to step through (`SCHEDULE`: pmrun1:PROGRAM:HASH:STEPS, as pmrun run's --replay)")
		completeFlags(cmd, map[string]cobra.CompletionFunc{"var": completeVars})
		return cmd
	})
}

// playFlags are pmrun play's flags.
type playFlags struct {
	vars    stringList
	open    bool
	timeout time.Duration
	seed    uint64
	replay  string
}

func (c *cli) play(path, name string, f playFlags) error {
	if f.timeout < 0 {
		return usageErrorf("--timeout %v: want a duration of 0 or more", f.timeout)
	}
	if f.replay != "" && name != "" {
		return usageErrorf("play: give PROGRAM or --replay, not both: the schedule names its program")
	}
	opt := lang.LoadOptions{Registry: actions.Registry(), Vars: map[string]string{}}
	for _, v := range f.vars {
		n, value, err := lang.ParseVar(v)
		if err != nil {
			return usageErrorf("%v", err)
		}
		opt.Vars[n] = value
	}
	max, err := lang.MaxSize()
	if err != nil {
		return usageErrorf("%v", err)
	}
	ctx, _, stop := interruptible()
	defer stop()
	source, err := lang.ReadScenario(ctx, path, max)
	if err != nil {
		return usageErrorf("play: %v", err)
	}
	sc, err := lang.Parse(path, source, opt)
	if err != nil {
		return err
	}
	if err := undeclaredVars(opt.Vars, slices.Collect(maps.Keys(sc.Vars))); err != nil {
		return err
	}
	section := sc.Sections[actions.ProgramsKey]
	list := actions.Programs(section)
	var names []string
	for _, p := range list {
		names = append(names, p.Name)
	}
	if f.replay != "" {
		text, err := readSchedule(f.replay)
		if err != nil {
			return usageErrorf("play: --replay %s: %v", f.replay, err)
		}
		prog, err := actions.ScheduleProgram(text)
		if err != nil {
			return usageErrorf("play: --replay: %v", err)
		}
		if len(realSteps(sc)) > 0 && !slices.Contains(names, prog) {
			return c.playShown(ctx, path, sc, "", f)
		}
		name, f.replay = prog, text // checked below
	}
	if real := realSteps(sc); len(real) > 0 && (len(names) == 0 || name != "" && !slices.Contains(names, name) && stepCalled(real, name) != nil) {
		return c.playShown(ctx, path, sc, name, f)
	}
	if len(list) == 0 {
		return usageErrorf("play: %s has no programs: section, and no controlled or scripts step", path)
	}
	switch {
	case name == "":
		name = firstProgramRun(sc, names)
	case !slices.Contains(names, name):
		hint := contract.DidYouMean(name, names)
		if hint == "" {
			hint = "."
		}
		return usageErrorf("play: %s has no program %q%s Its programs: %s", path, name, hint, strings.Join(names, ", "))
	}
	// The replay command is the one pmrun run prints: the file, the --var
	// values that changed its vars, and the seed, unless the file fixes it
	// and no --seed was given. The seed is drawn as run draws it.
	seed := f.seed
	given := seed != 0
	switch {
	case given:
	case sc.Seed != nil:
		seed = *sc.Seed
	default:
		seed = rand.Uint64() >> 1
	}
	rerun := []string{path}
	for _, v := range sc.VarArgs {
		rerun = append(rerun, "--var", v)
	}
	if given || sc.Seed == nil {
		rerun = append(rerun, "--seed", strconv.FormatUint(seed, 10))
	}
	err = actions.PlayPage(ctx, section, name, actions.PlayOptions{
		File: path, Source: source, Limit: f.timeout, Rerun: rerun, Seed: seed, Open: f.replay,
		Ready: func(url string) {
			fmt.Fprintf(c.stdout, "pmrun play: program %s of %s\n  %s\nOpen it in a browser; Ctrl-C ends the game.\n", name, path, url)
			if f.open {
				c.openBrowser(url)
			}
		},
		Say: func(format string, args ...any) { fmt.Fprintf(c.stdout, format+"\n", args...) },
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// firstProgramRun is the program the scenario's first program step runs,
// its parameters resolved with the scenario's vars (a lab's broken
// attempt), or else the first of names.
func firstProgramRun(sc *lang.Scenario, names []string) string {
	scope := lang.NewScope(sc.Vars, map[string]any{"scenario": sc.Name, "file": sc.File}, func(string) bool { return false })
	for _, st := range sc.Steps {
		if st.Action != "program" {
			continue
		}
		if args, err := st.Args(scope); err == nil && slices.Contains(names, args.String("run")) {
			return args.String("run")
		}
		break
	}
	return names[0]
}

// openBrowser opens url with $BROWSER or xdg-open, without waiting for it
// (a goroutine reaps it).
func (c *cli) openBrowser(url string) {
	browser := os.Getenv("BROWSER")
	if browser == "" {
		browser = "xdg-open"
	}
	cmd := exec.Command(browser, url)
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(c.stderr, "pmrun play: could not open a browser (%v): open the address above yourself\n", err)
		return
	}
	go cmd.Wait()
}
