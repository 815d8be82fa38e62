package control

import (
	"context"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/statespace"
)

// MaxExhaustiveThreads is how many threads exhaustive handles: as many as
// a program may have.
const MaxExhaustiveThreads = program.MaxThreads

// Exhaustive is the scheduler that visits every distinct interleaving.
const Exhaustive = "exhaustive"

// exhaustive searches every state of the program on the model alone
// (package statespace: breadth first, state hashing, the state graph for
// livelocks and counts), then replays the run it shows on the program's
// threads. It needs a system that is a program.
type exhaustive struct{}

func (exhaustive) Name() string { return Exhaustive }
func (exhaustive) Doc() string {
	return "every reachable state, on the model, the failure with the fewest steps replayed on the real threads (with progress steps, a starving thread too, as a lasso): a pass is a proof, unless it stopped before it finished (verdict incomplete)"
}

func (exhaustive) Check(p *program.Program, opts Options) []OptionError {
	return controlledOnly(opts)
}

func (exhaustive) Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	p, err := sys.needProgram(Exhaustive)
	if err != nil {
		return engine.Outcome{Run: -1, Verdict: program.Pass}, err
	}
	how := engine.How{Scheduler: Exhaustive, Kind: engine.KindSearch, Unit: "step", Proof: opts.Bitstate == 0}
	return search(ctx, sys, opts, how, func(ctx context.Context, _ engine.Threads, opts Options) (searchResult, error) {
		return searchExhaustive(ctx, p, opts)
	})
}

// searchExhaustive searches p's states on the model (no thread runs) and
// says what the search found: the failure with the fewest steps (a
// livelock as a lasso), else a run to a final state, for the engine to
// shrink and replay on the threads.
func searchExhaustive(ctx context.Context, p *program.Program, opts Options) (searchResult, error) {
	so := statespace.Options{
		MaxSteps: opts.MaxSteps, MaxStates: opts.MaxStates, MaxBytes: opts.MaxBytes, Workers: opts.Workers,
		Shard: statespace.Shard(opts.Shard), Bitstate: opts.Bitstate, Count: opts.Shard.whole(), Budget: opts.Budget,
		DPOR: opts.DPOR,
	}
	if opts.Explored != nil {
		so.Progress = func(pr statespace.Progress) { opts.Explored(int(pr.States), int(pr.Transitions)) }
	}
	if opts.Symmetry && opts.Bitstate == 0 && !opts.DPOR {
		so.Canon = p.Symmetry()
	}
	res, err := statespace.Search(ctx, p, so)
	if err == nil && so.Canon != nil && res.Failure != nil && res.Failure.Steps == nil {
		// A livelock among canonical states: its cycle need not be one
		// of the program's, so the search without symmetry shows it.
		so.Canon = nil
		res, err = statespace.Search(ctx, p, so)
	}
	out := searchResult{
		runs: int(res.Transitions), failures: int(res.Failures), complete: res.Complete,
		states: int(res.States), trans: int(res.Transitions),
		interleavings: res.Interleavings, failingInterleavings: res.FailingInterleavings, cyclic: res.Cyclic,
		space: &res,
	}
	if f := res.Failure; f != nil {
		out.first = &found{steps: f.Steps, failure: f.Failure}
		if f.Lasso != nil {
			out.first.repeats = len(f.Lasso.Cycle)
		}
	}
	if res.Final != nil {
		out.last = &found{steps: res.Final}
	}
	if !res.Complete {
		out.stopped = stoppedBecause(res, opts)
	}
	if err == nil && res.Complete && res.Failure == nil && len(p.ProgressThreads()) > 0 {
		err = searchStarvation(ctx, p, opts, &out)
	}
	if c := res.Coverage; c != nil {
		out.note = coverageNote(res)
	}
	if res.Fallback != "" {
		out.note = fmt.Sprintf("dpor: searched by state hashing instead, since %s", res.Fallback)
	}
	return out, err
}

// stoppedBecause says why a search that did not complete stopped, and
// what would let it finish.
func stoppedBecause(res statespace.Result, opts Options) string {
	switch res.Stop {
	case statespace.StopMaxStates:
		return fmt.Sprintf("the search stopped at max_states, %d states, before it explored every state: raise max_states, %sor make the program smaller (fewer threads, rounds or values)", opts.MaxStates, bitstateAdvice(opts))
	case statespace.StopMemory:
		return fmt.Sprintf("the search stopped at max_memory (%s), %d states, before it explored every state: raise max_memory, %sor make the program smaller (fewer threads, rounds or values)", sizeText(opts.MaxBytes), res.States, bitstateAdvice(opts))
	case statespace.StopMaxSteps:
		return fmt.Sprintf("the search did not go past a state %d steps from the start (max_steps): raise max_steps", opts.MaxSteps)
	case statespace.StopBudget, statespace.StopCanceled:
		return fmt.Sprintf("the search ran out of time after %d states, before it explored every state", res.States)
	case statespace.StopBitstate:
		return coverageNote(res)
	}
	return fmt.Sprintf("the search stopped after %d states, before it explored every state", res.States)
}

// bitstateAdvice suggests a bitstate search to a search that is not one.
func bitstateAdvice(opts Options) string {
	if opts.Bitstate > 0 {
		return ""
	}
	return "search with bitstate (which covers more states in the same memory, but proves nothing), "
}

// coverageNote is what a bitstate search says of itself, as SPIN does.
func coverageNote(res statespace.Result) string {
	c := res.Coverage
	return fmt.Sprintf("bitstate search, which is never a proof: %d states stored in %s of bits (hash factor %.3g: above 100 the coverage is close to complete; %d bits a state); expected coverage %.4g%%, and a state never seen would have been taken for one seen with a chance of %.3g",
		res.States, sizeText(c.Bits/8), c.HashFactor, c.HashFunctions, 100*c.Expected, c.Omission)
}

// sizeText writes a size in bytes as a person reads it: 1GiB, 64MiB.
func sizeText(n int64) string {
	for _, u := range []struct {
		unit string
		size int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d%s", n/u.size, u.unit)
		}
	}
	return fmt.Sprintf("%dB", n)
}
