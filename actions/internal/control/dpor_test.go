package control

import (
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// TestExhaustiveDPOR: exhaustive with DPOR gives the plain search's
// verdict, complete, and a failure replayed on the threads as short as
// the plain search's after shrinking; a program with a spin is searched
// by state hashing instead, and the note says so.
func TestExhaustiveDPOR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program  string
		verdict  program.Verdict
		fallback bool
	}{
		{"fixed", program.Pass, false},
		{"lost", program.Expect, false},
		{"rendezvous_wrong", program.Deadlock, false},
		{"opposite", program.Deadlock, false},
		{"flaglock", program.MutualExclusion, true},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			plain := mustSearch(t, tt.program, Options{Scheduler: Exhaustive, Shrink: true, MaxSteps: 500})
			dp := mustSearch(t, tt.program, Options{Scheduler: Exhaustive, Shrink: true, MaxSteps: 500, DPOR: true})
			if plain.Verdict != tt.verdict || dp.Verdict != tt.verdict {
				t.Fatalf("verdict %s with dpor, %s without; want %s\n%s", dp.Verdict, plain.Verdict, tt.verdict, format(dp))
			}
			if !dp.Complete {
				t.Errorf("not complete with dpor")
			}
			if got := strings.Contains(dp.Note, "dpor: searched by state hashing instead"); got != tt.fallback {
				t.Errorf("note %q; want a fallback: %v", dp.Note, tt.fallback)
			}
			if dp.Interleaving == nil || len(dp.Interleaving.Rows) != dp.Steps {
				t.Errorf("interleaving of %d steps shown for a run of %d", rows(dp), dp.Steps)
			}
			if tt.verdict != program.Pass && dp.Steps != plain.Steps {
				t.Errorf("a failure in %d steps with dpor, %d without", dp.Steps, plain.Steps)
			}
		})
	}
}
