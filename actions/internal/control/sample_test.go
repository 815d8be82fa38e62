package control

import (
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// TestSampleIsNoProof: a search that made every run it was asked for but
// only sampled the runs (random, pct, bounded short of its last
// preemption) passes with a note that says it is not a proof and what
// is; a search that is one (exhaustive, bounded that ran out of runs to
// make) has no such note.
func TestSampleIsNoProof(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts Options
		note string // "" : no note
	}{
		{"random", Options{Scheduler: Random, Runs: 5}, "5 random runs found no failure: a sample of the runs, not a proof (scheduler: exhaustive searches every state)"},
		{"pct", Options{Scheduler: PCT, Runs: 5}, "5 pct runs found no failure: a sample of the runs, not a proof"},
		{"bounded short", Options{Scheduler: Bounded, Preemptions: 0}, "every run with at most no preemption passed, and runs with more were not made: not a proof"},
		{"bounded all", Options{Scheduler: Bounded, Preemptions: 20}, ""},
		{"exhaustive", Options{Scheduler: Exhaustive}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := Search(t.Context(), programtest.One(t, fixed2, "fixed2"), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !out.OK || out.Verdict != program.Pass || !out.Complete {
				t.Fatalf("ok %v, verdict %s, complete %v; want a pass (note %q)", out.OK, out.Verdict, out.Complete, out.Note)
			}
			if tt.note == "" && out.Note != "" || !strings.HasPrefix(out.Note, tt.note) {
				t.Errorf("note %q; want %q", out.Note, tt.note)
			}
		})
	}
}

// fixed2 is the lost update under a mutex, two rounds: runs with a
// preemption and without.
const fixed2 = `
fixed2:
  vars: {count: 0}
  mutexes: [m]
  threads:
    A: &inc
      - repeat: 2
        do: [lock: m, set: count = count + 1, unlock: m]
    B: *inc
  expect: count == 4
`

// TestSampleOfEndlessRuns: random and pct on a program with progress
// steps, whose runs need not end, cut the runs at max_steps instead of
// calling them livelocks (exhaustive proves this one free of
// starvation), and say that only exhaustive judges starvation.
func TestSampleOfEndlessRuns(t *testing.T) {
	t.Parallel()
	for _, sched := range []string{Random, PCT} {
		t.Run(sched, func(t *testing.T) {
			t.Parallel()
			out := mustSearch(t, "fifo_lock", Options{Scheduler: sched, Runs: 3, MaxSteps: 200})
			if !out.OK || out.Verdict != program.Pass || out.Failures != 0 {
				t.Fatalf("ok %v, verdict %s, %d failures; want a pass\n%s", out.OK, out.Verdict, out.Failures, format(out))
			}
			for _, want := range []string{"3 of 3 runs went on past max_steps (200) and were cut", "not a proof", "only exhaustive judges"} {
				if !strings.Contains(out.Note, want) {
					t.Errorf("note %q; want %q in it", out.Note, want)
				}
			}
		})
	}
}
