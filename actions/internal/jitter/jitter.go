// Package jitter draws the random extra delays the labs add to their
// workers' work, from a seed, so that the same seed repeats them.
package jitter

import (
	"math/rand/v2"
	"time"
)

// Source draws delays from 0 to its maximum, both included, from one
// stream of a seed; each worker has a stream of its own. It is not safe
// for concurrent use.
type Source struct {
	max time.Duration
	rng *rand.Rand
}

// New returns the source of stream of seed, for delays up to max (none if
// max is 0 or less).
func New(seed int64, stream uint64, max time.Duration) *Source {
	return &Source{max: max, rng: rand.New(rand.NewPCG(uint64(seed), stream))}
}

// Next returns the next delay.
func (s *Source) Next() time.Duration {
	if s.max <= 0 {
		return 0
	}
	return time.Duration(s.rng.Int64N(int64(s.max) + 1))
}
