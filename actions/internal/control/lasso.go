package control

import (
	"context"

	"github.com/pmrun/pmrun/actions/internal/engine"
)

// lassoOf finds, in a run that took max_steps, the loop it went round: the
// steps up to the first state it came back to (a prefix, then a cycle
// that leads back to the state before it). It returns those steps and
// the cycle's length, or steps and 0 when the run never came back to a
// state (or its states cannot be hashed). The run is replayed on th's
// model; a map of the states seen, a few bytes each, up to max_steps.
func lassoOf(ctx context.Context, th engine.Threads, steps []int) ([]int, int) {
	if m, ok := th.(engine.Modeled); ok {
		th = m.Model()
	}
	d := &lassoDriver{th: th, steps: steps, seen: map[uint64]int{}}
	if err := th.Drive(ctx, d, 0); err != nil || d.end < 0 {
		return steps, 0
	}
	return steps[:d.end], d.end - d.from
}

// lassoDriver replays steps until a state comes back: from is the step
// count at its first visit, end at its second (-1: none).
type lassoDriver struct {
	th        engine.Threads
	steps     []int
	i         int
	s         engine.Run
	h         engine.Hasher
	started   bool
	seen      map[uint64]int
	from, end int
}

func (d *lassoDriver) Next() int {
	if !d.started {
		d.started, d.end = true, -1
		s, f, err := d.th.Start()
		h, ok := s.(engine.Hasher)
		if err != nil || f != nil || !ok {
			return -1
		}
		d.s, d.h = s, h
		d.seen[h.Hash()] = 0
	}
	if d.s == nil || d.end >= 0 || d.i >= len(d.steps) || !d.s.IsEnabled(d.steps[d.i]) {
		return -1
	}
	return d.steps[d.i]
}

func (d *lassoDriver) Step(t int) {
	info, err := d.s.Step(t)
	if err != nil || info.Failure != nil {
		d.s = nil
		return
	}
	d.i++
	h := d.h.Hash()
	if at, ok := d.seen[h]; ok {
		d.from, d.end = at, d.i
		return
	}
	d.seen[h] = d.i
}
