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
	// Trace, if not nil, is called for every step and every wait, in the
	// order they happened, by the thread concerned, with the ticket held:
	// it must be quick.
	Trace func(Event)
	// OnRun, if not nil, is called before each run starts and after it
	// ends.
	OnRun func(RunInfo)
}

// Event is something a thread did: a visible step, or finding its next
// step not enabled and going to sleep.
type Event struct {
	Run    int
	Thread int
	Name   string
	TID    int
	// Wait: the thread went to sleep on Waiting ("semaphore s", "mutex
	// m", "condition c"); otherwise it took step number Index of the run
	// (from 0), which Action describes and Info says what it did.
	Wait    bool
	Waiting string
	Index   int
	Action  program.Action
	Info    program.StepInfo
	// Resumed: the thread had been waiting before this step.
	Resumed bool
	// Done: the thread finished with this step.
	Done bool
}

// RunInfo is the start or the end of a run.
type RunInfo struct {
	Run int
	// End: the run has ended, with Verdict (and Failure unless pass)
	// after Steps steps.
	End      bool
	Verdict  program.Verdict
	Failure  *program.Failure
	Steps    int
	Switches int
	Threads  []Thread
}

// Thread is one of a program's threads and the OS thread that ran it.
type Thread struct {
	Name string
	TID  int
}

// Outcome is what the runs did. It shows one run: the first that failed,
// or else the last.
type Outcome struct {
	// OK: no run failed.
	OK bool
	// Verdict is the shown run's: pass, or its failure's.
	Verdict program.Verdict
	Failure *program.Failure
	// Schedule is the order in which the shown run's steps were taken,
	// which replays it exactly.
	Schedule schedule.Schedule
	// Run is the number of the shown run, from 0.
	Run int
	// Runs is how many runs were made; Failures how many of them failed.
	Runs, Failures int
	// Steps and Switches are the shown run's.
	Steps, Switches int
	// Interleaving is the shown run step by step, made by replaying its
	// schedule on the model.
	Interleaving *program.Interleaving
	// Final is the shared variables after the shown run.
	Final map[string]any
	// Deadlock explains the shown run's deadlock; nil if it had none.
	Deadlock *program.DeadlockInfo
	// Threads are the shown run's threads.
	Threads []Thread
	Runtime time.Duration
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
// did; a failing run is in the Outcome (OK false), not an error. The error
// is for the runs themselves: threads that could not start, a thread that
// failed, a stall, or ctx ending (the Outcome then says what was done).
// Every thread has been joined when Run returns.
func Run(ctx context.Context, p *program.Program, opts Options) (Outcome, error) {
	start := time.Now()
	if opts.Runs <= 0 {
		opts.Runs = 1
	}
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = program.DefaultMaxSteps
	}
	out := Outcome{OK: true, Verdict: program.Pass, Run: -1}
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
	if shown == nil {
		return out, err
	}
	if ferr := out.fill(p, shown, opts.MaxSteps); ferr != nil && err == nil {
		err = ferr
	}
	return out, err
}

// fill describes the shown run, replaying its schedule on the model for
// the interleaving: the model is deterministic, so the replay must end as
// the run did, with the same verdict, in the same state (its hash: every
// variable, semaphore, mutex, queue and thread position).
func (out *Outcome) fill(p *program.Program, r *runResult, maxSteps int) error {
	out.Run, out.Threads, out.Switches = r.run, r.threads, r.switches
	out.Schedule = schedule.Schedule{Program: p.Name(), Hash: p.TextHash(), Steps: r.steps}
	res, err := p.Run(program.Replay(r.steps), program.RunOptions{MaxSteps: maxSteps, Record: true})
	if err != nil {
		return fmt.Errorf("program %s: run %d's schedule does not replay on the model: %w", p.Name(), r.run, err)
	}
	if res.Verdict != verdictOf(r.failure) || res.Steps != len(r.steps) || res.Final.Hash() != r.hash {
		return fmt.Errorf("program %s: run %d ended %s after %d steps, but its schedule replays to %s after %d, in another state",
			p.Name(), r.run, verdictOf(r.failure), len(r.steps), res.Verdict, res.Steps)
	}
	out.Verdict, out.Failure = res.Verdict, res.Failure
	out.Steps = res.Steps
	out.Interleaving = res.Interleaving
	out.Final = res.Final.Final()
	if res.Failure != nil {
		out.Deadlock = res.Failure.Deadlock
	}
	return nil
}

func verdictOf(f *program.Failure) program.Verdict {
	if f == nil {
		return program.Pass
	}
	return f.Verdict
}
