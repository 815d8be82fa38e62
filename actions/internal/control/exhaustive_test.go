package control

import (
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// TestExhaustiveCounts: the interleavings a complete exhaustive search
// counts, against counts worked out by hand, the verdict it reports, and
// the states it visits (every reachable state, for all the reduction).
func TestExhaustiveCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program       string
		interleavings int64 // -1: cyclic
		failing       int64
		states        int
		verdict       program.Verdict
		failures      int
	}{
		// 4!/(2!·2!): AABB ABAB ABBA BAAB BABA BBAA; states: a 3×3 grid of
		// how far each is.
		{"two_by_two", 6, 0, 9, program.Pass, 0},
		{"independent", 6, 0, 9, program.Pass, 0},
		{"three_by_one", 6, 0, 8, program.Pass, 0},    // 3!; states: who has stepped, 2^3
		{"three_and_two", 10, 0, 12, program.Pass, 0}, // 5!/(3!·2!); states 4×3
		// Only AABB and BBAA count 2. States: the start; A or B has read;
		// A or B has written (count 1); both have read; one has read after
		// the other wrote (temp 2); one has written over the other's read
		// (temp 1); the two ends, count 2 and count 1 (the one failure).
		{"lost", 6, 4, 12, program.Expect, 1},
		// The mutex serializes: who locks first. States: A holds it (3
		// places) while B has not started or has finished, likewise B, and
		// neither holds it (2×2).
		{"fixed", 2, 0, 16, program.Pass, 0},
		// Each signal before the other's wait. States: (A, B) steps done:
		// 00 10 01 11 21 12 22.
		{"rendezvous", 4, 0, 7, program.Pass, 0},
		// The two yields in either order, then both stuck: one failing
		// state.
		{"rendezvous_wrong", 2, 2, 4, program.Deadlock, 1},
		// Both first locks, in either order, then stuck: one deadlocked
		// state. States (A, B steps done) whose holdings do not overlap
		// and can be reached: 5 with A at 0, 4 at 1, 2 at 2, 3 at 3, 5 at
		// 4.
		{"opposite", 6, 2, 19, program.Deadlock, 1},
		// B's test while the flag is down comes back to the same state:
		// three states (the start, A has set it, both done), a cycle.
		{"spin", -1, -1, 3, program.Pass, 0},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			out := mustSearch(t, tt.program, Options{Scheduler: Exhaustive})
			if !out.Complete {
				t.Fatal("not complete")
			}
			if out.Verdict != tt.verdict || out.Failures != tt.failures {
				t.Errorf("verdict %s, %d failures; want %s, %d", out.Verdict, out.Failures, tt.verdict, tt.failures)
			}
			switch {
			case tt.interleavings < 0:
				if !out.Cyclic || out.Interleavings != nil {
					t.Errorf("cyclic %v, interleavings %v; want a cycle", out.Cyclic, out.Interleavings)
				}
			case out.Interleavings == nil || out.Interleavings.Int64() != tt.interleavings ||
				out.FailingInterleavings == nil || out.FailingInterleavings.Int64() != tt.failing:
				t.Errorf("interleavings %v, %v failing; want %d, %d", out.Interleavings, out.FailingInterleavings, tt.interleavings, tt.failing)
			}
			if out.States != tt.states {
				t.Errorf("%d states, want %d", out.States, tt.states)
			}
		})
	}
}
