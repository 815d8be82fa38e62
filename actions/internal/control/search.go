package control

import (
	"context"
	"fmt"
	"math/big"
	"slices"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
	"github.com/pmrun/pmrun/actions/internal/statespace"
)

// found is a run a search keeps: the first that failed, or the last.
type found struct {
	run     int
	steps   []int
	failure *program.Failure
	// repeats, for a run that goes on for ever (a lasso), is how many of
	// the last steps go round: after them the run is back where it was
	// before them.
	repeats int
}

func keep(e runEnd) *found {
	return &found{run: e.run, steps: slices.Clone(e.steps), failure: e.failure}
}

// searchResult is what a searching strategy found, before the shown run
// is shrunk and replayed.
type searchResult struct {
	first, last          *found
	runs, failures       int
	complete             bool
	states, trans        int
	interleavings        *big.Int
	failingInterleavings *big.Int
	cyclic               bool
	pctBound             float64
	pctSteps             int
	bound                int // bounded: every run with at most this many preemptions was made
	note                 string
	// stopped says why the search stopped before it did all it was asked,
	// and what to do about it; "" when it did.
	stopped string
	space   *statespace.Result // exhaustive: what the search of the states found, for tests
}

// searcher is what a searching strategy does on the threads: make its
// runs and say what it found.
type searcher func(ctx context.Context, th engine.Threads, opts Options) (searchResult, error)

// Search explores p's interleavings on real threads, one thread running at
// a time, with the strategy opts.Scheduler names (random when empty): it
// is [Run] on p's program threads.
func Search(ctx context.Context, p *program.Program, opts Options) (engine.Outcome, error) {
	return Run(ctx, ProgramSystem(p), opts)
}

// search is what every searching strategy does around its runs: start the
// threads, let find make the runs, then show the first failure it found
// (shrunk if opts.Shrink) or, when none, the last run, replayed on the
// threads with every step recorded. A failure of the system is in the
// Outcome (OK false), not an error; the error is for the search itself: a
// stuck thread ([StuckError]), ctx ending (the Outcome then says what was
// done), or threads that could not be started. A search that stopped
// before it did all it was asked and found no failure is incomplete.
func search(ctx context.Context, sys *System, opts Options, how engine.How, find searcher) (engine.Outcome, error) {
	th, err := sys.Threads()
	if err != nil {
		return engine.Outcome{How: how, Run: -1, Verdict: program.Pass}, err
	}
	opts.forEver = sys.Program != nil && len(sys.Program.ProgressThreads()) > 0
	out, err := show(ctx, th, opts, find)
	out.How = how
	judge(&out)
	if err == nil {
		noteSample(&out, sys)
	}
	return out, err
}

// noteSample says, of a search that found no failure after the runs it
// was asked for but only sampled the runs (random, pct, os), that its
// pass proves nothing of the runs it did not make, and what would:
// exhaustive for a program, bounded for a system without a model.
// Bounded says so itself, when its bound left runs out.
func noteSample(o *engine.Outcome, sys *System) {
	if !o.OK || o.Verdict != program.Pass || !o.Complete || o.How.Proof || o.How.Bounded || o.Runs == 0 {
		return
	}
	next := "scheduler: exhaustive searches every state"
	if sys.Program == nil {
		next = "scheduler: bounded makes every run up to a number of preemptions"
	}
	note := fmt.Sprintf("%s found no failure: a sample of the runs, not a proof (%s)", plural(o.Runs, o.How.Scheduler+" run"), next)
	if sys.Program != nil && len(sys.Program.ProgressThreads()) > 0 {
		note += "; whether a thread can starve (progress steps) only exhaustive judges"
	}
	if o.Note != "" {
		note = o.Note + "; " + note
	}
	o.Note = note
}

func show(ctx context.Context, th engine.Threads, opts Options, find searcher) (engine.Outcome, error) {
	res, err := find(ctx, th, opts)
	out := engine.Outcome{
		OK: res.failures == 0, Verdict: program.Pass, Run: -1, Runs: res.runs, Complete: res.complete && err == nil,
		Failures: res.failures, States: res.states, Transitions: res.trans,
		Interleavings: res.interleavings, FailingInterleavings: res.failingInterleavings, Cyclic: res.cyclic,
		PCTBound: res.pctBound, PCTSteps: res.pctSteps, Bound: res.bound, Note: res.note,
	}
	if res.stopped != "" {
		out.Note = res.stopped
	}
	if err != nil {
		if f := res.first; f != nil { // what was found before the search was stopped, not replayed
			out.Run, out.Failure, out.Verdict = f.run, f.failure, verdictOf(f.failure)
			out.Schedule = scheduleOf(th, f.steps)
			out.ScheduleText = out.Schedule.String()
			out.Steps, out.Switches = len(f.steps), schedule.Switches(f.steps)
			out.OriginalSteps, out.OriginalSwitches = out.Steps, out.Switches
		}
		return out, err
	}
	shown := res.first
	if shown == nil {
		shown = res.last
	}
	if shown == nil {
		return out, nil
	}
	steps, want, repeats := shown.steps, shown.failure, shown.repeats
	out.OriginalSteps, out.OriginalSwitches = len(steps), schedule.Switches(steps)
	if want != nil && want.Verdict == program.MaxSteps && repeats == 0 {
		steps, repeats = lassoOf(ctx, th, steps) // a run that took max_steps, shown as the loop it went round
	}
	if want != nil && opts.Shrink {
		steps, want = shrink(ctx, th, steps, want, opts.MaxSteps, res.space != nil)
	}
	var shrunk *[2]int
	if len(steps) != out.OriginalSteps || schedule.Switches(steps) != out.OriginalSwitches {
		shrunk = &[2]int{out.OriginalSteps, out.OriginalSwitches}
	}
	var looped *program.Failure
	if want != nil && want.Verdict == program.Starvation {
		looped = want // the replay comes back where the cycle starts
	}
	run, _, err := replayOn(ctx, th, steps, shown.run, shrunk, opts, repeats, looped)
	if err != nil {
		return out, err
	}
	if !sameFailure(run.failure, want) {
		return out, fmt.Errorf("control: run %d replayed on the real threads ended %s, the search saw %s", shown.run, describe(run.failure), describe(want))
	}
	if want != nil && want.Verdict == program.MaxSteps && run.failure != nil && res.space != nil {
		run.failure.Msg = want.Msg // exhaustive says why no run can end
		if run.il != nil {
			run.il.Failure = run.failure
		}
	}
	out.Run = shown.run
	fill(&out, th, run)
	return out, nil
}

// judge makes a search that stopped before it did all it was asked, and
// found no failure, incomplete: not a pass, whatever its last run did.
func judge(o *engine.Outcome) {
	if !o.Complete && o.Failures == 0 {
		o.OK, o.Verdict = false, program.Incomplete
	}
}

// scheduleOf is steps as a schedule of th.
func scheduleOf(th engine.Threads, steps []int) schedule.Schedule {
	id := th.Identity()
	return schedule.Schedule{Program: id.Name, Hash: id.Hash, Steps: steps}
}

// shownRun is the shown run, replayed.
type shownRun struct {
	steps    []int
	switches int
	failure  *program.Failure
	final    engine.Run
	il       *program.Interleaving
}

// replayOn replays steps on th, recording every step; past the end of
// steps it goes on as replayChooser does, and says how many steps that
// took. shrunk is the steps and switches of the run that steps were
// shrunk from (nil: they were not), for opts.OnRun; lasso, when not 0,
// is how many last steps of steps go round for ever, and looped, if not
// nil, the failure of a run seen going round them (else max_steps).
func replayOn(ctx context.Context, th engine.Threads, steps []int, run int, shrunk *[2]int, opts Options, lasso int, looped *program.Failure) (shownRun, int, error) {
	var out shownRun
	ch := newReplayChooser(th, steps)
	planned := false
	d := &runDriver{th: th, maxSteps: opts.MaxSteps, trace: opts.Trace, onRun: opts.OnRun, shown: true, shrunk: shrunk, record: !opts.NoInterleaving, sizeHint: min(len(steps)+1, opts.MaxSteps), lasso: lasso, looped: looped}
	d.plan = func() (int, chooser, bool) {
		if planned {
			return 0, nil, false
		}
		planned = true
		return run, ch, true
	}
	d.end = func(e runEnd) {
		out = shownRun{steps: slices.Clone(e.steps), switches: e.switches, failure: e.failure, final: e.final, il: d.il}
	}
	if err := th.Drive(ctx, d, opts.Watchdog); err != nil {
		return out, 0, err
	}
	if d.err != nil {
		return out, 0, d.err
	}
	return out, ch.continued, nil
}

// fill sets the fields that describe the shown run.
func fill(o *engine.Outcome, th engine.Threads, r shownRun) {
	o.Schedule = scheduleOf(th, r.steps)
	o.ScheduleText = o.Schedule.String()
	o.Steps, o.Switches = len(r.steps), r.switches
	o.Interleaving = r.il
	o.Failure = r.failure
	o.Verdict = verdictOf(r.failure)
	if r.final != nil {
		o.Final = r.final.Final()
	}
	if f := r.failure; f != nil && f.Deadlock != nil {
		o.Deadlock, o.Cycle, o.Explanation = true, f.Deadlock.Cycle, f.Deadlock.Text
	}
}

func verdictOf(f *program.Failure) program.Verdict {
	if f == nil {
		return program.Pass
	}
	return f.Verdict
}

func describe(f *program.Failure) string {
	if f == nil {
		return "pass"
	}
	return fmt.Sprintf("%s by %q at %s", f.Verdict, f.Thread, f.Pos)
}

// sameFailure says whether two runs failed alike: the same verdict at the
// same place (both nil: both passed).
func sameFailure(a, b *program.Failure) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Verdict == b.Verdict && a.Pos == b.Pos && a.Thread == b.Thread
}

// searchRuns makes independent runs, numbered from 0, the shard's share
// of them in order, each with the chooser newChooser gives it (random and
// pct draw it from (seed, run)). With probe set, a probe run with that
// chooser comes first (run -1): its verdict is not reported.
func searchRuns(ctx context.Context, th engine.Threads, opts Options, newChooser func(run int) chooser, probe chooser) (searchResult, error) {
	var res searchResult
	next, stride := 0, 1
	if !opts.Shard.whole() {
		next, stride = opts.Shard.Index, opts.Shard.Count
	}
	last := &found{}
	stop, release := budget(opts.Budget)
	defer release()
	d := &runDriver{th: th, maxSteps: opts.MaxSteps, trace: opts.Trace, onRun: opts.OnRun, stop: stop}
	d.plan = func() (int, chooser, bool) {
		if probe != nil {
			p := probe
			probe = nil
			return -1, p, true
		}
		if next >= opts.Runs {
			return 0, nil, false
		}
		r := next
		next += stride
		return r, newChooser(r), true
	}
	cut := 0
	d.end = func(e runEnd) {
		if e.run < 0 {
			return
		}
		res.runs++
		if opts.forEver && e.failure != nil && e.failure.Verdict == program.MaxSteps {
			cut++ // a run of a program that need not end, cut: not a failure
			return
		}
		if e.failure != nil {
			res.failures++
			if res.first == nil {
				res.first = keep(e)
			}
		}
		last.run, last.steps, last.failure = e.run, append(last.steps[:0], e.steps...), e.failure
		res.last = last
	}
	err := th.Drive(ctx, d, opts.Watchdog)
	if err == nil {
		err = d.err
	}
	res.complete = next >= opts.Runs
	if !res.complete {
		why := "was stopped"
		if stop.Load() {
			why = "ran out of time"
		}
		res.stopped = fmt.Sprintf("the search %s after %d of its %d runs", why, res.runs, opts.Runs)
	}
	if res.runs == 0 && err == nil {
		res.note = fmt.Sprintf("shard %s has no runs of %d", opts.Shard, opts.Runs)
	}
	if cut > 0 {
		res.note = fmt.Sprintf("%d of %s went on past max_steps (%d) and %s cut: the program has progress steps, so its runs need not end, and a run cut proves nothing of what came after", cut, plural(res.runs, "run"), opts.MaxSteps, map[bool]string{true: "was", false: "were"}[cut == 1])
	}
	return res, err
}
