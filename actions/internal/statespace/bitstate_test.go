package statespace

import (
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// TestBitstate: with bits to spare, a bitstate search visits what the full
// search visits and finds the same failures, but never calls itself
// complete; with too few bits it misses states and its estimate says so.
func TestBitstate(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"barrier", "flaglock", "opposite", "lost_loop", "one_step", "rendezvous_wrong"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := prog(t, name)
			full := mustSearch(t, p, Options{})
			bit := mustSearch(t, p, Options{Bitstate: 1 << 20})
			if bit.Complete || bit.Stop != StopBitstate {
				t.Errorf("complete %v, stop %q: a bitstate search is never complete", bit.Complete, bit.Stop)
			}
			if bit.States != full.States {
				t.Errorf("%d states, the full search %d", bit.States, full.States)
			}
			for k := range full.Kinds {
				if k.Verdict != program.MaxSteps && bit.Kinds[k] == 0 {
					t.Errorf("missed %s", k)
				}
			}
			if (bit.Failure == nil) != (full.Failure == nil || full.Failure.Lasso != nil) {
				t.Errorf("shows %v, the full search %v", bit.Failure, full.Failure)
			}
			if bit.Failure != nil {
				if _, f := replay(t, p, bit.Failure.Steps); f == nil || kindOf(f) != kindOf(bit.Failure.Failure) {
					t.Errorf("the steps shown end in %v, not %v", f, bit.Failure.Failure)
				}
			}
			c := bit.Coverage
			if c == nil || c.HashFactor < 100 || c.Omission > 1e-5 || c.Expected < 0.999 {
				t.Errorf("coverage %+v, want a hash factor over 100 and about all of it", c)
			}
		})
	}
	t.Run("small", func(t *testing.T) {
		t.Parallel()
		p := prog(t, "one_step")
		bit := mustSearch(t, p, Options{Bitstate: 256}) // 2048 bits for 4096 states
		if c := bit.Coverage; bit.States >= 4096 || c.HashFactor > 2 || c.Omission < 0.3 || c.Expected > 0.9 {
			t.Errorf("%d states of 4096, coverage %+v", bit.States, bit.Coverage)
		}
	})
}
