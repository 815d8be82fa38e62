package statespace

import (
	"slices"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// TestCounts: what a complete search finds on small programs, against
// counts worked out by hand: the interleavings, the states (every
// reachable one), the verdict of the failure shown and the failures.
func TestCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program       string
		interleavings int64 // -1: cyclic
		failing       int64
		states        int64
		verdict       program.Verdict
		failures      int64
	}{
		// 4!/(2!·2!): AABB ABAB ABBA BAAB BABA BBAA; states: a 3×3 grid.
		{"two_by_two", 6, 0, 9, program.Pass, 0},
		{"independent", 6, 0, 9, program.Pass, 0},
		{"three_by_one", 6, 0, 8, program.Pass, 0},    // 3!; states: who has stepped, 2^3
		{"three_and_two", 10, 0, 12, program.Pass, 0}, // 5!/(3!·2!); states 4×3
		// Only AABB and BBAA count 2; the two ends, count 2 and count 1
		// (the one failure).
		{"lost", 6, 4, 12, program.Expect, 1},
		{"fixed", 2, 0, 16, program.Pass, 0},
		{"rendezvous", 4, 0, 7, program.Pass, 0},
		{"rendezvous_wrong", 2, 2, 4, program.Deadlock, 1},
		{"opposite", 6, 2, 19, program.Deadlock, 1},
		// B's test while the flag is down comes back to the same state.
		{"spin", -1, -1, 3, program.Pass, 0},
		// Nobody can step: one state, one failing run of no step.
		{"stuck_at_start", 1, 1, 1, program.Deadlock, 1},
		// 2^12 states: who has stepped; 12! interleavings.
		{"one_step", 479001600, 0, 4096, program.Pass, 0},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			res := mustSearch(t, prog(t, tt.program), Options{Count: true})
			if !res.Complete {
				t.Fatalf("not complete: %s", res.Stop)
			}
			verdict := program.Pass
			if res.Failure != nil {
				verdict = res.Failure.Failure.Verdict
			}
			if verdict != tt.verdict || res.Failures != tt.failures {
				t.Errorf("verdict %s, %d failures; want %s, %d", verdict, res.Failures, tt.verdict, tt.failures)
			}
			switch {
			case tt.interleavings < 0:
				if !res.Cyclic || res.Interleavings != nil {
					t.Errorf("cyclic %v, interleavings %v; want a cycle", res.Cyclic, res.Interleavings)
				}
			case res.Interleavings == nil || res.Interleavings.Int64() != tt.interleavings ||
				res.FailingInterleavings.Int64() != tt.failing:
				t.Errorf("interleavings %v, %v failing; want %d, %d", res.Interleavings, res.FailingInterleavings, tt.interleavings, tt.failing)
			}
			if res.States != tt.states {
				t.Errorf("%d states, want %d", res.States, tt.states)
			}
		})
	}
}

// TestLivelock: a state from which no run can end is shown as a lasso:
// the shortest way to it, then the shortest cycle back to it.
func TestLivelock(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program       string
		prefix, cycle []int
	}{
		{"livelock", []int{}, []int{0}},
		// Both flags up, then either test of the other's flag spins.
		{"flag_only", []int{0, 1}, []int{0}},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			p := prog(t, tt.program)
			res := mustSearch(t, p, Options{})
			if !res.Complete || res.Failure == nil || res.Failure.Lasso == nil {
				t.Fatalf("complete %v, failure %+v: want a lasso", res.Complete, res.Failure)
			}
			l := res.Failure.Lasso
			if !slices.Equal(l.Prefix, tt.prefix) || !slices.Equal(l.Cycle, tt.cycle) {
				t.Errorf("lasso %v + %v, want %v + %v", l.Prefix, l.Cycle, tt.prefix, tt.cycle)
			}
			if res.Failure.Failure.Verdict != program.MaxSteps {
				t.Errorf("verdict %s, want max_steps", res.Failure.Failure.Verdict)
			}
			// The cycle comes back to the state it starts from.
			at, _ := replay(t, p, l.Prefix)
			again, _ := replay(t, p, res.Failure.Steps)
			if !at.Equal(again) {
				t.Errorf("the cycle does not come back: %v, then %v", at, again)
			}
		})
	}
}

// TestWorkersAgree: the result does not depend on how many workers
// share the levels: the same states, graph, failure and run shown.
func TestWorkersAgree(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"barrier", "flaglock", "opposite", "lost_loop", "flag_only", "one_step"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := prog(t, name)
			one := mustSearch(t, p, Options{Workers: 1, Count: true})
			for _, w := range []int{2, 3, 8} {
				got := mustSearch(t, p, Options{Workers: w, Count: true})
				if got.States != one.States || got.Transitions != got.Transitions || got.Failures != one.Failures || got.Depth != one.Depth {
					t.Errorf("%d workers: %d states, %d transitions, %d failures, depth %d; one: %d, %d, %d, %d",
						w, got.States, got.Transitions, got.Failures, got.Depth, one.States, one.Transitions, one.Failures, one.Depth)
				}
				if (got.Failure == nil) != (one.Failure == nil) || got.Failure != nil && !slices.Equal(got.Failure.Steps, one.Failure.Steps) {
					t.Errorf("%d workers show %+v, one %+v", w, got.Failure, one.Failure)
				}
				if !slices.Equal(got.Final, one.Final) {
					t.Errorf("%d workers end with %v, one with %v", w, got.Final, one.Final)
				}
				if (got.Interleavings == nil) != (one.Interleavings == nil) || got.Interleavings != nil && got.Interleavings.Cmp(one.Interleavings) != 0 {
					t.Errorf("%d workers count %v, one %v", w, got.Interleavings, one.Interleavings)
				}
			}
		})
	}
}
