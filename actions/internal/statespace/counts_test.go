package statespace

import (
	"fmt"
	"math/big"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// TestCountsSaturate: the interleavings are counted exactly while they
// fit in 64 bits, and saturate at 2^64-1 past that, saying so. Four
// threads each take n steps of their own: (4n)!/(n!)^4 interleavings.
func TestCountsSaturate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		n    int
		want string
		sat  bool
	}{
		{3, "369600", false},               // 12!/(3!)^4
		{10, "18446744073709551615", true}, // 40!/(10!)^4 ≈ 4.7·10^21
	} {
		src := fmt.Sprintf(`
own:
  vars: {a: 0, b: 0, c: 0, d: 0}
  threads:
    A: [{repeat: %[1]d, do: [atomic_set: a = a + 1]}]
    B: [{repeat: %[1]d, do: [atomic_set: b = b + 1]}]
    C: [{repeat: %[1]d, do: [atomic_set: c = c + 1]}]
    D: [{repeat: %[1]d, do: [atomic_set: d = d + 1]}]
`, tt.n)
		res := mustSearch(t, programtest.One(t, src, "own"), Options{Count: true})
		if !res.Complete || res.Interleavings == nil {
			t.Fatalf("n=%d: complete %v, interleavings %v", tt.n, res.Complete, res.Interleavings)
		}
		want, _ := new(big.Int).SetString(tt.want, 10)
		if res.Interleavings.Cmp(want) != 0 || res.Saturated != tt.sat || res.FailingInterleavings.Sign() != 0 {
			t.Errorf("n=%d: %v interleavings (%v failing), saturated %v; want %s, saturated %v", tt.n, res.Interleavings, res.FailingInterleavings, res.Saturated, tt.want, tt.sat)
		}
	}
}
