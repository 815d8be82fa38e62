package control

import (
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// Defaults of [Options].
const (
	DefaultRuns     = 100
	DefaultDepth    = 3
	DefaultWatchdog = 10 * time.Second
	// DefaultMaxStates bounds the states exhaustive visits: past it the
	// search stops, incomplete. Its memory (DefaultMaxBytes) is what
	// bounds most searches: a state takes 25 to 75 bytes at the peak.
	DefaultMaxStates = 100_000_000
	// DefaultMaxBytes bounds the memory exhaustive keeps (the visited
	// states, the state graph, the states still to expand): past it the
	// search stops, incomplete.
	DefaultMaxBytes int64 = 1 << 30
)

// DefaultPreemptions is the program action's bound for bounded.
const DefaultPreemptions = 2

// Shard is one part of a search split across workers: the search does
// only its share (see [Options.Shard]). The zero value is the whole search.
type Shard struct {
	Index, Count int
}

// String is "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

func (s Shard) whole() bool { return s.Count <= 1 }

// Options say how a strategy runs a system ([Run]); each strategy reads
// the options it takes, and [Strategy.Check] refuses the ones it does not.
type Options struct {
	// Scheduler names the strategy (see [For]): random (the default),
	// pct, exhaustive, os, manual, or one registered ([Register]).
	// Replay, when set, chooses the replay strategy instead.
	Scheduler string
	// Replay is the schedule the replay strategy runs exactly.
	Replay *schedule.Schedule
	// Runs is how many runs random, pct and os make (0: DefaultRuns);
	// exhaustive searches states, not runs, and does not use it.
	Runs int
	// Depth is PCT's bug depth d (0: DefaultDepth): d-1 priority change
	// points a run.
	Depth int
	// Preemptions is the bound of bounded: the most preemptions a run may
	// take (0: none; the program action's default is
	// DefaultPreemptions).
	Preemptions int
	// Seed is what every run's randomness derives from, with the run's
	// number (os: the jitter). Exhaustive does not use it.
	Seed uint64
	// MaxSteps ends a run (exhaustive: a path) that takes more steps, with
	// verdict max_steps; 0 means program.DefaultMaxSteps.
	MaxSteps int
	// Shrink shrinks a failing schedule to fewer context switches before
	// it is returned (the program action's default is true).
	Shrink bool
	// Shard splits the search: random and PCT make only the runs r with
	// r % Count == Index; exhaustive splits the states after the first
	// steps (see the package documentation). Count 0 or 1: all of it.
	Shard Shard
	// Watchdog is how long a thread may hold the turn without coming back
	// to the scheduler and without using CPU time (0: DefaultWatchdog);
	// past it the search fails with a [StuckError] naming the thread.
	Watchdog time.Duration
	// Budget, if above 0, stops the search after that long with what it
	// has: Complete is false. A run under way is finished first.
	Budget time.Duration
	// MaxStates stops exhaustive, incomplete, when it has visited that
	// many states (0: DefaultMaxStates).
	MaxStates int
	// MaxBytes stops exhaustive, incomplete, when what it keeps would take
	// more memory than that (0: DefaultMaxBytes).
	MaxBytes int64
	// Bitstate, above 0, makes exhaustive a bitstate search (supertrace)
	// of a bit array of that many bytes: it covers spaces beyond memory
	// but may miss states, so it is never complete and never a proof.
	Bitstate int64
	// Symmetry makes exhaustive keep one state of those that differ only
	// by a permutation of interchangeable threads (program.Symmetry); it
	// is ignored with Bitstate.
	Symmetry bool
	// DPOR makes exhaustive a stateless search with a dynamic
	// partial-order reduction (statespace.Options.DPOR): it walks runs,
	// and takes another order of two steps only where they race. A
	// program whose runs may not end is searched by state hashing
	// instead, and the note says so. It takes neither Bitstate nor
	// Symmetry.
	DPOR bool
	// Workers is how many goroutines exhaustive expands states on (0: one
	// for each CPU); its result does not depend on it.
	Workers int
	// Work, Jitter and Detect are the free threads' (os): real time each
	// thread spends after each step, a random pause below Jitter before
	// each, and how long no step may be taken before the run is stopped
	// (see package freerun).
	Work, Jitter, Detect time.Duration
	// Player is the person a manual game asks for every step.
	Player Player
	// Trace, if not nil, is told of every step (and, on free threads,
	// every wait), by the OS thread that took it, before the next step;
	// it must not block for long (the watchdog counts its time).
	Trace func(engine.StepInfo)
	// OnRun, if not nil, is told of the end of every run (exhaustive: of
	// every path), by the thread that took its last step; free threads
	// also tell each run's start.
	OnRun func(engine.RunInfo)
	// Explored, if not nil, hears how far exhaustive has got, now and
	// then (at most five times a second): the states it has and the steps
	// it took. It is called on the goroutine that called [Run].
	Explored func(states, transitions int)
	// NoInterleaving leaves the shown run unrecorded (Outcome.Interleaving
	// nil), for runs too long to keep step by step.
	NoInterleaving bool
	// forEver: the program has progress steps, so its runs need not end;
	// set by search for searchRuns, which cuts those that take
	// MaxSteps (they are no failure: only exhaustive judges starvation).
	forEver bool
}

// withDefaults fills in the options every strategy shares and checks
// them; the runs are each strategy's ([Options.Runs]).
func (o Options) withDefaults() (Options, error) {
	if o.Runs < 0 || o.Depth < 0 || o.MaxSteps < 0 || o.MaxStates < 0 || o.MaxBytes < 0 || o.Bitstate < 0 || o.Workers < 0 || o.Preemptions < 0 {
		return o, fmt.Errorf("control: runs, depth, preemptions, max_steps, max_states, max_memory, bitstate and workers cannot be negative")
	}
	if o.MaxStates == 0 {
		o.MaxStates = DefaultMaxStates
	}
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Depth == 0 {
		o.Depth = DefaultDepth
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = program.DefaultMaxSteps
	}
	if o.Watchdog <= 0 {
		o.Watchdog = DefaultWatchdog
	}
	if o.Shard.Count < 0 || o.Shard.Count > 0 && (o.Shard.Index < 0 || o.Shard.Index >= o.Shard.Count) {
		return o, fmt.Errorf("control: shard %s: the index must be in [0, %d)", o.Shard, o.Shard.Count)
	}
	return o, nil
}
