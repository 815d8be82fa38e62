package control

import (
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// TestExhaustiveSymmetry: with Symmetry, exhaustive reaches the verdict
// it reaches without, in fewer states where threads are alike, and the
// run it shows is a real one, replayed on the threads (a livelock's
// lasso too, found again without the reduction).
func TestExhaustiveSymmetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program string
		verdict program.Verdict
		fewer   bool
	}{
		{"lost_many", program.Expect, true},
		{"barrier", program.Pass, true},
		{"spin_alike", program.MaxSteps, true},
		{"flaglock", program.MutualExclusion, true}, // A: &body, B: *body
		{"opposite", program.Deadlock, false},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			plain := mustSearch(t, tt.program, Options{Scheduler: Exhaustive, Shrink: true, MaxSteps: 500})
			sym := mustSearch(t, tt.program, Options{Scheduler: Exhaustive, Shrink: true, MaxSteps: 500, Symmetry: true})
			if plain.Verdict != tt.verdict || sym.Verdict != tt.verdict {
				t.Fatalf("verdict %s with symmetry, %s without; want %s\n%s", sym.Verdict, plain.Verdict, tt.verdict, format(sym))
			}
			if !sym.Complete {
				t.Errorf("not complete with symmetry")
			}
			if tt.fewer && tt.verdict != program.MaxSteps && sym.States >= plain.States {
				t.Errorf("%d states with symmetry, %d without", sym.States, plain.States)
			}
			if !tt.fewer && sym.States != plain.States {
				t.Errorf("%d states with symmetry, %d without, and no alike threads", sym.States, plain.States)
			}
			if sym.Interleaving == nil || len(sym.Interleaving.Rows) != sym.Steps {
				t.Errorf("interleaving of %d steps shown for a run of %d", rows(sym), sym.Steps)
			}
			if tt.verdict != program.Pass && sym.Steps != plain.Steps {
				t.Errorf("a failure in %d steps with symmetry, %d without", sym.Steps, plain.Steps)
			}
		})
	}
}
