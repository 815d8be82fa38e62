package control

import (
	"math"
	"slices"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// TestPCTChooser follows one PCT run by hand: distinct starting priorities
// from d up, the highest enabled thread runs, and after the k_i-th step
// with a choice its thread drops to d − i.
func TestPCTChooser(t *testing.T) {
	t.Parallel()
	const n, d, k = 3, 3, 10
	for seed := range uint64(50) {
		c := newPCTChooser(newRNG(seed, 0), n, d, k)
		if got := slices.Sorted(slices.Values(c.prio)); !slices.Equal(got, []int{d, d + 1, d + 2}) {
			t.Fatalf("seed %d: priorities %v, want a permutation of d…d+n-1", seed, c.prio)
		}
		for _, ki := range c.change {
			if ki < 1 || ki > k {
				t.Fatalf("seed %d: change point %d outside 1…%d", seed, ki, k)
			}
		}
		prio := slices.Clone(c.prio)
		all := []int{0, 1, 2}
		for step := 1; step <= k; step++ {
			top := 0
			for u := range n {
				if prio[u] > prio[top] {
					top = u
				}
			}
			got, _ := c.choose(nil, all)
			if got != top {
				t.Fatalf("seed %d, step %d: chose %d, the highest priority is %d (%v)", seed, step, got, top, prio)
			}
			for i, ki := range c.change {
				if ki == step {
					prio[top] = d - (i + 1)
				}
			}
		}
		// A step with no choice is not counted.
		before := c.count
		c.choose(nil, []int{1})
		if c.count != before {
			t.Fatalf("seed %d: a step without a choice was counted", seed)
		}
	}
}

// TestPCTDepth: on threads that never block, a run of depth d switches at
// most d − 1 times beyond the one switch a finished thread forces, as the
// priorities say; and the bound reported is the paper's for the k the
// probe counted.
func TestPCTDepth(t *testing.T) {
	t.Parallel()
	for _, d := range []int{1, 2, 3, 4} {
		most := 0
		out := mustSearch(t, "three_and_two", Options{Scheduler: PCT, Depth: d, Runs: 200, Seed: 9,
			OnRun: func(r engine.RunInfo) {
				if r.Run >= 0 {
					most = max(most, r.Switches)
				}
			}})
		if most > d {
			t.Errorf("depth %d: a run switched %d times", d, most)
		}
		if d > 1 && most < 2 {
			t.Errorf("depth %d: no run switched more than once", d)
		}
		want := 1 / (2 * math.Pow(float64(out.PCTSteps), float64(d-1)))
		if out.PCTSteps < 1 || math.Abs(out.PCTBound-want) > 1e-12 {
			t.Errorf("depth %d: bound %g with k = %d, want %g", d, out.PCTBound, out.PCTSteps, want)
		}
	}
}

// TestPCTFindsAtLeastTheBound: over many runs, the share of runs that find
// a depth-2 bug (the lost update: both read before either writes) is at
// least the paper's bound.
func TestPCTFindsAtLeastTheBound(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"lost", "lost_loop", "opposite"} {
		out := mustSearch(t, name, Options{Scheduler: PCT, Depth: 2, Runs: 400, Seed: 4})
		if share := float64(out.Failures) / float64(out.Runs); share < out.PCTBound {
			t.Errorf("%s: %d of %d runs found it (%.3f), the bound is %.3f", name, out.Failures, out.Runs, share, out.PCTBound)
		}
	}
}

// TestPCTSpin: a spinning thread at the top priority does not hide the
// flag lock's real bug behind max_steps.
func TestPCTSpin(t *testing.T) {
	t.Parallel()
	maxSteps := 0
	out := mustSearch(t, "flaglock", Options{Scheduler: PCT, Runs: 300, Seed: 1, MaxSteps: 1000,
		OnRun: func(r engine.RunInfo) {
			if r.Verdict == program.MaxSteps {
				maxSteps++
			}
		}})
	if maxSteps > 0 || out.Verdict != program.MutualExclusion {
		t.Errorf("%d runs spun to max_steps; verdict %s", maxSteps, out.Verdict)
	}
}
