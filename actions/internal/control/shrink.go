package control

import (
	"context"
	"slices"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// shrinkBudget bounds the model steps a shrink may take, so that it ends
// at the same place on every machine (a time limit would not).
const shrinkBudget = 4_000_000

// shrink looks for a schedule with fewer context switches (then fewer
// steps) that fails the same way as steps, the failing run's schedule: the
// same verdict at the same place. It re-runs its candidates on th's model
// (th itself when th has none), greedily: from the current best it tries,
// in a fixed order, the schedule's prefixes (the run then goes on as a
// replay does past its schedule's end: the last thread while it can,
// else the lowest), then moving a block of one thread's consecutive steps
// next to that thread's following or preceding block; it takes the first
// candidate that is better and starts over, until none is or the budget
// is spent. The caller replays the result on the real threads, which
// must fail as the returned failure says. Failures of max_steps are not
// shrunk. With short, steps have the fewest steps there are (an
// exhaustive search's), and a candidate must not be longer.
func shrink(ctx context.Context, th engine.Threads, steps []int, f *program.Failure, maxSteps int, short bool) ([]int, *program.Failure) {
	if f == nil || f.Verdict == program.MaxSteps || f.Verdict == program.Starvation {
		return steps, f
	}
	if m, ok := th.(engine.Modeled); ok {
		th = m.Model()
	}
	// A kind whose runs execute a program spends its budget in runs.
	budget, perRun := shrinkBudget, false
	if e, ok := th.(engine.Executed); ok {
		budget, perRun = e.ShrinkRuns(), true
	}
	cur, curF := steps, f
	if quiet := withoutIdleSteps(ctx, th, steps); len(quiet) < len(steps) {
		if got, ok := evaluate(ctx, th, quiet, maxSteps, &budget, perRun); ok && sameKind(got.failure, f) {
			cur, curF = got.steps, got.failure
		}
	}
	for budget > 0 {
		better := false
		for cand := range candidates(cur) {
			got, ok := evaluate(ctx, th, cand, maxSteps, &budget, perRun)
			if ok && sameKind(got.failure, f) && improves(got.steps, cur) && (!short || len(got.steps) <= len(cur)) {
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
// are the same without them. Runs that cannot hash their state keep
// every step.
func withoutIdleSteps(ctx context.Context, th engine.Threads, steps []int) []int {
	d := &idleDriver{th: th, steps: steps, out: make([]int, 0, len(steps))}
	if err := th.Drive(ctx, d, 0); err != nil || d.bad {
		return steps
	}
	return d.out
}

// idleDriver replays steps, keeping those that changed the state.
type idleDriver struct {
	th    engine.Threads
	steps []int
	i     int
	s     engine.Run
	h     engine.Hasher
	done  bool
	bad   bool
	out   []int
}

func (d *idleDriver) Next() int {
	if d.s == nil && !d.done {
		s, f, err := d.th.Start()
		d.done = true
		h, ok := s.(engine.Hasher)
		if err != nil || f != nil || !ok {
			d.bad = true
			return -1
		}
		d.s, d.h = s, h
	}
	if d.bad || d.s == nil || d.i >= len(d.steps) || !d.s.IsEnabled(d.steps[d.i]) {
		d.bad = d.bad || d.s != nil && d.i < len(d.steps)
		return -1
	}
	return d.steps[d.i]
}

func (d *idleDriver) Step(t int) {
	before := d.h.Hash()
	info, err := d.s.Step(t)
	if err != nil {
		d.bad = true
		return
	}
	d.i++
	if info.Failure != nil || d.h.Hash() != before {
		d.out = append(d.out, t)
	}
	if info.Failure != nil {
		d.s = nil // stop here: what follows a failure is not run
	}
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

// evaluate runs prefix on th and goes on past it as a replay does; ok is
// false when prefix names a thread that cannot take its step. It takes
// the run's steps and one from budget, or one alone when perRun.
func evaluate(ctx context.Context, th engine.Threads, prefix []int, maxSteps int, budget *int, perRun bool) (evaluated, bool) {
	var got evaluated
	planned := false
	d := &runDriver{th: th, maxSteps: maxSteps}
	d.plan = func() (int, chooser, bool) {
		if planned {
			return 0, nil, false
		}
		planned = true
		return 0, newReplayChooser(th, prefix), true
	}
	d.end = func(e runEnd) {
		got = evaluated{steps: slices.Clone(e.steps), failure: e.failure}
	}
	err := th.Drive(ctx, d, 0)
	if err != nil || d.err != nil {
		*budget--
		return evaluated{}, false
	}
	if perRun {
		*budget--
	} else {
		*budget -= len(got.steps) + 1
	}
	return got, true
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
