package control

import (
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// TestFinds: each strategy finds each classic bug, with the verdict the
// bug deserves, and a correct program passes.
func TestFinds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program string
		verdict program.Verdict
	}{
		{"lost", program.Expect},
		{"lost_loop", program.Expect},
		{"flaglock", program.MutualExclusion},
		{"opposite", program.Deadlock},
		{"rendezvous_wrong", program.Deadlock},
		{"fixed", program.Pass},
		{"rendezvous", program.Pass},
		{"barrier", program.Pass},
		{"livelock", program.MaxSteps},
	}
	for _, sched := range []Scheduler{Random, PCT, Exhaustive} {
		for _, tt := range tests {
			t.Run(string(sched)+"/"+tt.program, func(t *testing.T) {
				t.Parallel()
				out := mustSearch(t, tt.program, Options{Scheduler: sched, Runs: 200, Seed: 1, Shrink: true, MaxSteps: 500})
				if out.Verdict != tt.verdict {
					t.Fatalf("verdict %s, want %s (runs %d, failures %d)\n%s", out.Verdict, tt.verdict, out.Runs, out.Failures, format(out))
				}
				if out.OK != (tt.verdict == program.Pass) {
					t.Errorf("ok %v with verdict %s", out.OK, out.Verdict)
				}
				if out.ScheduleText == "" || !strings.HasPrefix(out.ScheduleText, "pmrun1:"+tt.program+":") {
					t.Errorf("schedule %q", out.ScheduleText)
				}
				if out.Interleaving == nil || len(out.Interleaving.Rows) != out.Steps {
					t.Errorf("interleaving of %d steps shown for a run of %d", rows(out), out.Steps)
				}
			})
		}
	}
}

func rows(out Outcome) int {
	if out.Interleaving == nil {
		return -1
	}
	return len(out.Interleaving.Rows)
}

func format(out Outcome) string {
	if out.Interleaving == nil {
		return "(no interleaving)"
	}
	return out.ScheduleText + "\n" + out.Interleaving.Format()
}
