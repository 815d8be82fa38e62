package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var rf runFlags
		cmd := &cobra.Command{
			Use:               "run [flags] PATH...",
			Short:             "run scenario files or folders (*.yaml, sorted)",
			Long:              runHelp,
			ValidArgsFunction: completeScenarios,
			RunE:              func(cmd *cobra.Command, args []string) error { return c.run(rf.given(cmd), args) },
		}
		rf.define(cmd)
		return cmd
	})
}

const runHelp = `Runs each scenario file, or every *.yaml file under each folder (sorted),
step by step. The console shows a line per step and a summary; every event is
appended as a JSON line to the log file (default pmrun.log).

All files are loaded and checked first: if any has a mistake, every mistake
is printed as FILE:LINE:COL: message and nothing runs (exit code 2).
Ctrl-C stops the run: finally steps and cleanup still run, and the log ends
with an event saying the run was interrupted (exit code 130). When the
console's reader goes away (pmrun x.yaml | head -1) the run stops the same
way, with exit code 141.`

type runFlags struct {
	vars     stringList
	logPath  string
	noLog    bool
	format   string
	junit    string
	report   string
	trace    string
	seed     string
	timeout  time.Duration
	repeat   int
	shard    string
	search   string
	failFast bool
	verbose  bool
	quiet    bool
	color    string
	replay   stringList

	timeoutSet bool // --timeout was given, 0 included
}

// given notes which of the flags cmd's command line gave, where the value
// alone cannot tell, and returns rf.
func (rf *runFlags) given(cmd *cobra.Command) *runFlags {
	rf.timeoutSet = cmd.Flags().Changed("timeout")
	return rf
}

// define defines the run flags on cmd: pmrun itself and pmrun run.
func (rf *runFlags) define(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.Var(&rf.vars, "var", "set a var the scenario declares: `NAME=VALUE`, VALUE read for the type of its value in the file (500 for a number); repeatable")
	fs.StringVar(&rf.logPath, "log", "pmrun.log", "append JSON events to `FILE`")
	fs.BoolVar(&rf.noLog, "no-log", false, "write no log file")
	fs.StringVar(&rf.format, "format", "text", "console output, `text|json`: a line per step for people, or the log's JSON events")
	fs.StringVar(&rf.junit, "junit", "", "write a JUnit XML report to `FILE` (a test suite per scenario, a test case per step)")
	fs.StringVar(&rf.report, "report", "", "write an HTML report to `FILE.html`: each scenario's outcome, a timeline of its steps, processes, threads, messages and items, and its steps with their errors")
	fs.StringVar(&rf.trace, "trace", "", "write the timeline to `FILE.json` in Chrome's trace event format, for ui.perfetto.dev or chrome://tracing")
	fs.StringVar(&rf.seed, "seed", "", "the random seed `N` for every scenario (default: the scenario's seed, else random; always logged)")
	durationVar(fs, &rf.timeout, "timeout", 0, "time limit per scenario, overriding its timeout: a `DUR` such as 30s or 2m")
	fs.IntVar(&rf.repeat, "repeat", 1, "run each scenario `N` times")
	fs.StringVar(&rf.shard, "shard", "", "run only shard `I/N` of the scenario files (1 ≤ I ≤ N), for splitting across CI workers")
	fs.StringVar(&rf.search, "search-shard", "", "run only shard `I/N` of every program search's runs (1 ≤ I ≤ N): each run's randomness comes from the seed and its number, so N workers with the same --seed share one search")
	fs.BoolVar(&rf.failFast, "fail-fast", false, "stop after the first scenario that fails, naming those not run")
	fs.BoolVarP(&rf.verbose, "verbose", "v", false, "debug events in the log, message payloads, process output on the console")
	fs.BoolVarP(&rf.quiet, "quiet", "q", false, "only failures and results on the console")
	fs.StringVar(&rf.color, "color", "auto", "colour the console's ✓ and ✗: `auto|always|never` (auto: on a terminal, unless NO_COLOR is set)")
	fs.Var(&rf.replay, "replay", "replay `SCHEDULE` (pmrun1:PROGRAM:…, as a program step printed it) in every program step of its program; repeatable")
	completeFlags(cmd, map[string]cobra.CompletionFunc{
		"var":          completeVars,
		"format":       fixedChoices("text\tfor people", "json\tthe log events"),
		"log":          cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		"junit":        fileWithExt("xml"),
		"report":       fileWithExt("html"),
		"trace":        fileWithExt("json"),
		"seed":         noCompletions,
		"repeat":       noCompletions,
		"shard":        noCompletions,
		"search-shard": noCompletions,
		"color":        fixedChoices("auto\ton a terminal, unless NO_COLOR is set", "always", "never"),
		"replay":       noCompletions,
	})
}

func (c *cli) run(rf *runFlags, paths []string) error {
	if len(paths) == 0 {
		return usageErrorf("run: no scenario given: try 'pmrun scenarios/demo.yaml'")
	}
	if rf.format != "text" && rf.format != "json" {
		return usageErrorf("--format %q: want text or json", rf.format)
	}
	look, err := lookOf(rf.color, c.stdout, os.Getenv)
	if err != nil {
		return err
	}
	if rf.repeat < 1 {
		return usageErrorf("--repeat %d: want 1 or more", rf.repeat)
	}
	if rf.timeoutSet && rf.timeout <= 0 {
		return usageErrorf("--timeout %s: want a time above 0, such as 30s (as timeout: in a file)", rf.timeout)
	}
	for _, sched := range rf.replay {
		if _, err := actions.ScheduleProgram(sched); err != nil {
			return usageErrorf("--replay: %v", err)
		}
	}
	programs := &actions.ProgramOptions{Schedules: rf.replay}
	opt := runner.Options{RunID: newRunID(), Verbose: rf.verbose, Timeout: rf.timeout,
		SectionOptions: map[string]any{actions.ProgramsKey: programs}}
	if rf.search != "" {
		i, n, err := parseShard(rf.search)
		if err != nil {
			return usageErrorf("--search-shard %q: %v", rf.search, err)
		}
		programs.SearchShard = actions.Shard{Index: i - 1, Count: n}
	}
	if rf.seed != "" {
		n, err := strconv.ParseUint(rf.seed, 10, 64)
		if err != nil {
			return usageErrorf("--seed %q: want a whole number", rf.seed)
		}
		opt.Seed = &n
	}
	load := lang.LoadOptions{Registry: actions.Registry(), Vars: map[string]string{}}
	for _, v := range rf.vars {
		name, value, err := lang.ParseVar(v)
		if err != nil {
			return usageErrorf("%v", err)
		}
		load.Vars[name] = value
	}
	files, err := scenarioFiles(paths)
	if err != nil {
		return err
	}
	if err := report.CheckOutputs(rf.outputs(), files); err != nil {
		return usageErrorf("%v", err)
	}
	if rf.shard != "" {
		if files, err = shard(files, rf.shard); err != nil {
			return err
		}
	}
	scenarios, err := loadAll(files, load)
	if err != nil {
		var loadErrs lang.LoadErrors
		if rf.junit != "" && errors.As(err, &loadErrs) {
			// CI reads the JUnit file: a file that does not load is a
			// failing test there too, not a missing report.
			if werr := report.WriteJUnitLoadErrors(context.Background(), rf.junit, loadErrs); werr != nil {
				fmt.Fprintf(c.stderr, "pmrun: --junit %v\n", werr)
			}
		}
		return err
	}
	if rf.shard == "" { // a shard's files may not be the ones a schedule is for
		if err := checkReplays(rf.replay, scenarios); err != nil {
			return err
		}
	}
	actions.StartGuard()
	// Loading a long file leaves tens of megabytes of garbage (YAML nodes,
	// expression trees). Collect it now, as part of start-up: otherwise the
	// collection it triggers runs beside the first steps, on one of their
	// cores, and lengthens the step durations the log reports.
	runtime.GC()

	ctx, hard, stop := interruptible()
	defer stop()
	opt.Hard = hard

	// Events: JSON lines to the log file, and to the console with --format json.
	var outputs []io.Writer
	var closers []*runner.LineBatcher
	if !rf.noLog {
		f, err := runner.OpenLog(rf.logPath)
		if err != nil {
			return usageErrorf("--log %v", err)
		}
		defer report.AbortWrites(hard, f)()
		b := runner.NewLineBatcher(f, 50*time.Millisecond)
		outputs, closers = append(outputs, b), append(closers, b)
	}
	consoleOut := newConsoleWriter(c.stdout)
	stdout := runner.NewLineBatcher(consoleOut, consoleInterval(c.stdout))
	defer stdout.Flush()
	var console *report.Console
	// A manual scheduler's game is shown in the console's order (what the
	// console has batched first), or on stderr beside JSON events.
	var gameOut io.Writer = &flushFirst{batch: stdout, w: consoleOut}
	if rf.format == "json" {
		outputs = append(outputs, stdout)
		gameOut = c.stderr
	} else {
		co := report.ConsoleOptions{Quiet: rf.quiet, Color: look.color, ASCII: look.ascii, Registry: actions.Registry()}
		if look.terminal {
			co.Terminal, co.Width = consoleOut, terminalWidth(c.stdout)
		}
		console = report.NewConsoleWith(stdout, co)
		opt.Reporter = console
	}
	programs.Terminal = actions.NewTerminal(c.stdin, gameOut, !isTerminal(c.stdin))
	if console != nil {
		programs.Terminal.HoldDuringGames(console.Hold)
	}
	live := console != nil && look.terminal && !rf.quiet
	level := hclog.Info
	if rf.verbose {
		level = hclog.Debug
	}
	showEvents := rf.verbose && console != nil
	var timeline *report.Timeline
	if rf.report != "" || rf.trace != "" {
		timeline = report.NewTimeline(actions.Registry(), 0, scenarios)
	}
	if len(outputs) > 0 || showEvents || timeline != nil || live {
		out := io.MultiWriter(outputs...)
		if len(outputs) == 1 {
			out = outputs[0] // the event log encodes straight into a LineBatcher
		}
		events := newEventLog(out, level)
		if showEvents {
			events.Tee(console.Event)
		}
		if timeline != nil {
			events.Tee(timeline.Record)
		}
		if live {
			events.Tee(console.Progress)
		}
		opt.Log = events
	}
	// outputFailed: an output could not be written (exit code 3).
	outputFailed := false
	closeLog := func() {
		for _, b := range closers {
			if err := b.Close(); err != nil {
				fmt.Fprintf(c.stderr, "pmrun: --log %s: %s\n", rf.logPath, outputError(err))
				outputFailed = true
			}
		}
		closers = nil
	}
	defer closeLog()

	ctx, stopPipe := stopWhenConsoleGone(ctx, consoleOut)
	defer stopPipe()

	log := opt.Log
	if log == nil {
		log = hclog.NewNullLogger()
	}
	log = log.With("run_id", opt.RunID)
	started := time.Now()
	log.Info("run started", "event", contract.RunStart, "files", len(files), "scenarios", len(scenarios)*rf.repeat, "seed", seedField(opt.Seed), "pid", os.Getpid())

	stopProgress := func() {}
	if console != nil {
		stopProgress = console.StartProgress()
	}
	var outcomes []*lang.Outcome
	var notRun []string // what --fail-fast skipped
	failed := false
loop:
	for k, sc := range scenarios {
		for i := 0; i < rf.repeat; i++ {
			if ctx.Err() != nil {
				break loop
			}
			o := runner.Run(ctx, sc, opt)
			outcomes = append(outcomes, o)
			if o.Status != lang.StatusPassed {
				failed = true
				if rf.failFast {
					notRun = skippedRuns(scenarios[k:], rf.repeat-i-1)
					break loop
				}
			}
		}
	}
	stopProgress()
	interrupted := errors.Is(context.Cause(ctx), runner.ErrInterrupted)
	// A parameter refused when its step ran is a mistake in the scenario
	// or its --var values, as one found at load: exit code 2.
	paramFailed := false
	for _, o := range outcomes {
		paramFailed = paramFailed || (o.Status == lang.StatusFailed && errors.As(o.Err, new(*lang.ParamError)))
	}
	status := "passed"
	switch {
	case interrupted:
		status = "interrupted"
	case failed:
		status = "failed"
	}
	passed := 0
	for _, o := range outcomes {
		if o.Status == lang.StatusPassed {
			passed++
		}
	}
	endArgs := []any{"event", contract.RunEnd, "status", status, "passed", passed, "failed", len(outcomes) - passed,
		"duration_ms", float64(time.Since(started).Microseconds()) / 1000}
	consoleClosed := errors.Is(context.Cause(ctx), errConsoleClosed)
	if interrupted {
		endArgs = append(endArgs, "interrupted", true)
	}
	if consoleClosed {
		endArgs = append(endArgs, "reason", errConsoleClosed.Error())
	}
	if len(notRun) > 0 {
		endArgs = append(endArgs, "not_run", notRun)
	}
	log.Info("run "+status, endArgs...)
	if console != nil && len(outcomes) > 1 {
		console.Summary(outcomes, time.Since(started))
	}
	if len(notRun) > 0 {
		// Which scenarios were not run, and why: on the console, or on
		// stderr when the console shows JSON events.
		w := io.Writer(stdout)
		if console == nil {
			w = c.stderr
		}
		fmt.Fprintf(w, "--fail-fast: stopped after %s failed; not run: %s\n", outcomes[len(outcomes)-1].Scenario.Name, strings.Join(notRun, ", "))
	}
	// The console first, so that a report sent to /dev/stdout comes after it.
	stdout.Flush()
	// A signal from here on abandons a write that blocks (a FIFO whose
	// reader stopped): after an interruption, the second signal does.
	writing := ctx
	if ctx.Err() != nil {
		writing = hard
	}
	wrote := func(flag string, err error) {
		if err != nil {
			fmt.Fprintf(c.stderr, "pmrun: %s %v\n", flag, err)
			outputFailed = true
		}
	}
	if rf.junit != "" {
		wrote("--junit", report.WriteJUnit(writing, rf.junit, outcomes))
	}
	if rf.trace != "" {
		wrote("--trace", timeline.WriteTraceFile(writing, rf.trace))
	}
	if rf.report != "" {
		wrote("--report", report.WriteHTMLFile(writing, rf.report, outcomes, timeline))
	}
	closeLog()
	switch {
	case consoleClosed:
		return &exitError{code: exitConsoleClosed, err: errConsoleClosed}
	case interrupted:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case paramFailed:
		return &exitError{code: exitUsage}
	case outputFailed:
		return &exitError{code: exitOutput}
	case failed:
		return &exitError{code: exitFailed}
	}
	return nil
}

// outputs are the files the run writes, for report.CheckOutputs.
func (rf *runFlags) outputs() []report.Output {
	var out []report.Output
	if !rf.noLog {
		out = append(out, report.Output{Flag: "--log", Path: rf.logPath})
	}
	for _, o := range []report.Output{{Flag: "--junit", Path: rf.junit}, {Flag: "--report", Path: rf.report}, {Flag: "--trace", Path: rf.trace}} {
		if o.Path != "" {
			o.Replace = true
			out = append(out, o)
		}
	}
	return out
}

// skippedRuns names the scenario runs that --fail-fast skipped: the
// remaining repeats of the first scenario, then every run of the rest.
func skippedRuns(scenarios []*lang.Scenario, moreRepeats int) []string {
	var out []string
	if moreRepeats > 0 {
		out = append(out, fmt.Sprintf("%s (%s, %d more %s)", scenarios[0].Name, scenarios[0].File, moreRepeats, plural(moreRepeats, "run", "runs")))
	}
	for _, sc := range scenarios[1:] {
		out = append(out, fmt.Sprintf("%s (%s)", sc.Name, sc.File))
	}
	return out
}

// outputError is the text of an error writing the log: its operation and
// reason, the file being named beside it.
func outputError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

func seedField(seed *uint64) any {
	if seed == nil {
		return "per scenario"
	}
	return *seed
}

// interruptible returns a context that the first SIGINT or SIGTERM cancels
// with cause [runner.ErrInterrupted], and one that a second signal cancels,
// to abandon cleanup as well.
func interruptible() (ctx, hard context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	hard, cancelHard := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		count := 0
		for {
			select {
			case <-sigs:
				count++
				if count == 1 {
					cancel(runner.ErrInterrupted)
				} else {
					cancelHard(errInterruptedTwice)
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, hard, func() {
		signal.Stop(sigs)
		close(done)
		cancel(nil)
		cancelHard(nil)
	}
}

// errInterruptedTwice is why a second Ctrl-C stops a finally step.
var errInterruptedTwice = errors.New("interrupted again: finally steps and cleanup abandoned")

// consoleInterval batches console output when nobody watches it live.
func consoleInterval(w io.Writer) time.Duration {
	if f, ok := fileOf(w); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			return 0
		}
	}
	return 100 * time.Millisecond
}

func newRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
