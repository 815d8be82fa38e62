package control

import (
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// Scheduler names a controlled strategy.
type Scheduler string

// The controlled schedulers. Replay is not among them: it has its own
// entry point, [Replay].
const (
	Random     Scheduler = "random"
	PCT        Scheduler = "pct"
	Exhaustive Scheduler = "exhaustive"
)

// Defaults of [Options].
const (
	DefaultRuns     = 100
	DefaultDepth    = 3
	DefaultWatchdog = 10 * time.Second
	// DefaultMaxStates bounds the states exhaustive keeps (about 130
	// bytes each for three threads): past it the search stops incomplete.
	DefaultMaxStates = 2_000_000
)

// Shard is one part of a search split across workers: the search does
// only its share (see [Options.Shard]). The zero value is the whole search.
type Shard struct {
	Index, Count int
}

// String is "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

func (s Shard) whole() bool { return s.Count <= 1 }

// Options say how [Search] searches.
type Options struct {
	// Scheduler is the strategy: Random (the default), PCT or Exhaustive.
	Scheduler Scheduler
	// Runs is how many runs random and PCT make (0: DefaultRuns); for
	// exhaustive, the paths after which it stops incomplete (0: no limit).
	Runs int
	// Depth is PCT's bug depth d (0: DefaultDepth): d-1 priority change
	// points a run.
	Depth int
	// Seed is what every run's randomness derives from, with the run's
	// number. Exhaustive does not use it.
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
	// to the scheduler (0: DefaultWatchdog); past it the search fails with
	// a [StuckError] naming the thread.
	Watchdog time.Duration
	// Budget, if above 0, stops the search after that long with what it
	// has: Complete is false. A run under way is finished first.
	Budget time.Duration
	// MaxStates stops exhaustive, incomplete, when it has visited that
	// many states (0: DefaultMaxStates), so that a program with too many
	// states does not take all the memory.
	MaxStates int
	// Trace, if not nil, is called for every step, by the OS thread that
	// took it, before the next step; it must not block for long (the
	// watchdog counts its time).
	Trace func(StepInfo)
	// OnRun, if not nil, is called at the end of every run, by the thread
	// that took its last step (exhaustive: at the end of every path).
	OnRun func(RunInfo)
	// NoInterleaving leaves the shown run unrecorded (Outcome.Interleaving
	// nil), for runs too long to keep step by step.
	NoInterleaving bool
}

// StepInfo is one step taken by a real thread, for a trace.
type StepInfo struct {
	// Run is the run the step belongs to (exhaustive: the path), -1 for
	// PCT's probe run; Shown says it is the run the [Outcome] shows,
	// replayed at the end of a search.
	Run   int
	Shown bool
	// Step is its index in the run, from 0.
	Step int
	// Name is the thread's name; TID the OS thread that took the step.
	Name string
	TID  int
	program.StepInfo
	// Values are the shared variables after the step, in declaration
	// order.
	Values []int64
}

// RunInfo is a run's end.
type RunInfo struct {
	Run      int
	Shown    bool
	Verdict  program.Verdict
	Failure  *program.Failure
	Steps    int
	Switches int
}

func (o Options) withDefaults() (Options, error) {
	if o.Scheduler == "" {
		o.Scheduler = Random
	}
	switch o.Scheduler {
	case Random, PCT, Exhaustive:
	default:
		return o, fmt.Errorf("control: unknown scheduler %q (random, pct or exhaustive)", o.Scheduler)
	}
	if o.Runs < 0 || o.Depth < 0 || o.MaxSteps < 0 || o.MaxStates < 0 {
		return o, fmt.Errorf("control: runs, depth, max_steps and max_states cannot be negative")
	}
	if o.MaxStates == 0 {
		o.MaxStates = DefaultMaxStates
	}
	if o.Runs == 0 && o.Scheduler != Exhaustive {
		o.Runs = DefaultRuns
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
