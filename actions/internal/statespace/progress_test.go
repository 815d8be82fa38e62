package statespace

import (
	"slices"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// TestStarvation: a weak semaphore lets a thread starve, and so does a
// mutex never let go; a FIFO one does not, a thread that only an unfair
// scheduler would leave out does not (weak fairness), and programs whose
// runs all end have no cycle. Each lasso found is checked on the model:
// the cycle leads back to the state it starts from, the starving thread,
// not finished, never takes its progress step in it, and every thread
// that can go on at every state of the cycle takes a step in it.
func TestStarvation(t *testing.T) {
	t.Parallel()
	set := programtest.File(t, "testdata/progress.yaml")
	for name, want := range map[string]string{"weak_lock": "T0", "held_for_ever": "A", "fifo_lock": "", "unfair_only": "", "ends": ""} {
		t.Run(name, func(t *testing.T) {
			p, err := set.Program(name)
			if err != nil {
				t.Fatal(err)
			}
			f, states, complete, err := Starvation(t.Context(), p, 0)
			if err != nil || !complete || states == 0 {
				t.Fatalf("states %d, complete %v, err %v", states, complete, err)
			}
			if want == "" {
				if f != nil {
					t.Fatalf("found %v (steps %v, cycle %v)", f.Failure, f.Lasso.Prefix, f.Lasso.Cycle)
				}
				return
			}
			if f == nil || f.Failure.Verdict != program.Starvation || f.Failure.Thread != want {
				t.Fatalf("found %+v; want %s starving", f, want)
			}
			checkStarving(t, p, f)
		})
	}
	// Starves of runs that do not starve anyone: B's loop leaves A out
	// although it could go on all along (not fair); T1's wait alone does
	// not come back where it started.
	if p, _ := set.Program("unfair_only"); Starves(p, nil, []int{1, 1}) != nil {
		t.Error("unfair_only: Starves of B's loop alone is not nil")
	}
	p, _ := set.Program("weak_lock")
	if Starves(p, nil, []int{1}) != nil {
		t.Error("weak_lock: Starves of one wait is not nil")
	}
	// A cap on the states makes the search incomplete.
	if f, _, complete, _ := Starvation(t.Context(), p, 3); complete || f != nil {
		t.Errorf("with 3 states: complete %v, found %v", complete, f)
	}
}

func checkStarving(t *testing.T, p *program.Program, f *Found) {
	t.Helper()
	l := f.Lasso
	if !slices.Equal(f.Steps, append(slices.Clone(l.Prefix), l.Cycle...)) || len(l.Cycle) == 0 {
		t.Fatalf("steps %v are not prefix %v then cycle %v", f.Steps, l.Prefix, l.Cycle)
	}
	starving, _ := p.Thread(f.Failure.Thread)
	s, _ := replay(t, p, l.Prefix)
	at := s.Hash()
	always := make([]bool, len(p.Threads()))
	for u := range always {
		always[u] = true
	}
	took := make([]bool, len(p.Threads()))
	for i, u := range l.Cycle {
		if s.Done(starving) {
			t.Fatalf("cycle step %d: %s has finished", i, f.Failure.Thread)
		}
		for v := range always {
			always[v] = always[v] && s.IsEnabled(v)
		}
		if u == starving && s.AtProgress(u) {
			t.Fatalf("cycle step %d: %s makes progress", i, f.Failure.Thread)
		}
		took[u] = true
		if !s.IsEnabled(u) {
			t.Fatalf("cycle step %d: thread %d cannot step", i, u)
		}
		if fl := s.Advance(u); fl != nil {
			t.Fatalf("cycle step %d fails: %v", i, fl)
		}
	}
	if s.Hash() != at {
		t.Fatalf("the cycle %v does not lead back to where it starts", l.Cycle)
	}
	for u := range always {
		if always[u] && !took[u] {
			t.Errorf("thread %d can go on all along the cycle and takes no step: not fair", u)
		}
	}
	if g := Starves(p, l.Prefix, l.Cycle); g == nil || *g != *f.Failure {
		t.Errorf("Starves of the lasso: %v; want %v", g, f.Failure)
	}
	t.Log(f.Failure.Msg)
}
