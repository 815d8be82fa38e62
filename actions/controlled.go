package actions

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/native"
	"github.com/pmrun/pmrun/actions/internal/picture"
	"github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/proc"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// The controlled action: a real, dynamically linked program (C, C++)
// under pmrun's scheduler (package native), its synchronization calls
// made one thread at a time through an LD_PRELOAD library (package
// preload), so that a failing interleaving is found and replayed exactly.

func init() {
	register(&Spec{
		Name: "controlled",
		Summary: "Runs a real, dynamically linked program (C, C++ on glibc's pthreads and semaphores) under pmrun's scheduler: one thread at a time, " +
			"pmrun choosing at every synchronization call, re-executing it run after run. A failure found (a deadlock, an assert, an exit status or output " +
			"not expected, a timeout) is the result (ok: false), not a failed step, with the schedule that replays it.",
		Params: []Param{
			{Name: "cmd", Kind: Strings, Required: true, Doc: "the program and its arguments, run without a shell, e.g. [./lost_update, \"1000\"]"},
			{Name: "env", Kind: StringMap, Doc: "variables added to its environment"},
			{Name: "dir", Kind: String, Doc: "its working folder (a relative cmd is found from it)"},
			{Name: "stdin", Kind: String, Doc: "text written to its standard input"},
			schedulerParam("thread that can go"), runsParam("executes the program", 100), depthParam, preemptionsParam,
			{Name: "replay", Kind: String, Doc: "a schedule (pmrun1:BINARY:HASH:…) to run exactly, instead of searching; --replay on the command line sets it for the steps of its binary"},
			{Name: "shrink", Kind: Bool, Default: true, Doc: "shrink a failing schedule to fewer context switches before showing it (each try executes the program: at most 40)"},
			{Name: "max_steps", Kind: Int, Default: native.DefaultMaxSteps, Min: intp(1), Max: intp(maxSteps), Doc: "a run that takes more steps (synchronization calls) fails with verdict max_steps (a spin, a livelock)"},
			{Name: "expect_exit", Kind: Int, Default: 0, Min: intp(0), Max: intp(255), Doc: "the exit status a run must end with"},
			{Name: "expect_stdout", Kind: String, Doc: "a regular expression the standard output (its last 64 KiB) must match somewhere"},
			{Name: "timeout", Kind: Duration, Default: native.DefaultTimeout, Doc: "the longest one run may take: past it the run fails with verdict timeout"},
		},
		Results: fieldsOf[controlledResult](),
		Check:   checkControlled,
		Events:  controlledEvents,
		Note:    controlledNote,
		Found:   programFound,
		New:     newControlled,
	})
}

// controlledResult shows one run: the first that failed, or else the
// last.
type controlledResult struct {
	OK       bool   `result:"ok" doc:"no run failed"`
	Verdict  string `result:"verdict" doc:"the shown run's: pass, deadlock, assert (an assert failed), signal, exit, output, timeout, misuse (a mutex unlocked by another thread) or max_steps"`
	Failure  string `result:"failure" doc:"what broke and where: FILE:LINE: message (the line from the binary's debug information, when it has some); empty on a pass"`
	Schedule string `result:"schedule" doc:"the shown run's interleaving as one line (pmrun1:BINARY:HASH:STEPS), tied to a hash of the binary; replay: or --replay runs it again exactly"`
	Replay   string `result:"replay" doc:"the command line that replays the shown failure; empty on a pass"`
	Run      int    `result:"run" doc:"the number of the shown run, from 0; -1 for a replay"`
	Runs     int    `result:"runs" doc:"how many runs were made"`
	Complete bool   `result:"complete" doc:"every run asked for was made"`
	Steps    int    `result:"steps" doc:"the shown run's steps: synchronization calls let go"`
	Switches int    `result:"switches" doc:"the shown run's context switches"`
	// OriginalSwitches are the shown failure's before it was shrunk.
	OriginalSwitches int           `result:"original_switches" doc:"the shown failure's context switches before it was shrunk"`
	Interleaving     string        `result:"interleaving" doc:"the shown run step by step, a column per thread: each call with its source line (OSTEP's style), the failure at the bottom"`
	Deadlock         bool          `result:"deadlock" doc:"the shown run deadlocked: no thread could go on, some had not ended"`
	Cycle            []string      `result:"cycle" doc:"a deadlock's circular wait: thread, what it waits for, the thread holding it, …, back to the first"`
	Explanation      string        `result:"explanation" doc:"a deadlock's explanation: every blocked thread, what it waits for at which line, who holds it or could release it"`
	Failures         int           `result:"failures" doc:"how many runs failed"`
	Threads          []string      `result:"threads" doc:"the shown run's threads, in the order they were made: main, then each named after its start routine (worker1, worker2), child1… for forked processes"`
	ExitCode         int           `result:"exit_code" doc:"the shown run's exit status, -1 when a signal killed it"`
	Signal           string        `result:"signal" doc:"the signal that killed the shown run (SIGABRT for an assert), or \"\""`
	Stdout           string        `result:"stdout" doc:"the shown run's standard output (its last 64 KiB)"`
	Stderr           string        `result:"stderr" doc:"the shown run's standard error (its last 64 KiB)"`
	Notes            []string      `result:"notes" doc:"what pmrun could not control in the shown run, and how it was made: a thread blocked in a call pmrun does not see (read, poll), let run; a process it did not see start; a replay that went on past its schedule; a search that found nothing in a program without pmrun_point: races on plain memory were not searched; a pass of random or pct (a sample of the runs) or of bounded short of every run: not a proof"`
	Bound            int           `result:"bound" doc:"bounded: every run with at most this many preemptions was made (-1: not even every run with none); 0 under the other schedulers"`
	PCTBound         float64       `result:"pct_bound" doc:"pct: the chance that one run finds a bug of the depth asked for, at least (1/(n·k^(d−1))); 0 under random"`
	Binary           string        `result:"binary" doc:"the binary's name and the hash of its bytes that schedules carry (NAME:HASH)"`
	Runtime          time.Duration `result:"runtime" doc:"how long the runs took"`
}

type controlledStep struct {
	cfg            native.Config
	scheduler      string
	replay, stdout string
	runs, depth    int
	preemptions    int
	maxSteps, exit int
	shrink         bool
}

func newControlled(a Args) (Action, error) {
	return &controlledStep{
		cfg: native.Config{
			Argv: a.Strings("cmd"), Env: a.StringMap("env"), Dir: a.String("dir"), Stdin: a.String("stdin"),
			Timeout: a.Duration("timeout"), Name: "controlled",
		},
		scheduler: a.String("scheduler"), replay: a.String("replay"), stdout: a.String("expect_stdout"),
		runs: a.Int("runs"), depth: a.Int("depth"), preemptions: a.Int("preemptions"), maxSteps: a.Int("max_steps"), exit: a.Int("expect_exit"),
		shrink: a.Bool("shrink"),
	}, nil
}

// checkControlled checks at load what literal parameters allow.
func checkControlled(s Static) []error {
	var errs []error
	if s.Has("cmd") && len(s.Strings("cmd")) == 0 {
		errs = append(errs, Paramf("cmd", "cmd is empty: give the program and its arguments"))
	}
	if s.Has("expect_stdout") {
		if _, err := regexp.Compile(s.String("expect_stdout")); err != nil {
			errs = append(errs, Paramf("expect_stdout", "not a regular expression: %v", err))
		}
	}
	if s.Has("replay") {
		if _, err := schedule.Parse(s.String("replay")); err != nil {
			errs = append(errs, Paramf("replay", "%v", err))
		}
	}
	if s.Has("timeout") && s.Duration("timeout") <= 0 {
		errs = append(errs, Paramf("timeout", "a run needs some time: give a duration above 0"))
	}
	return append(errs, checkDepth(s)...)
}

// The parameters of a search of a real program's runs that the
// controlled and scripts actions share.
var (
	depthParam       = Param{Name: "depth", Kind: Int, Default: 3, Min: intp(1), Max: intp(64), Doc: "pct: the depth of the bugs it looks for"}
	preemptionsParam = Param{Name: "preemptions", Kind: Int, Default: control.DefaultPreemptions, Min: intp(0), Max: intp(maxPreemptions),
		Doc: "bounded: the most preemptions a run may take; it stops after the bound that found a failure, or at runs (then incomplete)"}
)

// schedulerParam is the scheduler parameter; who is what random chooses
// among ("thread that can go").
func schedulerParam(who string) Param {
	return Param{Name: "scheduler", Kind: String, Default: control.Random, Enum: []string{control.Random, control.PCT, control.Bounded},
		Doc: "random: any " + who + ", uniformly; pct: priorities with depth-1 change points (Burckhardt et al.); bounded: every run with no preemption, then with one, … up to preemptions (CHESS)"}
}

// runsParam is the runs parameter, n by default; each run does anew.
func runsParam(anew string, n int) Param {
	return Param{Name: "runs", Kind: Int, Default: n, Min: intp(1), Max: intp(maxRuns), Doc: "how many runs: each " + anew + " anew"}
}

// checkDepth has the scheduler say whether it takes a depth: pct does,
// random not.
func checkDepth(s Static) []error {
	var errs []error
	if s.Has("depth") && s.Has("scheduler") {
		if st, err := control.For(control.Options{Scheduler: s.String("scheduler")}); err == nil {
			for _, e := range st.Check(nil, control.Options{Depth: 1}) {
				errs = append(errs, Paramf(e.Option, "%s", e.Msg))
			}
		}
	}
	return errs
}

func (s *controlledStep) Run(ctx context.Context, env *Env) (Result, error) {
	var ex native.Expect
	ex.Exit = s.exit
	if s.stdout != "" {
		re, err := regexp.Compile(s.stdout)
		if err != nil {
			return nil, Paramf("expect_stdout", "not a regular expression: %v", err)
		}
		ex.Stdout = re
	}
	p, err := native.Prepare(ctx, s.cfg)
	if err != nil {
		return nil, err
	}
	sched, err := s.replayFor(p, programOptions(env).Schedules)
	if err != nil {
		return nil, err
	}
	if sched != nil {
		if err := p.CheckSchedule(*sched); err != nil {
			return nil, fmt.Errorf("controlled %s: %w", p.Name, err)
		}
	}
	log := env.Log.With("program", p.Name)
	opts := control.Options{
		Scheduler: s.scheduler, Replay: sched, Runs: s.runs, Depth: s.depth, Preemptions: s.preemptions, Seed: uint64(env.Seed()),
		MaxSteps: s.maxSteps, Shrink: s.shrink,
		OnRun: func(r engine.RunInfo) {
			failure := ""
			if r.Failure != nil {
				failure = nativeFailure(r.Failure)
			}
			log.Info("run ended", "event", controlledRun.Name, "run", r.Run, "shown", r.Shown, "verdict", string(r.Verdict),
				"steps", r.Steps, "switches", r.Switches, "failure", failure)
		},
	}
	if sh := programOptions(env).SearchShard; sh.Count > 1 {
		opts.Shard = control.Shard{Index: sh.Index, Count: sh.Count}
	}
	th := p.Threads(ctx, ex)
	out, err := control.Run(ctx, control.ThreadsSystem(func() (engine.Threads, error) { return th, nil }), opts)
	notes, exit := th.Shown()
	if out.Note != "" {
		notes = append([]string{out.Note}, notes...)
	}
	if n := p.PassNote(); out.OK && sched == nil && n != "" {
		notes = append(notes, n)
	}
	res := controlledResultOf(out, notes, exit, p, hostOf(env).Rerun())
	if !out.OK && out.Failure != nil {
		log.Info("failure found", "event", controlledFound.Name, "verdict", res.Verdict, "run", res.Run,
			"schedule", res.Schedule, "interleaving", res.Interleaving)
	}
	env.Event(controlledShown.Name, "run shown", "program", p.Name, "run", res.Run, "verdict", res.Verdict,
		"view", s.picture(out, p, res, sched != nil, env.Host.File()))
	if err != nil {
		return resultOf(res), fmt.Errorf("controlled %s: %w", p.Name, err)
	}
	return resultOf(res), nil
}

// replayFor is the schedule the step replays: its replay parameter, else
// the first schedule of the command line made for its binary.
func (s *controlledStep) replayFor(p *native.Program, given []string) (*schedule.Schedule, error) {
	if s.replay != "" {
		sc, err := schedule.Parse(s.replay)
		if err != nil {
			return nil, Paramf("replay", "%v", err)
		}
		return &sc, nil
	}
	for _, text := range given {
		if sc, err := schedule.Parse(text); err == nil && sc.Program == p.Name {
			return &sc, nil
		}
	}
	return nil, nil
}

func controlledResultOf(o engine.Outcome, notes []string, exit proc.Exit, p *native.Program, rerun []string) controlledResult {
	r := controlledResult{
		OK: o.OK, Verdict: string(o.Verdict), Schedule: o.ScheduleText, Run: o.Run, Runs: o.Runs, Complete: o.Complete,
		Steps: o.Steps, Switches: o.Switches, OriginalSwitches: o.OriginalSwitches, Failures: o.Failures,
		ExitCode: exit.ExitCode, Signal: exit.Signal, Stdout: exit.Stdout, Stderr: exit.Stderr,
		Notes: notes, Bound: o.Bound, PCTBound: o.PCTBound, Binary: p.Name + ":" + p.Hash, Runtime: o.Runtime,
		Deadlock: o.Deadlock, Cycle: o.Cycle, Explanation: o.Explanation,
	}
	if r.Verdict == "" {
		r.Verdict = string(program.Pass)
	}
	for _, t := range o.Threads {
		r.Threads = append(r.Threads, t.Name)
	}
	if o.Interleaving != nil {
		r.Interleaving = o.Interleaving.Format()
	}
	if f := o.Failure; f != nil {
		r.Failure = nativeFailure(f)
		r.Replay = replayCommand(rerun, r.Schedule)
		if d := f.Deadlock; d != nil {
			r.Failure = strings.TrimPrefix(strings.SplitN(d.Text, "\n", 2)[0], "deadlock: ")
		}
	}
	return r
}

// nativeFailure says what broke and where: FILE:LINE: the rule, when the
// binary gives the line.
func nativeFailure(f *native.Failure) string {
	if f.Pos.File != "" {
		return f.Pos.String() + ": " + f.Rule()
	}
	return f.Rule()
}

var controlledRow = Row{Kind: WorkerRow, Key: []string{"program"}, Label: Text("controlled {program}")}

// controlledShown carries the run the step shows, laid out for the
// report (package view): the calls in order, each thread's lines of the
// source, a deadlock's graph, the search as numbers.
var controlledShown = &Event{Name: "controlled_shown", Row: stepsRow, View: "view", Console: searchLine}

// picture lays out the run o shows.
func (s *controlledStep) picture(o engine.Outcome, p *native.Program, r controlledResult, replayed bool, scenario string) *view.Run {
	var (
		calls  []picture.Call
		left   []program.Span
		before int // steps before the first of calls
	)
	if il := o.Interleaving; il != nil {
		rows := il.Rows
		left = il.Left
		if il.Skipped > 0 { // a long run: the picture shows the last steps the table kept
			for _, row := range rows[:il.SkippedAt] {
				left = append(left, program.Span{Thread: row.Thread, File: row.Pos.File, First: row.Pos.Line, Last: row.Pos.Line, Steps: 1})
			}
			rows, before = rows[il.SkippedAt:], il.SkippedAt+il.Skipped
		}
		for _, row := range rows {
			calls = append(calls, picture.Call{Thread: row.Thread, Op: row.Op, Pos: row.Pos, Failed: row.Failed})
		}
	}
	// The debug information names a source as the compiler was given it:
	// relative to the folder it ran in, the step's dir or the scenario's.
	read := func(file string) []byte {
		for _, dir := range []string{"", s.cfg.Dir, filepath.Dir(scenario)} {
			if b := readSource(filepath.Join(dir, file)); b != nil {
				return b
			}
		}
		return nil
	}
	v := picture.OfCalls(r.Threads, calls, o.Failure, read, left...)
	v.Skipped += before
	for i := range v.Steps {
		v.Steps[i].N += before
	}
	shown := shownRun{name: p.Name, schedule: r.Schedule, replay: r.Replay, verdict: r.Verdict, notes: r.Notes}
	shown.dress(v, o, replayed, s.scheduler, s.runs, s.depth)
	return v
}

// shownRun is what a drawn run of a real program (the controlled and
// scripts actions) says beside its steps, from the step's result.
type shownRun struct {
	name, schedule, replay, verdict string
	notes                           []string
}

// dress fills v's name, schedule, replay and play lines and notes, and the search
// that found it (scheduler, runs asked, pct depth) unless it was replayed.
func (r shownRun) dress(v *view.Run, o engine.Outcome, replayed bool, scheduler string, runs, depth int) {
	v.Program, v.Kind, v.Schedule, v.Replay = r.name, engine.KindSearch, r.schedule, r.replay
	if args, ok := strings.CutPrefix(r.replay, "pmrun run "); ok {
		v.Play = "pmrun play " + args // pmrun play runs the steps up to the one that replays it
	}
	v.Note = strings.Join(r.notes, "; ")
	if o.Failure == nil {
		v.Verdict = r.verdict
	}
	if replayed {
		v.Kind = engine.KindReplay
		return
	}
	v.Search = &view.Search{Scheduler: scheduler, Unit: "run", Runs: o.Runs, Failures: o.Failures, Complete: o.Complete,
		Limit: runs, Runtime: roundDuration(o.Runtime)}
	if o.How.Bounded {
		v.Search.Bounded, v.Search.Bound = true, o.Bound
	}
	if o.PCTBound > 0 {
		v.Search.PCTBound, v.Search.Depth = o.PCTBound, depth
		v.Search.Chance = -math.Expm1(float64(o.Runs) * math.Log1p(-o.PCTBound))
	}
}

var (
	// controlledRun is a run's end. A search's runs are counted, not drawn
	// one by one, and -v prints the first few: controlled_shown gives the
	// search as numbers.
	controlledRun = &Event{
		Name: "controlled_run", Row: controlledRow,
		Console: firstRuns,
		Count:   &Count{Noun: "runs"},
	}
	controlledFound = &Event{
		Name: "controlled_found", Row: stepsRow,
		Mark:    &Mark{Label: Text("{verdict} in run {run}: {schedule}"), Failed: Always},
		Console: controlledFoundLines,
	}
	controlledEvents = []*Event{controlledRun, controlledFound, controlledShown}
)

// shownRuns is how many of a search's runs -v prints, one line each.
const shownRuns = 5

// firstRuns is -v's line for one of the first runs of a search.
func firstRuns(o Occurrence) string {
	if run, ok := o.Fields.Int("run"); !ok || run >= shownRuns {
		return ""
	}
	return fmt.Sprintf("%s run %s: %s after %s steps", o.Fields.Str("program"), o.Fields.Str("run"), o.Fields.Str("verdict"), o.Fields.Str("steps"))
}

func controlledFoundLines(o Occurrence) string {
	where := "in run " + o.Fields.Str("run")
	if where == "in run -1" {
		where = "in the replay"
	}
	sched, _ := schedule.Printable(o.Fields.Str("schedule"))
	return fmt.Sprintf("%s found %s of %s; schedule %s\n%s", o.Fields.Str("verdict"), where, o.Fields.Str("program"),
		sched, strings.TrimRight(o.Fields.Str("interleaving"), "\n"))
}

// controlledNote is what the console prints under a step that found a
// failure, and what pmrun could not control.
func controlledNote(r Result) []string {
	var lines []string
	if ok, _ := r["ok"].(bool); !ok {
		if f, _ := r["failure"].(string); f != "" {
			where := fmt.Sprintf("in run %v (%v of %v runs failed)", r["run"], r["failures"], r["runs"])
			if run, _ := r["run"].(int); run < 0 {
				where = "in the replay"
			}
			lines = append(lines, fmt.Sprintf("found %v %s: %s", r["verdict"], where, f))
			if ex, _ := r["explanation"].(string); ex != "" {
				_, rest, _ := strings.Cut(ex, "\n") // its first line is the failure's
				lines = append(lines, strings.Split(rest, "\n")...)
			}
			if cmd, _ := r["replay"].(string); cmd != "" {
				lines = append(lines, "replay: "+printableReplay(cmd, resultFields(r).Str("schedule")))
			}
		}
	}
	if notes, _ := r["notes"].([]string); len(notes) > 0 {
		for _, n := range notes {
			lines = append(lines, "note: "+n)
		}
	}
	return lines
}

// PreloadLibrary returns the path of the interposition library the
// controlled action loads into a program, building it with the system C
// compiler first if it is not in the cache (`pmrun preload`).
func PreloadLibrary(ctx context.Context) (string, error) { return preload.Library(ctx) }

// PreloadHeader is pmrun.h: pmrun_point(name), a point of a program's own.
func PreloadHeader() string { return preload.HeaderText() }
