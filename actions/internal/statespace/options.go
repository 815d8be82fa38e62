package statespace

import (
	"fmt"
	"math/big"
	"runtime"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// Defaults of [Options].
const (
	// DefaultMaxBytes bounds the memory a search keeps: the visited
	// states, the state graph and the states still to expand. Past it
	// the search stops, incomplete, and says so.
	DefaultMaxBytes int64 = 1 << 30
	// DefaultMaxStates bounds the states a search visits.
	DefaultMaxStates = 100_000_000
	// maxStateNumber is the most states a search can number (31 bits,
	// the graph's edges keep a flag in the 32nd).
	maxStateNumber = 1<<31 - 2
)

// Shard is one part of a search split across workers that share nothing
// (CI jobs): Index in [0, Count). The zero value is the whole search.
type Shard struct {
	Index, Count int
}

func (s Shard) whole() bool { return s.Count <= 1 }

// String is "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Options say how [Search] searches.
type Options struct {
	// MaxSteps bounds the steps from the start: a state that needs more
	// steps than that to reach (by its shortest path) and can still step
	// fails with verdict max_steps, and the search is incomplete. 0:
	// program.DefaultMaxSteps.
	MaxSteps int
	// MaxStates stops the search, incomplete, when it has visited that
	// many states (0: DefaultMaxStates).
	MaxStates int
	// MaxBytes stops the search, incomplete, when what it keeps would
	// take more memory than that (0: DefaultMaxBytes).
	MaxBytes int64
	// Workers is how many goroutines expand states (0: GOMAXPROCS). The
	// result does not depend on it (see the package documentation).
	Workers int
	// Shard makes the search do only its share (see the package
	// documentation).
	Shard Shard
	// Bitstate, when above 0, makes the search a bitstate one
	// (supertrace): a depth-first search that keeps, for each state, a
	// few bits in an array of that many bytes instead of the state.
	// It covers spaces beyond memory but may miss states; it is never a
	// proof, never complete, and it neither counts interleavings nor
	// finds livelocks.
	Bitstate int64
	// DPOR makes the search a stateless one with a dynamic partial-order
	// reduction (dpor.go, see the package documentation): it walks runs
	// rather than states, and takes only the orders of steps that race.
	// A program whose runs may not end (a run that comes back to a state,
	// or one longer than MaxSteps) is searched by state hashing instead
	// (Result.Fallback says why). It neither counts interleavings nor
	// takes Canon or Bitstate.
	DPOR bool
	// Count counts the interleavings when the search is complete,
	// unsharded, and the state graph acyclic.
	Count bool
	// Canon, if not nil, puts a state's words in a canonical form, in
	// place, after each step and before the state is hashed: a symmetry
	// reduction maps the states a permutation of interchangeable threads
	// makes to one (program.Program.Symmetry). The search keeps and
	// expands canonical states; when perm is not nil, Canon sets it to
	// the permutation it made (perm[i] is the thread whose part became
	// thread i's), with which the search turns a path of canonical states
	// into a run of the program: Found.Steps and Final are real runs. A
	// livelock is shown without steps (a canonical cycle is not a cycle
	// of the program), interleavings are not counted, and a bitstate
	// search ignores Canon's permutations (its steps would not be runs):
	// do not give Canon to one.
	Canon func(w []int64, perm []int)
	// OnEnd, if not nil, is called with the words of each final state
	// (no thread can step) the search finds, once a state, by the worker
	// that found it: it must be safe to call from several goroutines at
	// once, and the words are valid during the call only. (Of a level
	// that a bound cut short, the final states found are reported too.)
	OnEnd func(w []int64)
	// Progress, if not nil, is called now and then (at the end of each
	// level, at most a few times a second) with what is done so far.
	Progress func(Progress)
	// Budget, if above 0, stops the search, incomplete, after that long.
	Budget time.Duration
}

// Progress is how far a search has got.
type Progress struct {
	States, Transitions int64
	Depth               int
	Bytes               int64
	Elapsed             time.Duration
}

// Stop says why a search stopped before it was complete.
type Stop string

// The reasons a search stops early.
const (
	StopMaxStates Stop = "max_states" // Options.MaxStates states visited
	StopMemory    Stop = "memory"     // Options.MaxBytes reached
	StopMaxSteps  Stop = "max_steps"  // a state further than Options.MaxSteps
	StopCanceled  Stop = "canceled"   // the context ended
	StopBudget    Stop = "budget"     // Options.Budget elapsed
	StopBitstate  Stop = "bitstate"   // a bitstate search, which is never a proof
)

// Result is what a search found.
type Result struct {
	// Complete: every reachable state was visited (of the shard's
	// share, for a shard); Stop says why not.
	Complete bool
	Stop     Stop
	// States are the distinct states visited, Transitions the steps
	// taken (every step of every state expanded), Depth the number of
	// steps of the longest shortest path to a state.
	States, Transitions int64
	Depth               int
	// Failures counts the failing steps (a state and a thread) and the
	// failing final states found, each once, and a livelock.
	Failures int64
	// Kinds counts the failures by what, where and by whom.
	Kinds map[Kind]int64
	// Failure is the failure shown: of those found, the one with the
	// fewest steps, and of those the first in thread order; nil when
	// there is none. A livelock is shown only when nothing else failed.
	Failure *Found
	// Final is the steps of a run that passed, to a final state (the
	// fewest steps, the first in thread order); nil when no run can.
	Final []int
	// Interleavings counts the maximal runs (a failing step ends one)
	// and FailingInterleavings those that fail; nil unless Options.Count
	// and a complete, unsharded search of an acyclic state graph.
	// Cyclic says the graph has a cycle: there are infinitely many.
	// Saturated says a count reached 2^64-1, which it then holds: there
	// are at least that many.
	Interleavings, FailingInterleavings *big.Int
	Cyclic, Saturated                   bool
	// Bytes is the most memory the search kept at once, by its own
	// count.
	Bytes int64
	// Workers is how many goroutines expanded states.
	Workers int
	// Coverage is a bitstate search's estimate of what it covered.
	Coverage *Coverage
	// Roots is, for a shard, how many states of the split level it
	// searched from, of how many.
	Roots, RootsOf int
	// Fallback says why a search asked for with Options.DPOR searched by
	// state hashing instead; empty when it did not.
	Fallback string
	Elapsed  time.Duration
}

// Found is a failing run: its steps, and what failed at the end.
type Found struct {
	Steps   []int
	Failure *program.Failure
	// Lasso is set for a livelock: Steps is Lasso.Prefix then
	// Lasso.Cycle, and the cycle's steps lead back to the state they
	// start from, in which no run can end.
	Lasso *Lasso
}

// Lasso is a run that goes on for ever: the prefix, then the cycle
// repeated.
type Lasso struct {
	Prefix, Cycle []int
}

// Kind is a failure by what, where and by whom.
type Kind struct {
	Verdict program.Verdict
	Pos     program.Pos
	Thread  string
}

func kindOf(f *program.Failure) Kind { return Kind{f.Verdict, f.Pos, f.Thread} }

// String is "verdict line:col thread".
func (k Kind) String() string { return fmt.Sprintf("%s %s %s", k.Verdict, k.Pos, k.Thread) }

// Coverage is a bitstate search's estimate of its coverage, as SPIN
// reports it.
type Coverage struct {
	// Bits is the size of the bit array, HashFunctions how many bits a
	// state sets.
	Bits          int64
	HashFunctions int
	// HashFactor is the bits per state stored: SPIN's rule of thumb is
	// that above 100 the coverage is close to complete.
	HashFactor float64
	// Omission is the chance that, at the end, a state never seen would
	// have been taken for one seen: (1-e^(-k·n/m))^k, n states stored.
	Omission float64
	// Expected is the fraction of the states met that were stored rather
	// than taken for ones seen, on average over the search: one minus
	// the mean of that chance as the array filled. It is an estimate of
	// the coverage as if each state had one path to it: a state taken
	// for one seen also hides the states only it leads to.
	Expected float64
}

func (o Options) withDefaults() (Options, error) {
	if o.MaxSteps < 0 || o.MaxStates < 0 || o.MaxBytes < 0 || o.Workers < 0 || o.Bitstate < 0 {
		return o, fmt.Errorf("statespace: max_steps, max_states, max_bytes, workers and bitstate cannot be negative")
	}
	if o.DPOR && (o.Canon != nil || o.Bitstate > 0) {
		return o, fmt.Errorf("statespace: DPOR takes neither symmetry nor bitstate")
	}
	if o.Canon != nil || o.DPOR {
		o.Count = false // the counts would be of canonical paths
	}
	if o.MaxSteps == 0 {
		o.MaxSteps = program.DefaultMaxSteps
	}
	if o.MaxStates == 0 {
		o.MaxStates = DefaultMaxStates
	}
	o.MaxStates = min(o.MaxStates, maxStateNumber)
	if o.MaxBytes == 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Shard.Count < 0 || o.Shard.Count > 0 && (o.Shard.Index < 0 || o.Shard.Index >= o.Shard.Count) {
		return o, fmt.Errorf("statespace: shard %s: the index must be in [0, %d)", o.Shard, o.Shard.Count)
	}
	return o, nil
}
