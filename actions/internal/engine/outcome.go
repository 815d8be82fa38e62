package engine

import (
	"math/big"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// Outcome is what a scheduler found, whichever it is: free threads, a
// controlled search, a replay, a game. It shows one run: the first that
// failed (for a controlled search, its schedule shrunk when asked and
// replayed on the real threads with every step recorded), or else the
// last run made. The program action turns it into its result.
type Outcome struct {
	// How says how the runs were made, for a reader.
	How How
	// OK: the verdict is pass.
	OK bool
	// Verdict is the shown run's failure's; else pass, or, for a search
	// that stopped before it did all it was asked and found no failure,
	// program.Incomplete (Note says why).
	Verdict program.Verdict
	Failure *program.Failure
	// Schedule is the shown run's interleaving; ScheduleText its one-line
	// form, what a replay takes ("" when no run is shown).
	Schedule     schedule.Schedule
	ScheduleText string
	// Run is the number of the shown run (exhaustive: of the path that
	// failed); -1 when nothing ran or for a replay.
	Run int
	// Runs is how many runs were made (exhaustive: paths explored, each
	// ending at a final state, a failure, or a state already explored).
	Runs int
	// Complete: every run asked for was made; for exhaustive, every
	// reachable state was explored.
	Complete bool
	// Steps and Switches are the shown run's steps and context switches;
	// OriginalSteps and OriginalSwitches the failing run's before it was
	// shrunk (equal to them when it was not).
	Steps, Switches                 int
	OriginalSteps, OriginalSwitches int
	// Interleaving is the shown run step by step; its Format prints it in
	// the style of OSTEP's simulators.
	Interleaving *program.Interleaving
	// Final is the shared variables after the shown run.
	Final map[string]any
	// Deadlock, Cycle and Explanation describe a deadlock of the shown run.
	Deadlock    bool
	Cycle       []string
	Explanation string
	// Failures counts the failing runs; for exhaustive, the failing
	// steps and final states it found (each state once: many
	// interleavings may lead to it; FailingInterleavings counts those).
	Failures int
	// States and Transitions are what exhaustive explored: distinct
	// states and the steps taken to explore them.
	States, Transitions int
	// Interleavings is the number of distinct interleavings of the
	// program (maximal runs, a failing step ending one), counted over the
	// explored state graph before reduction; nil unless an unsharded
	// exhaustive search completed on an acyclic state graph. Cyclic says
	// the graph has a cycle (a spin): there are infinitely many. The
	// count saturates at 2^64-1 (at least that many).
	Interleavings *big.Int
	Cyclic        bool
	// FailingInterleavings counts those of Interleavings that fail.
	FailingInterleavings *big.Int
	// PCTBound is PCT's guarantee for one run: a bug of depth Depth is
	// found with probability at least 1/(n·k^(d−1)), n threads, k steps
	// with a choice (PCTSteps, from the probe run).
	PCTBound float64
	PCTSteps int
	// Bound is bounded's: every run with at most Bound preemptions was
	// made (-1: not even every run with none); 0 under the other
	// schedulers.
	Bound int
	// Threads are the threads and the OS threads that ran them.
	Threads []Thread
	// Note says what a person should know about how the shown run was
	// made (a replay that went on past its schedule, a shard with no
	// runs, a game stopped before its end) or why a search stopped before
	// it finished.
	Note    string
	Runtime time.Duration
}

// How is how a scheduler made its runs, what a report says of them
// without naming schedulers itself.
type How struct {
	// Scheduler is the scheduler's name.
	Scheduler string
	// Kind is what the shown run is: "search" (the run a search shows),
	// "replay" (a schedule's), "manual" (a game a person played) or
	// "free" (free threads', as the kernel interleaved them).
	Kind string
	// Unit is what one of the runs is: "run", or "path" for a search of
	// the state graph, whose runs are its paths.
	Unit string
	// Proof: a complete search visited every interleaving, so a pass is
	// a proof for the program as written.
	Proof bool
	// Asked is the runs asked for (for a search of paths, those after
	// which it stops); 0: no limit.
	Asked int
	// Bounded: the runs were made by their preemptions, fewest first, and
	// Outcome.Bound says how far the search got.
	Bounded bool
}

// The kinds of How.
const (
	KindSearch = "search"
	KindReplay = "replay"
	KindGame   = "manual"
	KindFree   = "free"
)

// StepInfo is what a trace hears of a thread: a step it took, or (Wait)
// that it found its step could not happen and went to sleep. It is told
// by the OS thread concerned, before the next step: a trace must be quick.
type StepInfo struct {
	// Run is the run (exhaustive: the path), -1 for PCT's probe run;
	// Shown says it is the run the Outcome shows, replayed at the end of
	// a search.
	Run   int
	Shown bool
	// Step is the step's index in the run, from 0.
	Step int
	// Name is the thread's name (its index is StepInfo.Thread); TID the
	// OS thread.
	Name string
	TID  int
	// StepInfo is what the step did.
	program.StepInfo
	// Values are the shared variables after the step, in declaration
	// order (nil from free threads).
	Values []int64
	// Done: the thread finished with this step (told by free threads).
	Done bool
	// Wait: no step; the thread went to sleep on Waiting ("semaphore s",
	// "mutex m", "condition c"): free threads block on real objects.
	Wait    bool
	Waiting string
}

// RunInfo is the start (Start: told by free threads) or the end of a run.
type RunInfo struct {
	Run      int
	Shown    bool
	Start    bool
	Verdict  program.Verdict
	Failure  *program.Failure
	Steps    int
	Switches int
	// Cut: the scheduler cut the run short, and it has no verdict
	// (bounded cuts a run that only goes round in a loop).
	Cut bool
	// Shrunk: a shown run whose schedule was shrunk from run Run's. Run
	// then names the run that found the failure, Steps and Switches are
	// the shrunk run's, and OriginalSteps and OriginalSwitches run Run's.
	Shrunk                          bool
	OriginalSteps, OriginalSwitches int
}
