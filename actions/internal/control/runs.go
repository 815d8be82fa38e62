package control

import (
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// chooser picks the thread that takes a run's next step among enabled,
// the enabled threads in index order (never empty). Its error ends the
// drive: a replayed schedule that does not fit. A chooser that returns
// -1 (and no error) cuts the run short there: it neither passes nor
// fails (bounded cuts a run that only goes round in a loop).
type chooser interface {
	choose(r engine.Run, enabled []int) (int, error)
}

// runEnd is what a run left: its number, schedule and failure (nil: pass).
type runEnd struct {
	run      int
	steps    []int // shared with the driver: copy to keep
	switches int
	failure  *program.Failure
	final    engine.Run
	cut      bool // the chooser cut the run short: no verdict
}

// runDriver makes runs one after another, all within one drive: a run that
// ends starts the next on the same thread, with no trip through the
// coordinator. plan gives each run's number and chooser; end hears how
// each ended.
type runDriver struct {
	th       engine.Threads
	maxSteps int
	trace    func(engine.StepInfo)
	onRun    func(engine.RunInfo)
	shown    bool // the runs are the outcome's shown run
	// shrunk: the shown run's schedule was shrunk from that of a run of
	// these steps and switches.
	shrunk *[2]int
	record bool         // keep an interleaving
	stop   *atomic.Bool // the time budget ran out: end at the next run

	plan func() (run int, ch chooser, ok bool)
	end  func(e runEnd)

	// The run under way; s is nil between runs.
	run      int
	ch       chooser
	s        engine.Run
	spin     spinAware       // ch, when it hears of spins
	hash     engine.Hasher   // s, when it can hash its state (for spin)
	os       []engine.Thread // the threads' OS threads, for a trace
	steps    []int
	switches int
	enabled  []int
	il       *program.Interleaving
	arena    []int64 // where the interleaving's rows keep their values
	sizeHint int     // the steps a run is expected to take, for the rows
	err      error

	// A replay that goes round for ever ends as soon as that is seen:
	// with lasso > 0, the schedule's last lasso steps are a cycle, and the
	// run ends there when they brought it back to the state before them;
	// past the schedule's end, where the run goes on deterministically,
	// a (state, thread) met again (Brent's cycle finding, in constant
	// memory) means it would go round the steps since then for ever. Only
	// for runs that can hash their state.
	lasso int
	loop  loopWatch
	// looped, if not nil, is the failure of a run seen going round the
	// schedule's cycle (a starvation), instead of max_steps.
	looped *program.Failure
}

// loopWatch is what a replay remembers to see that it goes round for
// ever.
type loopWatch struct {
	hash         engine.Hasher
	replay       *replayChooser
	lassoAt      uint64 // the state before the schedule's cycle
	saved        uint64 // Brent: the (state, thread) kept, and when
	savedAt      int
	power, since int
}

// maxRowHint bounds the rows made room for at the start of a recorded
// run: the interleaving keeps no more than [program.MaxTableBytes] of them.
const maxRowHint = 4096

// values copies the shared values after a step into the arena, which
// grows a block at a time rather than a slice a step.
func (d *runDriver) values() []int64 {
	vals := d.s.Values()
	n := len(vals)
	if len(d.arena)+n > cap(d.arena) {
		d.arena = make([]int64, 0, max(1024, 64*n))
	}
	d.arena = append(d.arena, vals...)
	return d.arena[len(d.arena)-n : len(d.arena) : len(d.arena)]
}

func (d *runDriver) Next() int {
	for {
		if d.s == nil {
			if d.err != nil || d.stop != nil && d.stop.Load() {
				return -1
			}
			run, ch, ok := d.plan()
			if !ok {
				return -1
			}
			d.begin(run, ch)
			continue
		}
		d.enabled = d.s.AppendEnabled(d.enabled[:0])
		if len(d.enabled) == 0 {
			d.finish(d.s.End())
			continue
		}
		if n, ok := d.loops(); ok {
			if d.il != nil {
				d.il.Repeats = n
			}
			f := loopFailure(d.th.Identity().Pos, n)
			if d.looped != nil && n == d.lasso {
				c := *d.looped // what going round the schedule's cycle is
				f = &c
			}
			d.finish(f)
			continue
		}
		if len(d.steps) >= d.maxSteps {
			d.finish(maxStepsFailure(d.th.Identity().Pos, d.maxSteps))
			continue
		}
		t, err := d.ch.choose(d.s, d.enabled)
		if err != nil {
			d.err, d.s = err, nil
			return -1
		}
		if t < 0 {
			d.endRun(nil, true)
			continue
		}
		return t
	}
}

func (d *runDriver) begin(run int, ch chooser) {
	s, f, err := d.th.Start()
	if err != nil {
		d.err = fmt.Errorf("control: run %d: %w", run, err)
		return
	}
	if d.steps == nil && d.sizeHint > 0 {
		d.steps = make([]int, 0, d.sizeHint) // a replay: its length is known
	}
	d.run, d.ch, d.s, d.steps, d.switches = run, ch, s, d.steps[:0], 0
	d.spin, _ = ch.(spinAware)
	d.hash = nil
	if d.spin != nil {
		d.hash, _ = s.(engine.Hasher)
	}
	if d.trace != nil {
		d.os = d.th.OS()
	}
	if d.record {
		d.il = s.Table()
		d.il.Rows = make([]program.Row, 0, min(d.sizeHint, maxRowHint)) // the table keeps a few thousand rows at most
	}
	d.loop = loopWatch{power: 1}
	if rc, ok := ch.(*replayChooser); ok {
		if h, ok := s.(engine.Hasher); ok {
			d.loop.hash, d.loop.replay = h, rc
			d.markLasso()
		}
	}
	if f != nil {
		d.finish(f)
	}
}

// markLasso keeps the state before the schedule's cycle, when the run is
// there.
func (d *runDriver) markLasso() {
	if d.lasso > 0 && len(d.steps) == len(d.loop.replay.steps)-d.lasso {
		d.loop.lassoAt = d.loop.hash.Hash()
	}
}

// loops says whether the replay under way has been seen to go round for
// ever, and how many steps the round takes.
func (d *runDriver) loops() (int, bool) {
	w := &d.loop
	if w.hash == nil {
		return 0, false
	}
	n, end := len(d.steps), len(w.replay.steps)
	switch {
	case n < end:
		return 0, false
	case n == end && d.lasso > 0 && w.hash.Hash() == w.lassoAt:
		return d.lasso, true
	}
	key := w.hash.Hash() ^ uint64(w.replay.last+1)*0x9E3779B97F4A7C15
	if w.since > 0 && key == w.saved {
		return n - w.savedAt, true
	}
	if w.since == 0 || n-w.savedAt == w.power {
		if w.since > 0 {
			w.power *= 2
		}
		w.saved, w.savedAt = key, n
	}
	w.since++
	return 0, false
}

func (d *runDriver) Step(t int) {
	var before uint64
	if d.hash != nil {
		before = d.hash.Hash()
	}
	info, err := d.s.Step(t)
	if err != nil {
		d.err, d.s = fmt.Errorf("control: run %d, step %d: %w", d.run, len(d.steps)+1, err), nil
		return
	}
	if d.hash != nil && info.Failure == nil && d.hash.Hash() == before {
		d.spin.spun(t)
	}
	if n := len(d.steps); n > 0 && d.steps[n-1] != t {
		d.switches++
	}
	d.steps = append(d.steps, t)
	if d.loop.hash != nil {
		d.markLasso()
	}
	if d.il != nil {
		d.il.Add(program.Row{Thread: t, Op: info.Text, Pos: info.Pos, Values: d.values(), Log: info.Log, Failed: info.Failure != nil})
	}
	if d.trace != nil {
		d.trace(engine.StepInfo{Run: d.run, Shown: d.shown, Step: len(d.steps) - 1, Name: d.os[t].Name, TID: d.os[t].TID, StepInfo: info, Values: d.s.Values()})
	}
	if info.Failure != nil {
		d.finish(info.Failure)
	}
}

// finish ends the run under way.
func (d *runDriver) finish(f *program.Failure) { d.endRun(f, false) }

// endRun ends the run under way, which failed with f (nil: it did not) or
// was cut short.
func (d *runDriver) endRun(f *program.Failure, cut bool) {
	if d.il != nil {
		d.il.Failure = f
	}
	e := runEnd{run: d.run, steps: d.steps, switches: d.switches, failure: f, final: d.s, cut: cut}
	d.s = nil
	if d.end != nil {
		d.end(e)
	}
	if d.onRun != nil {
		v := program.Pass
		if f != nil {
			v = f.Verdict
		}
		ri := engine.RunInfo{Run: e.run, Shown: d.shown, Verdict: v, Failure: f, Steps: len(e.steps), Switches: e.switches, Cut: cut}
		if d.shrunk != nil {
			ri.Shrunk, ri.OriginalSteps, ri.OriginalSwitches = true, d.shrunk[0], d.shrunk[1]
		}
		d.onRun(ri)
	}
}

// loopFailure is the verdict of a run seen going round the same n steps
// for ever: max_steps, which it would reach.
func loopFailure(at program.Pos, n int) *program.Failure {
	what := "the same step"
	if n > 1 {
		what = fmt.Sprintf("the same %d steps", n)
	}
	return &program.Failure{Verdict: program.MaxSteps, Pos: at,
		Msg: fmt.Sprintf("the run goes round %s for ever: it came back to a state it was in (a livelock, or a spin nobody releases)", what)}
}

func maxStepsFailure(at program.Pos, limit int) *program.Failure {
	return &program.Failure{Verdict: program.MaxSteps, Pos: at,
		Msg: fmt.Sprintf("the run took %d steps without ending (a spin or a livelock?)", limit)}
}

// budget is a flag that goes up after d (never when d is 0), and a
// function that stops its timer.
func budget(d time.Duration) (*atomic.Bool, func()) {
	flag := new(atomic.Bool)
	if d <= 0 {
		return flag, func() {}
	}
	t := time.AfterFunc(d, func() { flag.Store(true) })
	return flag, func() { t.Stop() }
}

// spinAware is a chooser that hears of a step that changed nothing: the
// test of a spin that found its condition unchanged.
type spinAware interface {
	spun(t int)
}

// replayChooser takes the threads of a schedule in order; past its end it
// keeps the last thread while it is enabled, else takes the lowest enabled.
type replayChooser struct {
	th        engine.Threads
	names     []string
	system    string // the system's name, for NotFitError
	steps     []int
	i         int
	last      int
	continued int // steps taken past the schedule's end
}

func newReplayChooser(th engine.Threads, steps []int) *replayChooser {
	return &replayChooser{th: th, names: th.Names(), system: th.Identity().Name, steps: steps, last: -1}
}

func (c *replayChooser) choose(s engine.Run, enabled []int) (int, error) {
	if c.i < len(c.steps) {
		t := c.steps[c.i]
		c.i++
		if t >= len(c.names) { // a real program makes its threads as it runs
			c.names = c.th.Names()
		}
		if err := fits(c.names, c.system, s, c.i, t); err != nil {
			return -1, err
		}
		c.last = t
		return t, nil
	}
	c.continued++
	if c.last >= 0 && s.IsEnabled(c.last) {
		return c.last, nil
	}
	c.last = enabled[0]
	return c.last, nil
}

// NotFitError is a schedule that names a thread that cannot take the step.
type NotFitError struct {
	Step   int // from 1
	Thread string
	Reason string
}

func (e *NotFitError) Error() string {
	return fmt.Sprintf("the schedule does not fit: step %d names thread %s, %s", e.Step, e.Thread, e.Reason)
}

// fits says whether thread t can take step n (from 1) in run s of
// program system, whose threads are names.
func fits(names []string, system string, s engine.Run, n, t int) error {
	if t < 0 || t >= len(names) {
		return &NotFitError{Step: n, Thread: fmt.Sprintf("#%d", t), Reason: fmt.Sprintf("but program %s has %d threads", system, len(names))}
	}
	if s.IsEnabled(t) {
		return nil
	}
	e := &NotFitError{Step: n, Thread: names[t]}
	if a, ok := s.Next(t); ok {
		e.Reason = "which is blocked on " + a.Text
	} else {
		e.Reason = "which has finished"
	}
	return e
}
