// Package freerun runs a program of the `programs:` language on free
// OS threads, as `scheduler: os` does: every program thread is a real
// thread named after it (visible in ps -L and /proc/PID/task/TID/comm), and
// the kernel decides who runs when. The threads drive the program's model
// (package program): the model says what a step does and whether it can
// happen, the threads decide when they try.
//
// # The ticket
//
// Each visible operation takes a ticket as it happens: a futex lock around
// "is my step enabled, take it in the model, write my thread in the
// schedule". So the visible operations are serialized, in the order the
// threads got the ticket, while everything between them — a thread's
// invisible operations, its work, its jitter — runs in parallel. The
// schedule a run records is the exact order its steps were taken in, and
// replaying it on the model (or under the controlled scheduler) gives the
// same states and the same verdict. Since the ticket is held across every
// step, the invariants are checked at every step, on a consistent state.
//
// # Blocking
//
// A thread whose next step is not enabled (a wait on a semaphore at 0, a
// lock of a held mutex, a cond_wait not yet signalled) does not spin: it
// reads the futex word of the object it waits on while it holds the
// ticket, lets the ticket go, and sleeps on that word ([sem.Word]). A step
// that changes the object (a signal, an unlock, a cond_signal) wakes the
// word's sleepers, who take the ticket and look again. A deadlock is exact:
// it is the moment a step leaves no thread enabled while some have not
// finished, which the thread that took that step sees under the ticket.
//
// The threads are started once and make every run: between runs each
// waits for its start, and a run's end — its last step, a failure, a
// deadlock, a stall, ctx — wakes every thread that sleeps (on an object,
// or in work or jitter, which also sleep on a futex word of the thread's
// own) and sends it back. When [Run] returns, every thread has been
// cancelled and joined: none is left in /proc/self/task.
package freerun

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// Options say how [Run] runs a program.
type Options struct {
	// Runs is how many times the program runs (0: 1).
	Runs int
	// MaxSteps ends a run that takes more steps, with verdict max_steps;
	// 0 means program.DefaultMaxSteps.
	MaxSteps int
	// Work is real time every thread spends after each of its visible
	// steps, outside the ticket, so that others take steps in between.
	Work time.Duration
	// Jitter, if above 0, adds a random pause below it before each
	// visible step, drawn from Seed, the run and the thread.
	Jitter time.Duration
	// Detect, if above 0, stops a run in which no step has been taken for
	// that long (threads in long work, or a wake-up that never came) with
	// a [StallError].
	Detect time.Duration
	// Seed is what the jitter of every run is drawn from.
	Seed uint64
	// Trace, if not nil, is told of every step and every wait, in the
	// order they happened, by the thread concerned, with the ticket held:
	// it must be quick.
	Trace func(engine.StepInfo)
	// OnRun, if not nil, is told of each run's start (Start) and end.
	OnRun func(engine.RunInfo)
}

// StallError is a run in which no thread took a step for [Options.Detect].
type StallError struct {
	Program string
	Run     int
	For     time.Duration
	// Where says where each unfinished thread was.
	Where []string
}

func (e *StallError) Error() string {
	return fmt.Sprintf("program %s, run %d: no step for %s (detect): %s", e.Program, e.Run, e.For, joinSemi(e.Where))
}

func joinSemi(parts []string) string {
	out := ""
	for i, p := range parts {
		if i > 0 {
			out += "; "
		}
		out += p
	}
	return out
}

// Run runs p opts.Runs times on free OS threads and returns what the runs
// did; a failing run is in the Outcome (OK false), not an error. It shows
// the first run that failed, else the last; Complete says every run was
// made, and a Run cut short with no failure is incomplete. The error is
// for the runs themselves: threads that could not start, a thread that
// failed, a stall, or ctx ending (the Outcome then says what was done).
// Every thread has been joined when Run returns.
func Run(ctx context.Context, p *program.Program, opts Options) (engine.Outcome, error) {
	start := time.Now()
	if opts.Runs <= 0 {
		opts.Runs = 1
	}
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = program.DefaultMaxSteps
	}
	out := engine.Outcome{OK: true, Verdict: program.Pass, Run: -1}
	c, err := newCrew(p)
	if err != nil {
		return out, err
	}
	var shown *runResult
	for r := range opts.Runs {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
			break
		}
		var res *runResult
		res, err = c.runOnce(ctx, r, opts)
		if err != nil {
			break
		}
		out.Runs++
		if res.failure != nil {
			out.Failures++
		}
		if shown == nil || shown.failure == nil {
			shown = res
		}
	}
	if cerr := c.close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("program %s: %w", p.Name(), cerr))
	}
	out.Runtime = time.Since(start)
	out.OK = out.Failures == 0
	out.Complete = out.Runs == opts.Runs && err == nil
	if !out.Complete {
		out.Note = fmt.Sprintf("the runs stopped after %d of %d", out.Runs, opts.Runs)
		if out.Failures == 0 {
			out.OK, out.Verdict = false, program.Incomplete
		}
	}
	if shown == nil {
		out.Threads = c.list()
		return out, err
	}
	if ferr := fill(&out, p, shown, opts.MaxSteps); ferr != nil && err == nil {
		err = ferr
	}
	return out, err
}

// fill describes the shown run, replaying its schedule on the model for
// the interleaving: the model is deterministic, so the replay must end as
// the run did, with the same verdict, in the same state (its hash: every
// variable, semaphore, mutex, queue and thread position).
func fill(out *engine.Outcome, p *program.Program, r *runResult, maxSteps int) error {
	out.Run, out.Threads, out.Switches = r.run, r.threads, r.switches
	out.Schedule = schedule.Schedule{Program: p.Name(), Hash: p.TextHash(), Steps: r.steps}
	out.ScheduleText = out.Schedule.String()
	res, err := p.Run(program.Replay(r.steps), program.RunOptions{MaxSteps: maxSteps, Record: true})
	if err != nil {
		return fmt.Errorf("program %s: run %d's schedule does not replay on the model: %w", p.Name(), r.run, err)
	}
	if res.Verdict != verdictOf(r.failure) || res.Steps != len(r.steps) || res.Final.Hash() != r.hash {
		return fmt.Errorf("program %s: run %d ended %s after %d steps, but its schedule replays to %s after %d, in another state",
			p.Name(), r.run, verdictOf(r.failure), len(r.steps), res.Verdict, res.Steps)
	}
	if res.Failure != nil || out.Verdict != program.Incomplete {
		out.Verdict = res.Verdict
	}
	out.Failure = res.Failure
	out.Steps, out.OriginalSteps, out.OriginalSwitches = res.Steps, res.Steps, r.switches
	out.Interleaving = res.Interleaving
	out.Final = res.Final.Final()
	if res.Failure != nil && res.Failure.Deadlock != nil {
		out.Deadlock, out.Cycle, out.Explanation = true, res.Failure.Deadlock.Cycle, res.Failure.Deadlock.Text
	}
	return nil
}

func verdictOf(f *program.Failure) program.Verdict {
	if f == nil {
		return program.Pass
	}
	return f.Verdict
}
