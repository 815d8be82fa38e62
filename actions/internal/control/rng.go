package control

import (
	"math/bits"
	"math/rand/v2"
)

// rng is the randomness of one run: PCG (the DXSM variant of math/rand/v2,
// whose output is specified) seeded with the search's seed and the run's
// number, so that a run depends on nothing else and replays alone. The
// bounded draws are written here rather than taken from rand.Rand, so that
// the sequence of choices is fixed by this package whatever Go's library
// does with its helpers.
type rng struct{ pcg rand.PCG }

// probeRun is the stream of PCT's probe run (see pctSearch), apart from
// every run's.
const probeRun = ^uint64(0)

func newRNG(seed, run uint64) *rng {
	r := &rng{}
	r.pcg.Seed(seed, run)
	return r
}

// below returns a uniform integer in [0, n), n > 0, by Lemire's
// multiply-and-reject method: the high word of a 128-bit product, with the
// few values that would bias it drawn again.
func (r *rng) below(n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(r.pcg.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.pcg.Uint64(), un)
		}
	}
	return int(hi)
}

// perm returns a uniform permutation of [0, n) (Fisher–Yates).
func (r *rng) perm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	for i := n - 1; i > 0; i-- {
		j := r.below(i + 1)
		p[i], p[j] = p[j], p[i]
	}
	return p
}
