package statespace

import (
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// prog returns a program of testdata/programs.yaml.
func prog(t testing.TB, name string) *program.Program {
	t.Helper()
	return programtest.Prog(t, "testdata/programs.yaml", name)
}

// mustSearch runs Search and fails the test on an error.
func mustSearch(t testing.TB, p *program.Program, opts Options) Result {
	t.Helper()
	res, err := Search(t.Context(), p, opts)
	if err != nil {
		t.Fatalf("%s: %v", p.Name(), err)
	}
	return res
}

// replay takes steps on the model from the start and returns the state and
// the failure of the last step or of the end (nil if none).
func replay(t testing.TB, p *program.Program, steps []int) (*program.State, *program.Failure) {
	t.Helper()
	s, f := p.NewState()
	if f != nil {
		return s, f
	}
	for i, th := range steps {
		if !s.IsEnabled(th) {
			t.Fatalf("step %d: thread %d cannot step", i, th)
		}
		if f := s.Advance(th); f != nil {
			if i != len(steps)-1 {
				t.Fatalf("step %d of %d failed: %v", i, len(steps), f)
			}
			return s, f
		}
	}
	if len(s.Enabled()) == 0 {
		return s, s.End()
	}
	return s, nil
}
