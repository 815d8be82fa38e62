package control

import "slices"

// rootRef is a state the exhaustive search started from and the steps
// that reach it.
type rootRef struct {
	node int32
	path []int
}

// stuckPath looks, in the state graph of a complete search, for a state
// from which no run can end: no final state and no failing step is
// reachable from it, so every run through it goes on for ever (a
// livelock, or a spin that nobody will release; state hashing alone would
// let the search end there and call it a pass). It returns the steps to
// the first such state in breadth-first order from the roots, nil if
// there is none. A replay of them goes on, past their end, until
// max_steps.
func (d *exhDriver) stuckPath() []int {
	nodes := d.nodes
	nn := len(nodes)
	if nn == 0 {
		return nil
	}
	succ := func(i int32, t int) (int32, bool) {
		j, ok := d.visited[d.edges[int(nodes[i].edge)+t]]
		return j, ok
	}
	// The reverse graph, in compressed rows.
	start := make([]int32, nn+1)
	for i := range nodes {
		for m := nodes[i].enabled &^ nodes[i].failed; m != 0; m &= m - 1 {
			j, ok := succ(int32(i), trailing(m))
			if !ok {
				return nil // not every edge was explored: no conclusion
			}
			start[j+1]++
		}
	}
	for i := range nn {
		start[i+1] += start[i]
	}
	fill := slices.Clone(start[:nn])
	pred := make([]int32, start[nn])
	for i := range nodes {
		for m := nodes[i].enabled &^ nodes[i].failed; m != 0; m &= m - 1 {
			j, _ := succ(int32(i), trailing(m))
			pred[fill[j]] = int32(i)
			fill[j]++
		}
	}
	canEnd := make([]bool, nn)
	var queue []int32
	for i, nd := range nodes {
		if nd.enabled == 0 || nd.failed != 0 {
			canEnd[i] = true
			queue = append(queue, int32(i))
		}
	}
	for len(queue) > 0 {
		j := queue[0]
		queue = queue[1:]
		for _, i := range pred[start[j]:start[j+1]] {
			if !canEnd[i] {
				canEnd[i] = true
				queue = append(queue, i)
			}
		}
	}
	// Breadth-first from the roots to the first state that cannot end.
	type via struct {
		from int32
		t    int8
		root int32 // the root's index in rootRefs, for a root
	}
	seen := make([]bool, nn)
	back := make([]via, nn)
	queue = queue[:0]
	for r, ref := range d.rootRefs {
		if !seen[ref.node] {
			seen[ref.node] = true
			back[ref.node] = via{from: -1, root: int32(r)}
			queue = append(queue, ref.node)
		}
	}
	for len(queue) > 0 {
		i := queue[0]
		queue = queue[1:]
		if !canEnd[i] {
			var rev []int
			for at := i; ; {
				b := back[at]
				if b.from < 0 {
					return append(append([]int{}, d.rootRefs[b.root].path...), reversed(rev)...)
				}
				rev = append(rev, int(b.t))
				at = b.from
			}
		}
		for m := nodes[i].enabled &^ nodes[i].failed; m != 0; m &= m - 1 {
			t := trailing(m)
			j, _ := succ(i, t)
			if !seen[j] {
				seen[j] = true
				back[j] = via{from: i, t: int8(t)}
				queue = append(queue, j)
			}
		}
	}
	return nil
}

func reversed(s []int) []int {
	slices.Reverse(s)
	return s
}
