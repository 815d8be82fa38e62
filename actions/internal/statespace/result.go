package statespace

import (
	"fmt"
	"slices"
	"sort"

	"github.com/pmrun/pmrun/actions/internal/program"
)

func (s *search) result() Result {
	states := int64(s.levels[len(s.levels)-1])
	depth := 0
	for L := range len(s.levels) - 1 {
		if s.levels[L] < s.levels[L+1] {
			depth = L
		}
	}
	res := Result{
		States: states, Transitions: s.trans, Depth: depth, Failures: s.failures, Kinds: s.kinds,
		Workers: len(s.workers), Roots: s.roots, RootsOf: s.rootsOf,
	}
	res.Stop = s.stop
	if res.Stop == "" && s.tooDeep {
		res.Stop = StopMaxSteps
	}
	res.Complete = res.Stop == ""
	// The stores are no longer needed: their memory goes to the analysis.
	s.cur.release()
	s.next.release()
	s.free = nil
	s.curRefs, s.nextRefs, s.order, s.final = nil, nil, nil, nil
	if res.Complete {
		need := int64(s.off.len()) * 8
		if s.o.Count {
			need += int64(s.off.len()) * 16
		}
		if s.used()+need > s.o.MaxBytes {
			res.Complete, res.Stop = false, StopMemory
		}
	}
	if res.Complete {
		a := s.analyze(s.o.Count && s.o.Shard.whole())
		res.Cyclic = a.cyclic
		if a.counts != nil {
			res.Interleavings, res.FailingInterleavings = a.counts.of(0)
		}
		if a.stuck >= 0 {
			l := s.lasso(uint32(a.stuck), a.scc)
			res.Failures++
			res.Kinds[kindOf(l.Failure)]++
			if s.first == nil {
				res.Failure = l
			}
		}
	}
	if s.first != nil {
		res.Failure = s.found(s.first)
	}
	if s.passEnd >= 0 && s.o.Canon == nil {
		res.Final = s.pathTo(uint32(s.passEnd))
	}
	res.Bytes = s.peak.Load()
	return res
}

// found makes the candidate failure a run (with no steps when the search
// kept canonical states: see Options.Canon).
func (s *search) found(c *candidate) *Found {
	if s.o.Canon != nil {
		f := c.failure
		if f == nil {
			f = s.maxStepsFailure()
		}
		return &Found{Failure: f}
	}
	if c.parent >= 0 {
		steps := append(s.pathTo(uint32(c.parent)), c.thread)
		return &Found{Steps: steps, Failure: c.failure}
	}
	steps := s.pathTo(uint32(c.state))
	st := s.replay(steps)
	if f := st.End(); f != nil {
		return &Found{Steps: steps, Failure: f}
	}
	return &Found{Steps: steps, Failure: s.maxStepsFailure()}
}

func (s *search) maxStepsFailure() *program.Failure {
	return &program.Failure{Verdict: program.MaxSteps, Pos: s.p.Def().Pos,
		Msg: fmt.Sprintf("a state lies %d steps from the start and can still step: the runs through it take more than %d steps (max_steps)", s.o.MaxSteps, s.o.MaxSteps)}
}

// replay takes steps from the start, on the model.
func (s *search) replay(steps []int) *program.State {
	st, _ := s.p.NewState()
	for _, t := range steps {
		st.Advance(t)
	}
	return st
}

// levelOf is the level of state v.
func (s *search) levelOf(v uint32) int {
	return sort.Search(len(s.levels), func(L int) bool { return s.levels[L] > v }) - 1
}

// pathTo returns the steps of the first of the shortest paths to v (by
// thread order): for each state from v back to the start, the first
// state of the level before with an edge to it, and that edge. Then the
// edges become threads, on the model: the j-th edge of a state is the
// step of its j-th enabled thread.
func (s *search) pathTo(v uint32) []int {
	var edges []uint32
	for v != 0 {
		L := s.levelOf(v)
		found := false
		for u := s.levels[L-1]; u < s.levels[L] && !found; u++ {
			a, b := s.off.at(int(u)), s.off.at(int(u)+1)
			for e := a; e < b; e++ {
				if s.edges.at(int(e)) == v {
					edges, v, found = append(edges, e-a), u, true
					break
				}
			}
		}
		if !found {
			panic(fmt.Sprintf("statespace: state %d has no parent in level %d", v, L-1))
		}
	}
	slices.Reverse(edges)
	st, _ := s.p.NewState()
	return s.threads(st, edges)
}

// threads turns edges (the j-th edge of each state in turn) into the
// threads whose steps they are, stepping st along them.
func (s *search) threads(st *program.State, edges []uint32) []int {
	steps := make([]int, 0, len(edges))
	for _, j := range edges {
		t := -1
		for u, k := 0, uint32(0); u < s.n; u++ {
			if st.IsEnabled(u) {
				if k == j {
					t = u
					break
				}
				k++
			}
		}
		steps = append(steps, t)
		st.Advance(t)
	}
	return steps
}

// lasso is the livelock at state y, on a cycle from which no run can
// end: the first shortest path to it, then the shortest cycle back to it
// (breadth-first within its component, edges in thread order).
func (s *search) lasso(y uint32, scc []uint32) *Found {
	if s.o.Canon != nil {
		return &Found{Failure: &program.Failure{Verdict: program.MaxSteps, Pos: s.p.Def().Pos,
			Msg: "a state from which no run can end any more can be reached (a livelock, or a spin nobody releases)"}}
	}
	prefix := s.pathTo(y)
	type via struct{ from, edge uint32 }
	back := map[uint32]via{}
	queue := []uint32{y}
	var cycle []uint32
	for len(queue) > 0 && cycle == nil {
		u := queue[0]
		queue = queue[1:]
		a, b := s.off.at(int(u)), s.off.at(int(u)+1)
		for e := a; e < b; e++ {
			w := s.edges.at(int(e))
			if w == failEdge || scc[w] != scc[y] {
				continue
			}
			if w == y {
				cycle = []uint32{e - a}
				for at := u; at != y; {
					bv := back[at]
					cycle = append(cycle, bv.edge)
					at = bv.from
				}
				break
			}
			if _, seen := back[w]; !seen {
				back[w] = via{u, e - a}
				queue = append(queue, w)
			}
		}
	}
	slices.Reverse(cycle)
	st := s.replay(prefix)
	loop := s.threads(st, cycle)
	f := &program.Failure{Verdict: program.MaxSteps, Pos: s.p.Def().Pos,
		Msg: fmt.Sprintf("after %d steps no run can end any more (a livelock, or a spin nobody releases): the %d steps after them repeat for ever", len(prefix), len(loop))}
	return &Found{Steps: append(slices.Clone(prefix), loop...), Failure: f, Lasso: &Lasso{Prefix: prefix, Cycle: loop}}
}
