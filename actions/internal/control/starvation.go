package control

import (
	"context"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/statespace"
)

// starvationBytes is what the search for starving threads keeps a state
// (its fingerprint, its steps, its place in the graph), about, at its
// peak (Morris's mutex of 6 threads, 5,314,792 states: 504 MB RSS; it
// was 160 with a Go map and a state object for each): it bounds the
// states that search may keep by Options.MaxBytes.
const starvationBytes = 100

// searchStarvation looks, after a search that found no failure, for a
// thread of p that starves ([statespace.Starvation]) and puts what it
// found in out: the starvation as the failure shown, a lasso, or why it
// could not finish.
func searchStarvation(ctx context.Context, p *program.Program, opts Options, out *searchResult) error {
	limit := opts.MaxStates
	if byBytes := int(opts.MaxBytes / starvationBytes); opts.MaxBytes > 0 && byBytes < limit {
		limit = byBytes
	}
	f, states, complete, err := statespace.Starvation(ctx, p, limit)
	if err != nil {
		return err
	}
	switch {
	case f != nil:
		out.first = &found{steps: f.Steps, failure: f.Failure, repeats: len(f.Lasso.Cycle)}
		out.failures++
	case !complete:
		out.complete = false
		out.stopped = fmt.Sprintf("the search for starving threads (a progress step) keeps every state and step, and stopped after %d states (max_states, or max_memory at about %d bytes a state), before it saw them all: raise max_states or max_memory, or make the program smaller", states, starvationBytes)
		if ctx.Err() != nil {
			out.stopped = fmt.Sprintf("the search for starving threads ran out of time after %d states, before it saw them all", states)
		}
	}
	return nil
}

// starvedReplay is the starvation a replay of steps on p shows, when the
// steps are a lasso that starves a thread: the state after them is one
// they went through before, the steps since then go round fairly, and a
// thread with a progress step never takes it there. It returns the
// failure and how many last steps go round; nil and 0 otherwise.
func starvedReplay(p *program.Program, steps []int) (*program.Failure, int) {
	if p == nil || len(p.ProgressThreads()) == 0 || len(steps) == 0 {
		return nil, 0
	}
	s, f := p.NewState()
	if f != nil {
		return nil, 0
	}
	hashes := []uint64{s.Hash()}
	for _, t := range steps {
		if !s.IsEnabled(t) || s.Advance(t) != nil {
			return nil, 0
		}
		hashes = append(hashes, s.Hash())
	}
	end := hashes[len(steps)]
	for i := len(steps) - 1; i >= 0; i-- {
		if hashes[i] == end {
			if f := statespace.Starves(p, steps[:i], steps[i:]); f != nil {
				return f, len(steps) - i
			}
			return nil, 0
		}
	}
	return nil, 0
}
