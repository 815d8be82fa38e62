package control

import (
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
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
		{"bad_start", program.Invariant},
	}
	for _, sched := range []string{Random, PCT, Exhaustive} {
		for _, tt := range tests {
			t.Run(sched+"/"+tt.program, func(t *testing.T) {
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

func rows(out engine.Outcome) int {
	if out.Interleaving == nil {
		return -1
	}
	return len(out.Interleaving.Rows)
}

func format(out engine.Outcome) string {
	if out.Interleaving == nil {
		return "(no interleaving)"
	}
	return out.ScheduleText + "\n" + out.Interleaving.Format()
}

// TestExhaustiveCutOff: a search cut by its runs, its states, its steps or
// its time says it is not complete.
func TestExhaustiveCutOff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		program string
		opts    Options
		verdict program.Verdict
		note    string
	}{
		{"states", "barrier", Options{MaxStates: 100}, program.Incomplete, "the search stopped at max_states, 100 states, before it explored every state: raise max_states, search with bitstate (which covers more states in the same memory, but proves nothing), or make the program smaller (fewer threads, rounds or values)"},
		{"memory", "counter3", Options{MaxBytes: 32 << 20}, program.Incomplete, "the search stopped at max_memory (32MiB), "},
		{"steps", "counter", Options{MaxSteps: 50}, program.MaxSteps, "the search did not go past a state 50 steps from the start (max_steps): raise max_steps"},
		{"states, no run ended", "counter", Options{MaxStates: 2000}, program.Incomplete, "the search stopped at max_states, 2000 states, before it explored every state: raise max_states, search with bitstate (which covers more states in the same memory, but proves nothing), or make the program smaller (fewer threads, rounds or values)"},
		{"time", "counter3", Options{Budget: 100 * time.Millisecond}, program.Incomplete, "the search ran out of time after "},
		{"bitstate", "barrier", Options{Bitstate: 1 << 20}, program.Incomplete, "bitstate search, which is never a proof: 1522 states stored in 1MiB of bits (hash factor 5.51e+03"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Scheduler = Exhaustive
			out := mustSearch(t, tt.program, tt.opts)
			if out.Complete || out.Verdict != tt.verdict || !strings.HasPrefix(out.Note, tt.note) || out.Interleavings != nil {
				t.Errorf("complete %v, verdict %s, note %q, interleavings %v", out.Complete, out.Verdict, out.Note, out.Interleavings)
			}
			if out.OK != (tt.verdict == program.Pass) {
				t.Errorf("ok %v with verdict %s", out.OK, out.Verdict)
			}
		})
	}
}
