package statespace

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// TestMemoryBound: a search whose states would take more memory than
// MaxBytes stops, incomplete, having kept no more than that; so does a
// shard of a split that never comes (the first level with eight states
// for each of ten million shards is beyond any memory).
func TestMemoryBound(t *testing.T) {
	t.Parallel()
	const bound = 24 << 20
	for _, shard := range []Shard{{}, {Index: 0, Count: 10_000_000}} {
		res := mustSearch(t, prog(t, "many_steps"), Options{MaxBytes: bound, Shard: shard})
		if res.Complete || res.Stop != StopMemory {
			t.Errorf("shard %s: complete %v, stop %q; want stopped by memory", shard, res.Complete, res.Stop)
		}
		if res.Bytes > bound || res.Bytes < bound/2 {
			t.Errorf("shard %s: kept %d bytes at most, bound %d", shard, res.Bytes, bound)
		}
		if res.States < 5_000 {
			t.Errorf("shard %s: stopped after %d states", shard, res.States)
		}
	}
}

// TestStops: the other bounds stop the search, incomplete, and say which.
func TestStops(t *testing.T) {
	t.Parallel()
	p := prog(t, "many_steps")
	if res := mustSearch(t, p, Options{MaxStates: 5000}); res.Stop != StopMaxStates || res.Complete {
		t.Errorf("max_states: complete %v, stop %q", res.Complete, res.Stop)
	}
	if res := mustSearch(t, p, Options{Budget: 50 * time.Millisecond, MaxBytes: 1 << 40, MaxStates: 1 << 30}); res.Stop != StopBudget || res.Complete {
		t.Errorf("budget: complete %v, stop %q", res.Complete, res.Stop)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	res, err := Search(ctx, p, Options{MaxBytes: 1 << 40, MaxStates: 1 << 30})
	if err == nil || res.Stop != StopCanceled || res.Complete {
		t.Errorf("canceled: complete %v, stop %q, error %v", res.Complete, res.Stop, err)
	}
	// A state 3 steps away that can still step: max_steps, shown.
	res = mustSearch(t, p, Options{MaxSteps: 3})
	if res.Stop != StopMaxSteps || res.Complete || res.Failure == nil || res.Failure.Failure.Verdict != program.MaxSteps || len(res.Failure.Steps) != 3 {
		t.Errorf("max_steps: complete %v, stop %q, failure %+v", res.Complete, res.Stop, res.Failure)
	}
}

// TestBoundInALevel: a bound reached in the middle of a level stops the
// search at the end of that level, which it finishes without keeping new
// states: the level's failures are found, the same whatever the number
// of workers.
func TestBoundInALevel(t *testing.T) {
	t.Parallel()
	p := prog(t, "racy")
	var first []int
	for _, workers := range []int{1, 2, 5} {
		for _, opts := range []Options{{MaxStates: 12}, {MaxStates: 20}} {
			opts.Workers = workers
			res := mustSearch(t, p, opts)
			if res.Complete || res.Failure == nil || res.Failure.Failure.Verdict != program.Assert {
				t.Fatalf("%+v: complete %v (%s), failure %+v; want an assert found, incomplete", opts, res.Complete, res.Stop, res.Failure)
			}
			if _, f := replay(t, p, res.Failure.Steps); f == nil || f.Verdict != program.Assert {
				t.Errorf("%+v: the steps shown end in %v", opts, f)
			}
			if first == nil {
				first = res.Failure.Steps
			} else if !slices.Equal(first, res.Failure.Steps) {
				t.Errorf("%+v: shows %v, another search %v", opts, res.Failure.Steps, first)
			}
		}
	}
}
