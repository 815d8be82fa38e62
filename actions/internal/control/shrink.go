package control

import (
	"slices"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// shrinkBudget bounds the model steps a shrink may take, so that it ends
// at the same place on every machine (a time limit would not).
const shrinkBudget = 4_000_000

// shrink looks for a schedule with fewer context switches (then fewer
// steps) that fails the same way as steps, the failing run's schedule: the
// same verdict at the same place. It works on the model alone, greedily:
// from the current best it tries, in a fixed order, the schedule's
// prefixes (the run then goes on as a replay does past its schedule's
// end: the last thread while it can, else the lowest), then moving a
// block of one thread's consecutive steps next to that thread's following
// or preceding block; it takes the first candidate that is better and
// starts over, until none is or the budget is spent. The caller replays
// the result on the real threads, which must fail as the returned failure
// says. Failures of max_steps are not shrunk.
func shrink(p *program.Program, steps []int, f *program.Failure, maxSteps int) ([]int, *program.Failure) {
	if f == nil || f.Verdict == program.MaxSteps {
		return steps, f
	}
	budget := shrinkBudget
	cur, curF := steps, f
	if quiet := withoutIdleSteps(p, steps); len(quiet) < len(steps) {
		if got, ok := evaluate(p, quiet, maxSteps, &budget); ok && sameKind(got.failure, f) {
			cur, curF = got.steps, got.failure
		}
	}
	for budget > 0 {
		better := false
		for cand := range candidates(cur) {
			got, ok := evaluate(p, cand, maxSteps, &budget)
			if ok && sameKind(got.failure, f) && improves(got.steps, cur) {
				cur, curF, better = got.steps, got.failure, true
				break
			}
			if budget <= 0 {
				break
			}
		}
		if !better {
			break
		}
	}
	return cur, curF
}

// sameKind says whether g is a failure like f: the same verdict at the
// same place.
func sameKind(g, f *program.Failure) bool {
	return g != nil && g.Verdict == f.Verdict && g.Pos == f.Pos
}

// withoutIdleSteps drops the steps that changed nothing at all (the test
// of a spin that found its condition as it was): the states that follow
// are the same without them.
func withoutIdleSteps(p *program.Program, steps []int) []int {
	s, f := p.NewState()
	if f != nil {
		return steps
	}
	out := make([]int, 0, len(steps))
	for _, t := range steps {
		before := s.Hash()
		info, err := s.Step(t)
		if err != nil {
			return steps
		}
		if info.Failure != nil || s.Hash() != before {
			out = append(out, t)
		}
		if info.Failure != nil {
			break
		}
	}
	return out
}

// improves says whether a has fewer switches than b, or as many and fewer
// steps.
func improves(a, b []int) bool {
	sa, sb := schedule.Switches(a), schedule.Switches(b)
	return sa < sb || sa == sb && len(a) < len(b)
}

type evaluated struct {
	steps   []int
	failure *program.Failure
}

// evaluate runs prefix on the model and goes on past it as a replay does;
// ok is false when prefix names a thread that cannot take its step.
func evaluate(p *program.Program, prefix []int, maxSteps int, budget *int) (evaluated, bool) {
	ch := newReplayChooser(p, prefix)
	bad := false
	res, err := p.Run(func(s *program.State, enabled []int) int {
		t, err := ch.choose(s, enabled)
		if err != nil {
			bad = true
			return prefix[ch.i-1] // Run refuses it, which ends the run
		}
		return t
	}, program.RunOptions{MaxSteps: maxSteps})
	*budget -= res.Steps + 1
	if err != nil || bad {
		return evaluated{}, false
	}
	return evaluated{steps: res.Schedule, failure: res.Failure}, true
}

// block is a run of consecutive steps of one thread.
type block struct{ t, from, n int }

func blocks(steps []int) []block {
	var out []block
	for i := 0; i < len(steps); {
		j := i
		for j < len(steps) && steps[j] == steps[i] {
			j++
		}
		out = append(out, block{steps[i], i, j - i})
		i = j
	}
	return out
}

// candidates yields the schedules shrink tries from cur, in order:
// prefixes ending before each block, shortest first; each block left out;
// then, for every block i and the next block k of the same thread, k
// pulled up to follow i, and i pushed down to precede k.
func candidates(cur []int) func(yield func([]int) bool) {
	return func(yield func([]int) bool) {
		bs := blocks(cur)
		for _, b := range bs {
			if !yield(cur[:b.from]) {
				return
			}
		}
		for _, b := range bs {
			if !yield(append(slices.Clip(cur[:b.from]), cur[b.from+b.n:]...)) {
				return
			}
		}
		for i, bi := range bs {
			for k := i + 1; k < len(bs); k++ {
				if bs[k].t != bi.t {
					continue
				}
				if !yield(moveBlock(cur, bs, k, i+1)) || !yield(moveBlock(cur, bs, i, k)) {
					return
				}
				break
			}
		}
	}
}

// moveBlock returns cur with block from moved to stand before block to
// (to may be len(bs): the end).
func moveBlock(cur []int, bs []block, from, to int) []int {
	order := make([]int, 0, len(bs))
	for j := range bs {
		if j == to {
			order = append(order, from)
		}
		if j != from {
			order = append(order, j)
		}
	}
	if to == len(bs) {
		order = append(order, from)
	}
	out := make([]int, 0, len(cur))
	for _, j := range order {
		out = append(out, cur[bs[j].from:bs[j].from+bs[j].n]...)
	}
	return slices.Clip(out)
}
