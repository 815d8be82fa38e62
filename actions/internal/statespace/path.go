package statespace

import (
	"slices"
	"sort"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// levelOf is the level of state v: the steps of its shortest paths.
func (s *search) levelOf(v uint32) int {
	return sort.Search(len(s.levels), func(L int) bool { return s.levels[L] > v }) - 1
}

// shortPath returns a run to one of the targets, of the fewest steps
// there are (tg.steps), that switches threads as little as a greedy walk
// can: the states from which a target is that many steps away are marked,
// level by level back from the targets; then from the start, each step
// goes on with the thread of the step before when that keeps to a
// marked state, and else takes the first thread (in index order) that
// does. The same graph gives the same run.
func (s *search) shortPath(tg *targets) []int {
	L := tg.steps
	useful := newBitset(&s.mem, int(s.levels[min(L+1, len(s.levels)-1)]))
	defer freeOf(&s.mem, useful)
	for _, v := range tg.ends {
		useful.add(int(v))
	}
	for key := range tg.fails {
		useful.add(int(key >> 8))
	}
	inLevel := func(v uint32, k int) bool { return v >= s.levels[k] && v < s.levels[k+1] }
	for k := L - 1; k >= 0; k-- {
		for u := s.levels[k]; u < s.levels[k+1]; u++ {
			if useful.has(int(u)) || int(u)+1 >= s.off.len() { // a level not kept: only its failing steps are known
				continue
			}
			for e := s.off.at(int(u)); e < s.off.at(int(u)+1); e++ {
				if v := s.edges.at(int(e)); v != failEdge && inLevel(v, k+1) && useful.has(int(v)) {
					useful.add(int(u))
					break
				}
			}
		}
	}
	st, _ := s.p.NewState()
	// With Canon, st is the canonical state the graph holds and real the
	// state of the run: thread perm[t]'s step of real is t's of st.
	var real *program.State
	var perm []int
	if s.o.Canon != nil {
		real, perm = st.Clone(), make([]int, s.n)
		s.o.Canon(st.Words(), perm)
	}
	steps := make([]int, 0, L)
	u, last := uint32(0), -1
	enabled := make([]int, 0, s.n)
	for k := range L {
		enabled = st.AppendEnabled(enabled[:0])
		pick, next := -1, uint32(0)
		if real != nil && last >= 0 { // go on with the same real thread
			last = slices.Index(perm, steps[len(steps)-1])
		}
		if k == L-1 { // a failing step ends the run
			for _, t := range enabled {
				if tg.fails[uint64(u)<<8|uint64(t)] && (pick < 0 || t == last) {
					pick = t
				}
			}
		}
		if pick < 0 && int(u)+1 < s.off.len() { // else a level not kept: only its failing steps are known
			a := s.off.at(int(u))
			for j, t := range enabled {
				v := s.edges.at(int(a) + j)
				// At the last level only the targets are marked.
				ok := v != failEdge && inLevel(v, k+1) && useful.has(int(v))
				if ok && (pick < 0 || t == last) {
					pick, next = t, v
					if t == last {
						break
					}
				}
			}
		}
		if pick < 0 {
			panic("statespace: no step leads on towards the targets")
		}
		u, last = next, pick
		if real != nil {
			pick = perm[pick]
			real.Advance(pick)
			copy(st.Words(), real.Words())
			s.o.Canon(st.Words(), perm)
		} else {
			st.Advance(pick)
		}
		steps = append(steps, pick)
	}
	return steps
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
