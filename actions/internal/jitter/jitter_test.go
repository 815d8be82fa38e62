package jitter_test

import (
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/jitter"
)

// TestSource: delays stay within [0, max], a seed and stream repeat them,
// another stream differs, and no maximum means no delay.
func TestSource(t *testing.T) {
	const max = time.Millisecond
	a, b, c := jitter.New(7, 1, max), jitter.New(7, 1, max), jitter.New(7, 2, max)
	same, differ := true, false
	for range 1000 {
		x, y, z := a.Next(), b.Next(), c.Next()
		if x < 0 || x > max {
			t.Fatalf("delay %v outside [0, %v]", x, max)
		}
		same = same && x == y
		differ = differ || x != z
	}
	if !same || !differ {
		t.Errorf("same seed and stream repeat: %v; another stream differs: %v", same, differ)
	}
	if d := jitter.New(7, 1, 0).Next(); d != 0 {
		t.Errorf("no maximum gave %v", d)
	}
}
