package statespace

import (
	"math/big"
	"math/bits"
)

// analysis is what the state graph of a complete search says beyond the
// failures: whether it has a cycle, the first state in a cycle from which
// no run can end (a livelock), and the interleavings.
type analysis struct {
	cyclic bool
	stuck  int64 // the smallest state on a cycle from which no run can end, -1 if none
	scc    []uint32
	counts *counts
}

// analyze runs Tarjan's algorithm over the graph from state 0, without
// recursion. Each strongly connected component is finished after every
// component it reaches, so a run can end from a component when one of
// its states is final, has a failing step, or has an edge to a component
// from which a run can end (a foreign state, another shard's, counts as
// one: its shard looks beyond it). With count, the interleavings are
// counted in the same order, while the graph has no cycle.
func (s *search) analyze(count bool) analysis {
	n := s.off.len() - 1
	idx := allocOf[uint32](&s.mem, n) // 0: not visited; else the visit's order, from 1
	low := allocOf[uint32](&s.mem, n) // after a component is done, its root
	onStack := newBitset(&s.mem, n)
	canEnd := newBitset(&s.mem, n)
	onCycle := newBitset(&s.mem, n)
	var c *counts
	if count {
		c = newCounts(&s.mem, n)
	}
	type frame struct{ v, e uint32 }
	var stack []uint32
	calls := []frame{}
	next := uint32(0)
	visit := func(v uint32) {
		next++
		idx[v], low[v] = next, next
		stack = append(stack, v)
		onStack.add(int(v))
		if s.off.at(int(v)) == s.off.at(int(v)+1) {
			canEnd.add(int(v)) // a final state, or a foreign one
		}
		calls = append(calls, frame{v, s.off.at(int(v))})
	}
	a := analysis{stuck: -1}
	visit(0)
	for len(calls) > 0 {
		top := &calls[len(calls)-1]
		v := top.v
		if top.e < s.off.at(int(v)+1) {
			w := s.edges.at(int(top.e))
			top.e++
			switch {
			case w == failEdge:
				canEnd.add(int(v))
			case idx[w] == 0:
				visit(w)
			case onStack.has(int(w)):
				low[v] = min(low[v], idx[w])
				if w == v {
					onCycle.add(int(v))
				}
			case canEnd.has(int(w)):
				canEnd.add(int(v))
			}
			continue
		}
		calls = calls[:len(calls)-1]
		if low[v] == idx[v] {
			// v is the root of a component: its states are those above
			// it on the stack.
			i := len(stack) - 1
			for stack[i] != v {
				i--
			}
			members := stack[i:]
			ends := canEnd.has(int(v))
			cyc := len(members) > 1 || onCycle.has(int(v))
			for _, u := range members {
				onStack.remove(int(u))
				low[u] = v
				if ends {
					canEnd.add(int(u))
				}
				if cyc {
					onCycle.add(int(u))
				}
			}
			stack = stack[:i]
			if cyc {
				a.cyclic = true
				c = nil
			}
			if c != nil {
				c.finish(s, v)
			}
		}
		if len(calls) > 0 {
			p := calls[len(calls)-1].v
			if onStack.has(int(v)) {
				low[p] = min(low[p], low[v])
			}
			if canEnd.has(int(v)) {
				canEnd.add(int(p))
			}
		}
	}
	for v := range n {
		if !canEnd.has(v) && onCycle.has(v) {
			a.stuck = int64(v)
			break
		}
	}
	s.used() // the peak, with the analysis's arrays
	freeOf(&s.mem, idx)
	freeOf(&s.mem, onStack)
	freeOf(&s.mem, canEnd)
	freeOf(&s.mem, onCycle)
	a.scc, a.counts = low, c
	return a
}

func (b bitset) remove(i int) { b[i>>6] &^= 1 << (i & 63) }

// counts are the interleavings from each state, and those that fail, in
// machine words, saturated: a count that would pass 2^64-2 is kept as
// saturated (at least that many). Big integers for every state of a
// large space cost more than the rest of the search (barrier of 8
// threads: several hundred bytes a state, and twice the time), and
// nobody reads a count of 10^40 to the last digit.
type counts struct {
	all, failing []uint64
}

// saturated marks a count of 2^64-1 or more.
const saturated = ^uint64(0)

func newCounts(mem *arena, n int) *counts {
	return &counts{all: allocOf[uint64](mem, n), failing: allocOf[uint64](mem, n)}
}

// finish counts the runs from v, whose successors are all counted: one
// for a final state, one for each failing step, and the sum of the
// successors' counts.
func (c *counts) finish(s *search, v uint32) {
	from, to := s.off.at(int(v)), s.off.at(int(v)+1)
	var all, failing uint64
	if from == to {
		all = 1
		if s.endFail.has(int(v)) {
			failing = 1
		}
	}
	for e := from; e < to; e++ {
		w := s.edges.at(int(e))
		if w == failEdge {
			all, failing = addSat(all, 1), addSat(failing, 1)
			continue
		}
		all, failing = addSat(all, c.all[w]), addSat(failing, c.failing[w])
	}
	c.all[v], c.failing[v] = all, failing
}

// addSat is a+b, or saturated when that would reach it.
func addSat(a, b uint64) uint64 {
	if r, carry := bits.Add64(a, b, 0); carry == 0 {
		return r
	}
	return saturated
}

// of is the count of state v, and whether either count saturated.
func (c *counts) of(v uint32) (all, failing *big.Int, sat bool) {
	all, failing = new(big.Int).SetUint64(c.all[v]), new(big.Int).SetUint64(c.failing[v])
	return all, failing, c.all[v] == saturated || c.failing[v] == saturated
}
