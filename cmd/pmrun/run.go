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
	fs.Var(&rf.replay, "replay", "replay `SCHEDULE` (pmrun1:PROGRAM:…, as a program step printed it, or @FILE holding one) in every program step of its program; repeatable")
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
	look, err := rf.check(paths, c.stdout)
	if err != nil {
		return err
	}
	opt, programs, load, err := rf.options()
	if err != nil {
		return err
	}
	files, scenarios, err := c.load(rf, paths, load)
	if err != nil {
		return err
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
	out, err := c.openOutputs(rf, look, opt.RunID, scenarios, hard)
	if err != nil {
		return err
	}
	defer out.close()
	opt.Reporter, opt.Log = out.reporter(), out.log.logger()
	programs.Terminal = out.terminal(c)
	ctx, stopPipe := stopWhenConsoleGone(ctx, out.consoleOut)
	defer stopPipe()

	out.log.start("files", len(files), "scenarios", len(scenarios)*rf.repeat, "seed", seedField(opt.Seed))
	r := runAll(ctx, scenarios, opt, rf.repeat, rf.failFast, out.console)
	r.logEnd(ctx, out.log)
	c.summarize(r, out)
	// The console first, so that a report sent to /dev/stdout comes after it.
	out.stdout.Flush()
	outputFailed := c.writeOutputs(writingContext(ctx, hard), rf, r.outcomes, out.timeline)
	if err := out.log.close(); err != nil {
		fmt.Fprintf(c.stderr, "pmrun: --log %s: %s\n", rf.logPath, outputError(err))
		outputFailed = true
	}
	return r.exit(ctx, outputFailed)
}

// check checks the flags that need no file, and returns how the console
// looks.
func (rf *runFlags) check(paths []string, stdout io.Writer) (consoleLook, error) {
	if len(paths) == 0 {
		return consoleLook{}, usageErrorf("run: no scenario given: try 'pmrun scenarios/demo.yaml'")
	}
	if rf.format != "text" && rf.format != "json" {
		return consoleLook{}, usageErrorf("--format %q: want text or json", rf.format)
	}
	look, err := lookOf(rf.color, stdout, os.Getenv)
	if err != nil {
		return consoleLook{}, err
	}
	if rf.repeat < 1 {
		return consoleLook{}, usageErrorf("--repeat %d: want 1 or more", rf.repeat)
	}
	if rf.timeoutSet && rf.timeout <= 0 {
		return consoleLook{}, usageErrorf("--timeout %s: want a time above 0, such as 30s (as timeout: in a file)", rf.timeout)
	}
	for i, sched := range rf.replay {
		if rf.replay[i], err = readSchedule(sched); err != nil {
			return consoleLook{}, usageErrorf("--replay %s: %v", sched, err)
		}
		if _, err := actions.ScheduleProgram(rf.replay[i]); err != nil {
			return consoleLook{}, usageErrorf("--replay: %v", err)
		}
	}
	return look, nil
}

// options returns what the flags ask of the runs and of the loading of
// their files; programs are the options of the program steps, in
// opt.SectionOptions.
func (rf *runFlags) options() (opt runner.Options, programs *actions.ProgramOptions, load lang.LoadOptions, err error) {
	programs = &actions.ProgramOptions{Schedules: rf.replay}
	opt = runner.Options{RunID: newRunID(), Verbose: rf.verbose, Timeout: rf.timeout,
		SectionOptions: map[string]any{actions.ProgramsKey: programs}}
	if rf.search != "" {
		i, n, err := parseShard(rf.search)
		if err != nil {
			return opt, nil, load, usageErrorf("--search-shard %q: %v", rf.search, err)
		}
		programs.SearchShard = actions.Shard{Index: i - 1, Count: n}
	}
	if rf.seed != "" {
		n, err := strconv.ParseUint(rf.seed, 10, 64)
		if err != nil {
			return opt, nil, load, usageErrorf("--seed %q: want a whole number", rf.seed)
		}
		opt.Seed = &n
	}
	load = lang.LoadOptions{Registry: actions.Registry(), Vars: map[string]string{}}
	for _, v := range rf.vars {
		name, value, err := lang.ParseVar(v)
		if err != nil {
			return opt, nil, load, usageErrorf("%v", err)
		}
		load.Vars[name] = value
	}
	return opt, programs, load, nil
}

// load finds the scenario files of paths (--shard's share), checks that
// the outputs would not overwrite them, and loads them all. With --junit,
// a file that does not load is written there as a failing test: CI reads
// the JUnit file.
func (c *cli) load(rf *runFlags, paths []string, opt lang.LoadOptions) ([]string, []*lang.Scenario, error) {
	files, err := scenarioFiles(paths)
	if err != nil {
		return nil, nil, err
	}
	if err := report.CheckOutputs(rf.outputs(), files); err != nil {
		return nil, nil, usageErrorf("%v", err)
	}
	if rf.shard != "" {
		if files, err = shard(files, rf.shard); err != nil {
			return nil, nil, err
		}
	}
	scenarios, err := loadAll(files, opt)
	if err != nil {
		var loadErrs lang.LoadErrors
		if rf.junit != "" && errors.As(err, &loadErrs) {
			if werr := report.WriteJUnitLoadErrors(context.Background(), rf.junit, loadErrs); werr != nil {
				fmt.Fprintf(c.stderr, "pmrun: --junit %v\n", werr)
			}
		}
		return nil, nil, err
	}
	if rf.shard == "" { // a shard's files may not be the ones a schedule is for
		if err := checkReplays(rf.replay, scenarios); err != nil {
			return nil, nil, err
		}
	}
	return files, scenarios, nil
}

// runAll runs each scenario repeat times, until ctx ends or, with
// failFast, one fails.
func runAll(ctx context.Context, scenarios []*lang.Scenario, opt runner.Options, repeat int, failFast bool, console *report.Console) runResult {
	stopProgress := func() {}
	if console != nil {
		stopProgress = console.StartProgress()
	}
	defer stopProgress()
	var r runResult
	for k, sc := range scenarios {
		for i := 0; i < repeat; i++ {
			if ctx.Err() != nil {
				return r
			}
			o := runner.Run(ctx, sc, opt)
			r.outcomes = append(r.outcomes, o)
			if o.Status != lang.StatusPassed {
				r.failed = true
				if failFast {
					r.notRun = skippedRuns(scenarios[k:], repeat-i-1)
					return r
				}
			}
		}
	}
	return r
}

// runResult is what the runs of pmrun run gave.
type runResult struct {
	outcomes []*lang.Outcome
	failed   bool     // a run did not pass
	notRun   []string // what --fail-fast skipped
}

// status is the whole run's, as run_end says it.
func (r runResult) status(ctx context.Context) string {
	switch {
	case errors.Is(context.Cause(ctx), runner.ErrInterrupted):
		return "interrupted"
	case r.failed:
		return "failed"
	}
	return "passed"
}

// logEnd logs run_end: the status, how many runs passed and failed, and
// why the run stopped early if it did.
func (r runResult) logEnd(ctx context.Context, log *runLog) {
	passed := 0
	for _, o := range r.outcomes {
		if o.Status == lang.StatusPassed {
			passed++
		}
	}
	fields := []any{"passed", passed, "failed", len(r.outcomes) - passed, "duration_ms", log.durationMS()}
	if errors.Is(context.Cause(ctx), runner.ErrInterrupted) {
		fields = append(fields, "interrupted", true)
	}
	if errors.Is(context.Cause(ctx), errConsoleClosed) {
		fields = append(fields, "reason", errConsoleClosed.Error())
	}
	if len(r.notRun) > 0 {
		fields = append(fields, "not_run", r.notRun)
	}
	log.end(hclog.Info, r.status(ctx), fields...)
}

// summarize ends the console: the line of a run of several scenarios, and
// which scenarios --fail-fast did not run, and why (on stderr when the
// console shows JSON events).
func (c *cli) summarize(r runResult, out *runOutputs) {
	if out.console != nil && len(r.outcomes) > 1 {
		out.console.Summary(r.outcomes, out.log.elapsed())
	}
	if len(r.notRun) > 0 {
		w := io.Writer(out.stdout)
		if out.console == nil {
			w = c.stderr
		}
		fmt.Fprintf(w, "--fail-fast: stopped after %s failed; not run: %s\n", r.outcomes[len(r.outcomes)-1].Scenario.Name, strings.Join(r.notRun, ", "))
	}
}

// writeOutputs writes the JUnit file, the trace and the HTML report that
// the flags ask for; it reports whether one could not be written.
func (c *cli) writeOutputs(ctx context.Context, rf *runFlags, outcomes []*lang.Outcome, timeline *report.Timeline) (failed bool) {
	wrote := func(flag string, err error) {
		if err != nil {
			fmt.Fprintf(c.stderr, "pmrun: %s %v\n", flag, err)
			failed = true
		}
	}
	if rf.junit != "" {
		wrote("--junit", report.WriteJUnit(ctx, rf.junit, outcomes, report.JUnitRun{SearchShard: rf.search}))
	}
	if rf.trace != "" {
		wrote("--trace", timeline.WriteTraceFile(ctx, rf.trace))
	}
	if rf.report != "" {
		wrote("--report", report.WriteHTMLFile(ctx, rf.report, outcomes, timeline))
	}
	return failed
}

// exit is how pmrun run ends: its error, whose exit code says why.
func (r runResult) exit(ctx context.Context, outputFailed bool) error {
	// A parameter refused when its step ran is a mistake in the scenario
	// or its --var values, as one found at load: exit code 2.
	paramFailed := false
	for _, o := range r.outcomes {
		paramFailed = paramFailed || (o.Status == lang.StatusFailed && errors.As(o.Err, new(*lang.ParamError)))
	}
	switch {
	case errors.Is(context.Cause(ctx), errConsoleClosed):
		return &exitError{code: exitConsoleClosed, err: errConsoleClosed}
	case errors.Is(context.Cause(ctx), runner.ErrInterrupted):
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case paramFailed:
		return &exitError{code: exitUsage}
	case outputFailed:
		return &exitError{code: exitOutput}
	case r.failed:
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

// writingContext is the context of the writes after the runs: a signal
// from then on abandons a write that blocks (a FIFO whose reader
// stopped); after an interruption, the second signal does.
func writingContext(ctx, hard context.Context) context.Context {
	if ctx.Err() != nil {
		return hard
	}
	return ctx
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
