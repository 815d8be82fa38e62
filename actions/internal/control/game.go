package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// Game is a run in which the caller chooses every step: the manual
// scheduler, where a person is the scheduler (as in The Deadlock Empire
// and Downey's simulator). Each step is taken by the real OS thread whose
// step it is, one at a time, as in a search; between steps the caller
// shows the state and asks who goes next, for as long as it likes (no
// watchdog runs between steps). [Game.Undo] takes a step back: the run's
// whole state is the model's (the threads keep nothing of their own), so
// going back is restoring the state before the step (rebuilt on the
// model from one kept a few steps earlier). [Game.Finish]
// replays the steps kept on the real threads, with every step recorded,
// and returns the outcome, as [Replay] does.
//
// A Game is used by one goroutine at a time.
type Game struct {
	p     *program.Program
	th    engine.Threads
	opts  Options
	start time.Time

	s     *program.State
	hist  *history // states of the run so far, for Undo
	steps []int
	// failure is how the run ended, once it has: the failing step's check,
	// a deadlock, expect, or max_steps; over with a nil failure is a pass.
	failure *program.Failure
	over    bool
	closed  bool
	own     bool // the game started its threads, and Close ends them
}

// ErrGameOver is the error of a step asked for after the run has ended.
var ErrGameOver = errors.New("control: the run has ended")

// NewGame starts p's threads for a run that the caller schedules step by
// step. Of opts, MaxSteps, Watchdog (for each step), Trace, OnRun and
// NoInterleaving count; Trace and OnRun are called by [Game.Finish], for
// the run as it stands then. Close (or Finish) ends the threads.
func NewGame(p *program.Program, opts Options) (*Game, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	th, err := Start(p)
	if err != nil {
		return nil, err
	}
	g := newGame(p, th, opts)
	g.own = true
	return g, nil
}

// newGame is a game on p's threads th, which the caller closes.
func newGame(p *program.Program, th engine.Threads, opts Options) *Game {
	g := &Game{p: p, th: th, opts: opts, start: time.Now()}
	var f *program.Failure
	g.s, f = p.NewState()
	g.hist = newHistory(g.s.Clone())
	g.settle(f)
	return g
}

// Program is the program the game runs.
func (g *Game) Program() *program.Program { return g.p }

// State is the run's state now, for a display. The caller must not step
// or change it.
func (g *Game) State() *program.State { return g.s }

// Steps are the threads that took the steps so far, in order.
func (g *Game) Steps() []int { return slices.Clone(g.steps) }

// Taken is how many steps were taken so far: len(Steps()), without the
// copy.
func (g *Game) Taken() int { return len(g.steps) }

// Schedule is the steps so far as a schedule, which [Replay] (or a
// program step's replay) runs again.
func (g *Game) Schedule() schedule.Schedule {
	return schedule.Schedule{Program: g.p.Name(), Hash: g.p.TextHash(), Steps: g.Steps()}
}

// Over says whether the run has ended, and how: the failed check (a
// step's, a deadlock, expect or max_steps), or nil when every thread
// finished and the program held.
func (g *Game) Over() (bool, *program.Failure) { return g.over, g.failure }

// Step has thread t take its next step, on its own OS thread, and returns
// what the step did. A thread that cannot take a step now is a
// [NotFitError], and a step after the end [ErrGameOver]; the state is then
// unchanged.
func (g *Game) Step(ctx context.Context, t int) (program.StepInfo, error) {
	if g.closed {
		return program.StepInfo{}, errors.New("control: the game is closed")
	}
	if g.over {
		return program.StepInfo{}, ErrGameOver
	}
	if err := fits(g.th.Names(), g.p.Name(), g.s, len(g.steps)+1, t); err != nil {
		return program.StepInfo{}, err
	}
	before := g.s.Clone()
	d := &oneStep{s: g.s, t: t}
	if err := g.th.Drive(ctx, d, g.opts.Watchdog); err != nil {
		g.s = before
		return program.StepInfo{}, err
	}
	if d.err != nil {
		g.s = before
		return program.StepInfo{}, d.err
	}
	g.steps = append(g.steps, t)
	g.hist.stepped(len(g.steps), g.s)
	g.settle(d.info.Failure)
	return d.info, nil
}

// settle sees whether the run has ended after a step (or at its start):
// the step's failure, no thread able to go on, or the step limit.
func (g *Game) settle(f *program.Failure) {
	switch {
	case f != nil:
		g.failure, g.over = f, true
	case len(g.s.Enabled()) == 0:
		g.failure, g.over = g.s.End(), true
	case len(g.steps) >= g.opts.MaxSteps:
		g.failure, g.over = maxStepsFailure(g.p.Def().Pos, g.opts.MaxSteps), true
	}
}

// Undo takes the last step back; false when no step was taken. It goes
// back to the state before it, which the game rebuilds from a state it
// kept (within [MaxUndoBytes]) and the steps after it.
func (g *Game) Undo() bool {
	n := len(g.steps)
	if n == 0 || g.closed {
		return false
	}
	s, err := g.hist.at(n-1, g.steps)
	if err != nil {
		return false // the steps were taken once: they fit again
	}
	g.s, g.steps = s, g.steps[:n-1]
	g.failure, g.over = nil, false
	return true
}

// oneStep is a drive of one step by one thread.
type oneStep struct {
	s    *program.State
	t    int
	done bool
	info program.StepInfo
	err  error
}

func (d *oneStep) Next() int {
	if d.done {
		return -1
	}
	return d.t
}

func (d *oneStep) Step(t int) {
	d.info, d.err = d.s.Step(t)
	d.done = true
}

// Finish replays the steps taken, from the start, on the real threads,
// with every step recorded (opts.Trace is called for each, opts.OnRun at
// the end if the run has ended), ends the threads, and returns the
// outcome of the run as it stands: Complete when it has ended, OK when it
// ended without failing; a run stopped before its end is verdict
// incomplete (not OK: it proved nothing), with a Note saying where.
func (g *Game) Finish(ctx context.Context) (engine.Outcome, error) {
	out := engine.Outcome{Run: -1, Verdict: program.Pass, Runs: 1}
	if g.closed {
		return out, errors.New("control: the game is closed")
	}
	d := &gameReplay{g: g, steps: g.steps, os: g.th.OS()}
	d.s, _ = g.p.NewState()
	if !g.opts.NoInterleaving {
		d.il = d.s.Table()
	}
	err := g.th.Drive(ctx, d, g.opts.Watchdog)
	if err == nil {
		err = d.err
	}
	out.Threads = d.os
	if cerr := g.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	out.Runtime = time.Since(g.start)
	if err != nil {
		return out, err
	}
	if !d.s.Equal(g.s) || g.over && !sameFailure(d.failure, g.failure) {
		return out, fmt.Errorf("control: the game replayed on the real threads ended %s, the game %s", describe(d.failure), describe(g.failure))
	}
	f := g.failure
	if g.over && g.opts.OnRun != nil {
		g.opts.OnRun(engine.RunInfo{Run: 0, Shown: true, Verdict: verdictOf(f), Failure: f, Steps: len(g.steps), Switches: schedule.Switches(g.steps)})
	}
	if d.il != nil {
		d.il.Failure = f
	}
	fill(&out, g.th, shownRun{steps: slices.Clone(g.steps), switches: schedule.Switches(g.steps), failure: f, final: d.s, il: d.il})
	out.Run = 0
	out.OK, out.Complete = f == nil, g.over
	if f != nil {
		out.Failures = 1
	}
	out.OriginalSteps, out.OriginalSwitches = out.Steps, out.Switches
	if !g.over {
		// Stopped by the player (q, the end of the input): nothing broke,
		// but the run did not end, so nothing held either; like a search
		// cut short, it is not a pass.
		out.OK, out.Verdict = false, program.Incomplete
		out.Note = fmt.Sprintf("the game was stopped after %s, before the run ended", stepCount(len(g.steps)))
	}
	return out, nil
}

// Close ends the game's threads, when it started them; Finish does it
// too.
func (g *Game) Close() error {
	if g.closed {
		return nil
	}
	g.closed = true
	if !g.own {
		return nil
	}
	return g.th.Close()
}

// gameReplay drives the steps of a game again, each by its thread, and
// stops at their end.
type gameReplay struct {
	g       *Game
	os      []engine.Thread
	steps   []int
	i       int
	s       *program.State
	il      *program.Interleaving
	failure *program.Failure
	err     error
}

func (d *gameReplay) Next() int {
	if d.err != nil || d.failure != nil || d.i >= len(d.steps) {
		if d.err == nil && d.failure == nil && d.g.over && len(d.s.Enabled()) == 0 {
			d.failure = d.s.End()
		}
		return -1
	}
	return d.steps[d.i]
}

func (d *gameReplay) Step(t int) {
	info, err := d.s.Step(t)
	if err != nil {
		d.err = fmt.Errorf("control: the game's step %d: %w", d.i+1, err)
		return
	}
	d.i++
	if d.il != nil {
		d.il.Add(program.Row{Thread: t, Op: info.Text, Pos: info.Pos, Values: d.s.Values(), Log: info.Log, Failed: info.Failure != nil})
	}
	if tr := d.g.opts.Trace; tr != nil {
		tr(engine.StepInfo{Run: 0, Shown: true, Step: d.i - 1, Name: d.os[t].Name, TID: d.os[t].TID, StepInfo: info, Values: d.s.Values()})
	}
	if info.Failure != nil {
		d.failure = info.Failure
	} else if d.i == len(d.steps) && d.g.over && d.g.failure != nil && d.g.failure.Verdict == program.MaxSteps {
		d.failure = d.g.failure
	}
}

// stepCount is "1 step", "2 steps".
func stepCount(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}
