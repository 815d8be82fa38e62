package statespace

import (
	"fmt"
	"slices"

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
	// The levels' vectors are no longer needed: their memory goes to the
	// analysis.
	s.cur.release()
	s.next.release()
	for _, pg := range s.free {
		s.mem.free(pg[:cap(pg)])
	}
	s.free = nil
	// Nor is the table: the graph numbers the states.
	if !s.keepTable {
		freeOf(&s.mem, s.tab.pairs)
		s.tab.pairs = nil
	}
	for _, w := range s.workers {
		freeOf(&s.mem, w.edges[:cap(w.edges)])
		freeOf(&s.mem, w.degs[:cap(w.degs)])
		w.edges, w.degs = nil, nil
	}
	freeOf(&s.mem, s.curRefs[:cap(s.curRefs)])
	freeOf(&s.mem, s.nextRefs[:cap(s.nextRefs)])
	freeOf(&s.mem, s.order[:cap(s.order)])
	freeOf(&s.mem, s.final[:cap(s.final)])
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
			res.Interleavings, res.FailingInterleavings, res.Saturated = a.counts.of(0)
		}
		if a.stuck >= 0 && len(s.p.ProgressThreads()) == 0 { // with progress steps, Starvation judges the cycles
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
	if s.passEnd >= 0 {
		v := uint32(s.passEnd)
		res.Final = s.shortPath(&targets{steps: s.levelOf(v), ends: []uint32{v}})
	}
	res.Bytes = s.peak.Load()
	return res
}

// found makes the candidate failure a run.
func (s *search) found(c *candidate) *Found {
	steps := s.shortPath(s.targets)
	st, _ := s.p.NewState()
	for i, t := range steps {
		if f := st.Advance(t); f != nil {
			if i != len(steps)-1 {
				panic("statespace: a shortest failing run fails before its end")
			}
			return &Found{Steps: steps, Failure: f}
		}
	}
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

// lasso is the livelock at state y, on a cycle from which no run can
// end: the first shortest path to it, then the shortest cycle back to it
// (breadth-first within its component, edges in thread order).
func (s *search) lasso(y uint32, scc []uint32) *Found {
	if s.o.Canon != nil {
		return &Found{Failure: &program.Failure{Verdict: program.MaxSteps, Pos: s.p.Def().Pos,
			Msg: "a state from which no run can end any more can be reached (a livelock, or a spin nobody releases)"}}
	}
	prefix := s.shortPath(&targets{steps: s.levelOf(y), ends: []uint32{y}})
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
		Msg: fmt.Sprintf("after %d steps no run can end any more (a livelock, or a spin nobody releases): %s", len(prefix), goesRound(len(loop)))}
	return &Found{Steps: append(slices.Clone(prefix), loop...), Failure: f, Lasso: &Lasso{Prefix: prefix, Cycle: loop}}
}

// goesRound says that the last n steps of a run go round for ever.
func goesRound(n int) string {
	if n == 1 {
		return "the next step goes round for ever"
	}
	return fmt.Sprintf("the next %d steps go round for ever", n)
}
