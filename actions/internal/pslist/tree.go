package pslist

import "slices"

// Node is a process with the processes it started, for `pmrun ps --tree`.
type Node struct {
	Proc
	Children []*Node `json:"children,omitempty"`
}

// Tree arranges procs by parent. The roots are the processes whose parent
// is not in procs (pid 1 and kthreadd on a whole host, or the top of a
// partial list); roots and children alike are sorted by pid.
func Tree(procs []Proc) []*Node {
	nodes := make(map[int32]*Node, len(procs))
	for _, p := range procs {
		nodes[p.PID] = &Node{Proc: p}
	}
	var roots []*Node
	for _, p := range procs {
		n := nodes[p.PID]
		parent := nodes[p.PPID]
		if parent == nil || parent == n {
			roots = append(roots, n)
			continue
		}
		parent.Children = append(parent.Children, n)
	}
	byPID := func(a, b *Node) int { return int(a.PID - b.PID) }
	for _, n := range nodes {
		slices.SortFunc(n.Children, byPID)
	}
	slices.SortFunc(roots, byPID)
	return roots
}

// Walk calls fn for every node of the trees depth first, parents before
// children, with each node's depth (0 for roots), which is what an indented
// listing needs.
func Walk(roots []*Node, fn func(n *Node, depth int)) {
	var walk func(ns []*Node, depth int)
	walk = func(ns []*Node, depth int) {
		for _, n := range ns {
			fn(n, depth)
			walk(n.Children, depth+1)
		}
	}
	walk(roots, 0)
}
