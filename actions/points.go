package actions

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/picture"
	"github.com/pmrun/pmrun/actions/internal/points"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// The scripts action: processes in any language (shell scripts most of
// all) that stop at named points (`pmrun point NAME`, package points),
// ordered by pmrun one point at a time, so that a failing order is found
// and replayed exactly.

func init() {
	register(&Spec{
		Name: "scripts",
		Summary: "Runs processes written in any language (shell scripts, Python, …) that stop at named points with `pmrun point NAME` (or its socket protocol), " +
			"one at a time between points, pmrun choosing which goes on, run after run, each run in a new empty folder. A failure found (a process's exit status, " +
			"a signal, a timeout) is the result (ok: false), not a failed step, with the schedule that replays it.",
		Params: []Param{
			{Name: "procs", Kind: StringMap, Required: true, Doc: "the processes: name → command line, run by /bin/sh -c in the run's folder (started in the order of their names)"},
			{Name: "env", Kind: StringMap, Doc: "variables added to each process's environment"},
			{Name: "name", Kind: String, Default: "scripts", Doc: "the name schedules give these processes (pmrun1:NAME:HASH:…): --replay replays a schedule on the step of its name"},
			schedulerParam("process stopped at a point"), runsParam("starts the processes", 50), depthParam, preemptionsParam,
			{Name: "replay", Kind: String, Doc: "a schedule (pmrun1:NAME:HASH:…) to run exactly, instead of searching; --replay on the command line sets it for the step of its name"},
			{Name: "shrink", Kind: Bool, Default: true, Doc: "shrink a failing schedule to fewer context switches before showing it (each try runs the processes: at most 40)"},
			{Name: "max_steps", Kind: Int, Default: 10000, Min: intp(1), Max: intp(maxSteps), Doc: "a run that passes more points fails with verdict max_steps"},
			{Name: "expect_exit", Kind: Int, Default: 0, Min: intp(0), Max: intp(255), Doc: "the exit status every process must end with"},
			{Name: "expect_stdout", Kind: StringMap, Doc: "process name → a regular expression its standard output (its last 64 KiB) must match somewhere; a run where one does not fails with verdict output"},
			{Name: "timeout", Kind: Duration, Default: points.DefaultTimeout, Doc: "the longest one run may take: past it the run fails with verdict timeout"},
			{Name: "watchdog", Kind: Duration, Default: points.DefaultWatchdog, Doc: "how long a process let go may take to stop at its next point or end; past it, it is let run free and the result notes it"},
		},
		Results: fieldsOf[pointsResult](),
		Check:   checkPoints,
		Events:  pointsEvents,
		Note:    controlledNote,
		Found:   programFound,
		New:     newPoints,
	})
}

// pointsResult shows one run: the first that failed, or else the last.
type pointsResult struct {
	OK           bool          `result:"ok" doc:"no run failed"`
	Verdict      string        `result:"verdict" doc:"the shown run's: pass, exit (a process's status was not expect_exit), output (a process's standard output did not match its expect_stdout), signal, timeout or max_steps"`
	Failure      string        `result:"failure" doc:"what broke: the process, its status and its last line of error output; empty on a pass"`
	Schedule     string        `result:"schedule" doc:"the shown run's order of points as one line (pmrun1:NAME:HASH:STEPS), tied to a hash of the commands; replay: or --replay runs it again exactly"`
	Replay       string        `result:"replay" doc:"the command line that replays the shown failure; empty on a pass"`
	Run          int           `result:"run" doc:"the number of the shown run, from 0; -1 for a replay"`
	Runs         int           `result:"runs" doc:"how many runs were made"`
	Complete     bool          `result:"complete" doc:"every run asked for was made"`
	Steps        int           `result:"steps" doc:"the shown run's steps: points passed"`
	Switches     int           `result:"switches" doc:"the shown run's context switches"`
	Interleaving string        `result:"interleaving" doc:"the shown run step by step, a column per process: the point each passed (with FILE:LINE where pmrun point --at gave it), the failure at the bottom"`
	Failures     int           `result:"failures" doc:"how many runs failed"`
	Threads      []string      `result:"threads" doc:"the processes' names, in the order the schedule numbers them"`
	ExitCodes    []int         `result:"exit_codes" doc:"each process's exit status in the shown run, in the order of threads (-1: killed by a signal)"`
	Stdout       []string      `result:"stdout" doc:"each process's standard output in the shown run (its last 64 KiB), in the order of threads"`
	Bound        int           `result:"bound" doc:"bounded: every run with at most this many preemptions was made (-1: not even every run with none); 0 under the other schedulers"`
	Notes        []string      `result:"notes" doc:"what pmrun could not control in the shown run: a process that neither stopped at a point nor ended within watchdog, let run; a pass of random or pct (a sample of the runs) or of bounded short of every run: not a proof"`
	Runtime      time.Duration `result:"runtime" doc:"how long the runs took"`
}

type pointsStep struct {
	cfg         points.Config
	scheduler   string
	replay      string
	runs        int
	depth       int
	preemptions int
	maxSteps    int
	shrink      bool
}

func newPoints(a Args) (Action, error) {
	procs := a.StringMap("procs")
	names := make([]string, 0, len(procs))
	for n := range procs {
		names = append(names, n)
	}
	slices.Sort(names)
	cfg := points.Config{Name: a.String("name"), Env: a.StringMap("env"), ExpectExit: a.Int("expect_exit"),
		Timeout: a.Duration("timeout"), Watchdog: a.Duration("watchdog")}
	for _, n := range names {
		cfg.Procs = append(cfg.Procs, points.Proc{Name: n, Cmd: procs[n]})
	}
	if expect := a.StringMap("expect_stdout"); len(expect) > 0 {
		cfg.ExpectStdout = map[string]*regexp.Regexp{}
		for n, text := range expect {
			if _, ok := procs[n]; !ok {
				return nil, Paramf("expect_stdout", "no process is called %s: the processes are %s", n, strings.Join(names, ", "))
			}
			re, err := regexp.Compile(text)
			if err != nil {
				return nil, Paramf("expect_stdout", "%s: not a regular expression: %v", n, err)
			}
			cfg.ExpectStdout[n] = re
		}
	}
	return &pointsStep{cfg: cfg, scheduler: a.String("scheduler"), replay: a.String("replay"), runs: a.Int("runs"),
		depth: a.Int("depth"), preemptions: a.Int("preemptions"), maxSteps: a.Int("max_steps"), shrink: a.Bool("shrink")}, nil
}

// checkPoints checks at load what literal parameters allow.
func checkPoints(s Static) []error {
	var errs []error
	if s.Has("procs") && len(s.StringMap("procs")) == 0 {
		errs = append(errs, Paramf("procs", "no process: give name: command line for each"))
	}
	if s.Has("expect_stdout") {
		procs, expect := s.StringMap("procs"), s.StringMap("expect_stdout")
		for _, n := range slices.Sorted(maps.Keys(expect)) {
			text := expect[n]
			if _, ok := procs[n]; !ok && s.Has("procs") {
				errs = append(errs, Paramf("expect_stdout", "no process is called %s: the processes are %s", n, strings.Join(slices.Sorted(maps.Keys(procs)), ", ")))
			}
			if _, err := regexp.Compile(text); err != nil {
				errs = append(errs, Paramf("expect_stdout", "%s: not a regular expression: %v", n, err))
			}
		}
	}
	if s.Has("name") && (s.String("name") == "" || strings.ContainsAny(s.String("name"), ": \t\r\n")) {
		errs = append(errs, Paramf("name", "%q cannot name a schedule: a name without spaces or colons", s.String("name")))
	}
	if s.Has("replay") {
		if _, err := schedule.Parse(s.String("replay")); err != nil {
			errs = append(errs, Paramf("replay", "%v", err))
		}
	}
	for _, d := range []string{"timeout", "watchdog"} {
		if s.Has(d) && s.Duration(d) <= 0 {
			errs = append(errs, Paramf(d, "give a duration above 0"))
		}
	}
	return append(errs, checkDepth(s)...)
}

func (s *pointsStep) Run(ctx context.Context, env *Env) (Result, error) {
	th, err := points.New(ctx, withPmrunOnPath(s.cfg))
	if err != nil {
		return nil, err
	}
	defer th.Close()
	id := th.Identity()
	sched, err := s.replayFor(id.Name, programOptions(env).Schedules)
	if err != nil {
		return nil, err
	}
	if sched != nil {
		if err := sched.Check(id.Name, id.Hash); err != nil {
			return nil, fmt.Errorf("scripts %s: %w (the commands changed since the schedule was made)", id.Name, err)
		}
	}
	log := env.Log.With("program", id.Name)
	opts := control.Options{
		Scheduler: s.scheduler, Replay: sched, Runs: s.runs, Depth: s.depth, Preemptions: s.preemptions, Seed: uint64(env.Seed()),
		MaxSteps: s.maxSteps, Shrink: s.shrink,
		OnRun: func(r engine.RunInfo) {
			failure := ""
			if r.Failure != nil {
				failure = r.Failure.Rule()
			}
			log.Info("run ended", "event", pointsRun.Name, "run", r.Run, "shown", r.Shown, "verdict", string(r.Verdict),
				"steps", r.Steps, "switches", r.Switches, "failure", failure)
		},
	}
	if sh := programOptions(env).SearchShard; sh.Count > 1 {
		opts.Shard = control.Shard{Index: sh.Index, Count: sh.Count}
	}
	out, err := control.Run(ctx, control.ThreadsSystem(func() (engine.Threads, error) { return th, nil }), opts)
	notes, exits := th.Shown()
	if out.Note != "" {
		notes = append([]string{out.Note}, notes...)
	}
	r := pointsResult{
		OK: out.OK, Verdict: string(out.Verdict), Schedule: out.ScheduleText, Run: out.Run, Runs: out.Runs, Complete: out.Complete,
		Steps: out.Steps, Switches: out.Switches, Failures: out.Failures, Threads: th.Names(), Notes: notes, Bound: out.Bound, Runtime: out.Runtime,
	}
	if r.Verdict == "" {
		r.Verdict = string(program.Pass)
	}
	for _, e := range exits {
		r.ExitCodes, r.Stdout = append(r.ExitCodes, e.ExitCode), append(r.Stdout, e.Stdout)
	}
	if out.Interleaving != nil {
		r.Interleaving = out.Interleaving.Format()
	}
	if f := out.Failure; f != nil {
		r.Failure = f.Rule()
		r.Replay = replayCommand(hostOf(env).Rerun(), r.Schedule)
		log.Info("failure found", "event", pointsFound.Name, "verdict", r.Verdict, "run", r.Run,
			"schedule", r.Schedule, "interleaving", r.Interleaving)
	}
	env.Event(scriptsShown.Name, "run shown", "program", id.Name, "run", r.Run, "verdict", r.Verdict,
		"view", s.picture(out, r, id.Name, sched != nil, env.Host.File()))
	if err != nil {
		return resultOf(r), fmt.Errorf("scripts %s: %w", id.Name, err)
	}
	return resultOf(r), nil
}

// picture lays out the run o shows for the report: the points each
// process passed, in order, and the lines of its script around them
// where the points said where they are (pmrun point --at).
func (s *pointsStep) picture(o engine.Outcome, r pointsResult, name string, replayed bool, scenario string) *view.Run {
	var calls []picture.Call
	if il := o.Interleaving; il != nil {
		for _, row := range il.Rows {
			calls = append(calls, picture.Call{Thread: row.Thread, Op: row.Op, Pos: row.Pos, Failed: row.Failed})
		}
	}
	// A script's path is as its process gave it: absolute, or relative
	// to the run's folder, which is gone; the scenario's folder is tried.
	read := func(file string) []byte {
		if b := readSource(file); b != nil || filepath.IsAbs(file) {
			return b
		}
		return readSource(filepath.Join(filepath.Dir(scenario), file))
	}
	v := picture.OfCalls(r.Threads, calls, o.Failure, read)
	shown := shownRun{name: name, schedule: r.Schedule, replay: r.Replay, verdict: r.Verdict, notes: r.Notes}
	shown.dress(v, o, replayed, s.scheduler, s.runs, s.depth)
	return v
}

// withPmrunOnPath puts the folder of the running pmrun first on the
// processes' PATH, so that `pmrun point` is this pmrun even where pmrun
// is not installed (./pmrun run …).
func withPmrunOnPath(cfg points.Config) points.Config {
	exe, err := os.Executable()
	if err != nil || filepath.Base(exe) != "pmrun" {
		return cfg
	}
	path, ok := cfg.Env["PATH"]
	if !ok {
		path = os.Getenv("PATH")
	}
	env := maps.Clone(cfg.Env)
	if env == nil {
		env = map[string]string{}
	}
	env["PATH"] = filepath.Dir(exe) + string(os.PathListSeparator) + path
	cfg.Env = env
	return cfg
}

// replayFor is the schedule the step replays: its replay parameter, else
// the first schedule of the command line made for its name.
func (s *pointsStep) replayFor(name string, given []string) (*schedule.Schedule, error) {
	if s.replay != "" {
		sc, err := schedule.Parse(s.replay)
		if err != nil {
			return nil, Paramf("replay", "%v", err)
		}
		return &sc, nil
	}
	for _, text := range given {
		if sc, err := schedule.Parse(text); err == nil && sc.Program == name {
			return &sc, nil
		}
	}
	return nil, nil
}

var pointsRow = Row{Kind: WorkerRow, Key: []string{"program"}, Label: Text("scripts {program}")}

var (
	// pointsRun is a run's end; -v prints the first few.
	pointsRun = &Event{
		Name: "scripts_run", Row: pointsRow,
		Console: firstRuns,
		Count:   &Count{Noun: "runs"},
	}
	pointsFound = &Event{
		Name: "scripts_found", Row: stepsRow,
		Mark:    &Mark{Label: Text("{verdict} in run {run}: {schedule}"), Failed: Always},
		Console: controlledFoundLines,
	}
	// scriptsShown carries the run the step shows, laid out for the
	// report (package view).
	scriptsShown = &Event{Name: "scripts_shown", Row: stepsRow, View: "view", Console: searchLine}
	pointsEvents = []*Event{pointsRun, pointsFound, scriptsShown}
)

// Point stops the calling process at point name until the pmrun that
// started it lets it go (`pmrun point [--at FILE:LINE] NAME`); at, if not
// "", says where the process is in its source. Outside a scripts step it
// returns at once.
func Point(ctx context.Context, name, at string) error { return points.Ask(ctx, name, at) }
