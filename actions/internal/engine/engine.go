// Package engine is the contract of pmrun's controlled engine (DESIGN
// §9): what a kind of controlled thread gives the engine ([Threads],
// [Run]), what the engine gives it to carry out ([Driver]), what every
// scheduler returns ([Outcome], free threads' included) and what it tells
// a trace ([StepInfo], [RunInfo]). The strategies (random, pct,
// exhaustive, replay, manual), the shrinker, the schedule and the
// explanations are written once, in package control, against these
// interfaces; a kind of thread plugs in by implementing them, without
// touching any of that.
//
// It imports only the vocabulary of runs (package program: verdicts,
// failures, what a step did, footprints, the interleaving table) and of
// schedules, so that every kind of thread and every executor can import it.
//
// # Three kinds of thread
//
// Program threads (control.Start): a program of the programs: section on
// real, kernel-named OS threads, one each, exactly one running at a time;
// the turn passes through a futex word per thread, with no system call
// when the same thread goes on. A run is the model's state
// (*program.State), and each step of it is taken by the OS thread whose
// step it is.
//
// Model threads (control.Model): the same program with no OS thread at
// all: the driver's calls are made in a loop on the caller's goroutine.
// They are what a search that needs no real thread runs on (the shrinker;
// a model-only exhaustive search), before the run it shows is replayed on
// program threads.
//
// Threads of a real program in another process: a C program's pthreads
// (and the threads of the processes it forks), each asking for the turn
// at every synchronization call through a futex word in memory shared
// with pmrun (an LD_PRELOAD library). A run is an execution of the
// binary: [Threads.Start] starts it, [Run.Step] hands the turn to the
// thread and waits for it to come back at its next call, and pmrun's
// record of every mutex, semaphore and condition says which threads can
// go on. There is no model state to copy or hash, so search there is
// stateless (every run re-executes the binary), and a schedule names a
// hash of the binary ([Identity]).
//
// # What each kind can do
//
// The interfaces below are what every kind gives. A strategy that needs
// more asks for it with a type assertion and says so when it is missing:
// exhaustive search with state hashing needs runs that are model states
// (*program.State: Clone, Hash, Footprint); shrinking and counting
// interleavings need a [Modeled] kind, whose model re-runs a candidate
// schedule cheaply; PCT drops a thread whose step changed nothing (a spin)
// only when the run can [Hasher.Hash] its state.
package engine

import (
	"context"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// Threads is one kind of controlled thread: the threads of one system
// under test, which the engine drives one step at a time. The methods
// other than Drive are called by the engine's goroutine, never during a
// drive, except Start, which a driver calls between runs from within
// Drive.
type Threads interface {
	// Names are the threads' names, in the order a schedule numbers them
	// (thread 0 is "a"). For a program they are all known from the start;
	// a real program creates its threads as it runs, and Names are those
	// of the run under way, numbered in the order they were created.
	Names() []string
	// Identity is what a schedule made on these threads names; a schedule
	// with another identity is refused rather than replayed wrong.
	Identity() Identity
	// Start begins a run from the initial state. The Failure is not nil
	// when a check fails before the first step (an invariant false at
	// the start); the error, when the run could not start at all (a
	// binary that does not execute). A kind may allow one run at a time:
	// a driver starts the next run after the last one ended.
	Start() (Run, *program.Failure, error)
	// Drive carries d out until d.Next returns -1, ctx ends, or a thread
	// holds the turn longer than watchdog without coming back (a
	// *control.StuckError for program threads). It calls d.Next and d.Step
	// one at a time, each after the one before returned (so d needs no
	// locks), and calls d.Step(t) where thread t's step belongs: on t's
	// own OS thread for program threads, on the caller's goroutine for
	// model threads, on a coordinator that hands the turn to t and waits
	// for it to come back for a real program. When ctx ends, the drive
	// stops at the next step and Drive returns an error naming the cause.
	Drive(ctx context.Context, d Driver, watchdog time.Duration) error
	// OS are the threads and the OS threads that ran them (TID 0 for a
	// kind that has none), for the outcome.
	OS() []Thread
	// Close ends the threads; none is left when it returns, except one a
	// watchdog found stuck, which ends when it comes back.
	Close() error
}

// Modeled is a kind of thread that has a model: the same system as model
// threads, where a run costs no system call. The shrinker re-runs its
// candidates there, and a search that needs no real thread searches
// there; the run a search shows is then replayed on the real threads.
type Modeled interface {
	Model() Threads
}

// Executed is a kind of thread whose every run executes a program anew
// (a real program's threads): a run costs milliseconds where a model's
// costs microseconds, so the shrinker bounds its candidates by
// ShrinkRuns, a number of runs, rather than by model steps.
type Executed interface {
	ShrinkRuns() int
}

// Identity names the system a schedule was made on: a program's name and
// the hash of its text, or a binary's name and the hash of its bytes. Pos
// is where the system is declared in the scenario: the place of a failure
// that is no thread's step (a run past max_steps).
type Identity struct {
	Name, Hash string
	Pos        program.Pos
}

// Run is one execution: which threads can go on, what each is about to
// do, a step, and the verdict when nobody can go on. *program.State is
// the Run of program threads and model threads. Thread indices are those
// of [Threads.Names].
type Run interface {
	// AppendEnabled appends the threads that can take a step now to dst,
	// in index order.
	AppendEnabled(dst []int) []int
	// IsEnabled says whether thread t can take a step now.
	IsEnabled(t int) bool
	// Next is thread t's pending operation (its text, its place, its
	// footprint), for explanations, for a person choosing, and for the
	// reductions; ok is false when t has finished.
	Next(t int) (a program.Action, ok bool)
	// Step has thread t take its next step, which must be enabled, and
	// says what it did; a check the step broke is in the StepInfo's
	// Failure. [Threads.Drive] calls it where the step belongs (a
	// driver's Step). The error is a caller's mistake or a broken
	// executor, not a failure of the system.
	Step(t int) (program.StepInfo, error)
	// End is the verdict of a run in which no thread can go on: nil when
	// every thread finished and the final checks hold, else the failure
	// (a deadlock with its explanation, an expectation, an exit status).
	End() *program.Failure
	// Values are the shared values after the last step, for the
	// interleaving's rows (nil for a system without shared variables).
	Values() []int64
	// Final is the shared variables by name, as the outcome reports them.
	Final() map[string]any
	// Table is an empty interleaving of a run from this state: its
	// threads, its variables and their values now.
	Table() *program.Interleaving
}

// Hasher is a Run that can hash its whole state: two states with the same
// hash are taken as the same.
type Hasher interface {
	Hash() uint64
}

// Driver is what [Threads.Drive] carries out: a strategy's runs, a replay,
// one step of a game. Its methods are called by whoever holds the turn,
// one at a time.
type Driver interface {
	// Next returns the thread that takes the next step, or -1 when the
	// drive is over.
	Next() int
	// Step has thread t, which holds the turn, take its step.
	Step(t int)
}

// Thread is one of the threads and the OS thread that ran it.
type Thread struct {
	Name string
	TID  int
}
