package statespace

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// Starvation searches p's states for a thread that starves: a run that
// goes round a cycle for ever, fairly, while a thread that has a progress
// step ([program.Program.ProgressThreads]) and has not finished never
// takes it (SPIN's non-progress cycles, for each thread). Fair is weak
// fairness: every thread that could go on at every state of the cycle
// takes a step in it, so a thread that only waits while another holds
// what it needs is not blamed on an unfair scheduler, while one that is
// let in at times but always overtaken is found.
//
// The search keeps every state (up to maxStates; 0: no bound) and every
// step between them, then, for each watched thread T, finds the strongly
// connected components of the graph without T's progress steps and
// without the states where T has finished. A component has a fair cycle
// when each thread takes a step inside it or cannot go on at one of its
// states: a cycle through all of it is then fair. The first found (the
// lowest thread, then the component reached by the shortest path) is
// shown as a lasso: the shortest path to the first of its states, then a
// cycle back to that state through a step of each thread that must take
// one, or a state where it cannot go on.
//
// Steps that fail end their run and are left out (the search for
// failures reports them); so are final states. complete is false when
// the search stopped at maxStates or ctx ended; the result then says
// nothing of the states it did not reach.
func Starvation(ctx context.Context, p *program.Program, maxStates int) (found *Found, states int, complete bool, err error) {
	watched := p.ProgressThreads()
	if len(watched) == 0 {
		return nil, 0, true, nil
	}
	if n := len(p.Threads()); n > 64 {
		return nil, 0, false, fmt.Errorf("statespace: starvation: %d threads, more than 64", n)
	}
	g, complete, err := buildGraph(ctx, p, maxStates)
	defer g.release()
	if err != nil || !complete {
		return nil, len(g.nodes), false, err
	}
	for _, t := range watched {
		if l := g.starving(t); l != nil {
			return g.lassoOf(p, t, l), len(g.nodes), true, nil
		}
	}
	return nil, len(g.nodes), true, nil
}

// pgraph is every state of a program and every step between them. Its
// arrays live in its own arena (mem.go), freed by release: about 24 bytes
// a state and 12 a step at the end, and while it is built, the table of
// fingerprints (12 bytes a slot) and two levels of states as varints, as
// in [Search].
type pgraph struct {
	n     int // threads
	mem   arena
	nodes []pnode
	off   []uint32 // node v's steps are edges[off[v]:off[v+1]]
	edges []pedge
}

type pnode struct {
	enabled uint64 // the threads that can take a step here
	done    uint64 // the threads that have finished
	parent  int32  // the state before it on a shortest path (-1: the start)
	via     uint8  // the thread of that step
}

// pedge is a step: by thread t, to state to; progress says it is t's
// progress step.
type pedge struct {
	to       int32
	t        uint8
	progress bool
}

// out is v's steps.
func (g *pgraph) out(v int32) []pedge { return g.edges[g.off[v]:g.off[v+1]] }

// release frees the graph's memory; the graph is empty after it.
func (g *pgraph) release() {
	g.mem.release()
	g.nodes, g.off, g.edges = nil, nil, nil
}

// buildGraph numbers p's states breadth first (so that a state's parent
// is on a shortest path to it) and keeps their steps; false when it
// stopped at maxStates or ctx ended.
func buildGraph(ctx context.Context, p *program.Program, maxStates int) (*pgraph, bool, error) {
	g := &pgraph{n: len(p.Threads())}
	start, f := p.NewState()
	if f != nil {
		return g, true, nil
	}
	words := p.Words()
	tab := newTable(&g.mem, 0)
	var free [][]byte
	var freeMu sync.Mutex
	cur, next := newStore(&g.mem, words, &free, &freeMu), newStore(&g.mem, words, &free, &freeMu)
	defer func() {
		freeOf(&g.mem, tab.pairs)
		cur.release()
		next.release()
		for _, pg := range free {
			g.mem.free(pg[:cap(pg)])
		}
	}()
	var cw, nw vecWriter
	cw.reset(cur)
	nw.reset(next)
	curRefs := []ref{cw.put(start.Words())}
	var nextRefs []ref
	slot, _, _ := tab.claim(fingerprintOf(start.Words()))
	tab.publish(slot, 1)
	tab.count.Add(1)
	g.nodes = append(grown(&g.mem, g.nodes, 1), pnode{parent: -1})
	buf, succ := make([]int64, words), make([]int64, words)
	var enabled []int
	lo, hi := 0, 1 // the level being expanded
	for i := 0; i < len(g.nodes); i++ {
		if i == hi {
			cur.release()
			cur, next = next, cur
			nw.reset(next)
			curRefs, nextRefs = nextRefs, curRefs[:0]
			lo, hi = hi, len(g.nodes)
		}
		if i%1024 == 0 && ctx.Err() != nil {
			return g, false, nil
		}
		cur.get(curRefs[i-lo], buf)
		s := p.View(buf)
		nd := pnode{parent: g.nodes[i].parent, via: g.nodes[i].via}
		for t := range g.n {
			if s.Done(t) {
				nd.done |= 1 << t
			}
		}
		g.off = append(grown(&g.mem, g.off, 1), uint32(len(g.edges)))
		enabled = s.AppendEnabled(enabled[:0])
		for _, t := range enabled {
			nd.enabled |= 1 << t
			copy(succ, buf)
			c := p.View(succ)
			prog := c.AtProgress(t)
			if c.Advance(t) != nil {
				continue // a failing step ends its run
			}
			if tab.full(1) {
				tab.grow(1)
			}
			slot, val, added := tab.claim(fingerprintOf(succ))
			id := int32(val) - 1
			if added {
				if maxStates > 0 && len(g.nodes) >= maxStates {
					g.nodes[i] = nd
					return g, false, nil
				}
				id = int32(len(g.nodes))
				tab.publish(slot, uint32(id)+1)
				tab.count.Add(1)
				g.nodes = append(grown(&g.mem, g.nodes, 1), pnode{parent: int32(i), via: uint8(t)})
				nextRefs = append(nextRefs, nw.put(succ))
			}
			g.edges = append(grown(&g.mem, g.edges, 1), pedge{to: id, t: uint8(t), progress: prog})
		}
		g.nodes[i] = nd
	}
	g.off = append(grown(&g.mem, g.off, 1), uint32(len(g.edges)))
	return g, true, nil
}

// keeps says whether edge e stays in thread t's graph: not t's progress
// step, and not into a state where t has finished.
func (g *pgraph) keeps(t int, e pedge) bool {
	return !(e.progress && int(e.t) == t) && g.nodes[e.to].done&(1<<t) == 0
}

// starving is the states of the first component, in state order, of t's
// graph that has a fair cycle; nil when none does.
func (g *pgraph) starving(t int) []int32 {
	var best []int32
	g.components(t, func(c []int32) {
		if best != nil && best[0] < slices.Min(c) {
			return
		}
		if g.fair(t, c) {
			best = slices.Clone(c)
			slices.Sort(best)
		}
	})
	return best
}

// components calls fn with each strongly connected component of t's graph
// that has a step inside it (Tarjan's algorithm, without recursion).
func (g *pgraph) components(t int, fn func([]int32)) {
	n := len(g.nodes)
	idx := make([]int32, n) // 0: not visited; else the visit's order, from 1
	low := make([]int32, n)
	onStack := make([]bool, n)
	var stack []int32
	type frame struct {
		v int32
		e int
	}
	var calls []frame
	next := int32(0)
	for root := range n {
		if idx[root] != 0 || g.nodes[root].done&(1<<t) != 0 {
			continue
		}
		visit := func(v int32) {
			next++
			idx[v], low[v] = next, next
			stack = append(stack, v)
			onStack[v] = true
			calls = append(calls, frame{v, 0})
		}
		visit(int32(root))
		for len(calls) > 0 {
			top := &calls[len(calls)-1]
			v := top.v
			if es := g.out(v); top.e < len(es) {
				e := es[top.e]
				top.e++
				switch {
				case !g.keeps(t, e):
				case idx[e.to] == 0:
					visit(e.to)
				case onStack[e.to]:
					low[v] = min(low[v], idx[e.to])
				}
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].v
				low[p] = min(low[p], low[v])
			}
			if low[v] != idx[v] {
				continue
			}
			i := len(stack) - 1
			for stack[i] != v {
				i--
			}
			c := stack[i:]
			for _, u := range c {
				onStack[u] = false
			}
			if len(c) > 1 || g.selfLoop(t, v) {
				fn(c)
			}
			stack = stack[:i]
		}
	}
}

func (g *pgraph) selfLoop(t int, v int32) bool {
	for _, e := range g.out(v) {
		if e.to == v && g.keeps(t, e) {
			return true
		}
	}
	return false
}

// fair says whether component c of t's graph has a weakly fair cycle:
// every thread takes a step inside it or cannot go on at one of its
// states.
func (g *pgraph) fair(t int, c []int32) bool {
	in := make(map[int32]bool, len(c))
	for _, v := range c {
		in[v] = true
	}
	for u := range g.n {
		if g.witness(t, u, c, in) == nil {
			return false
		}
	}
	return true
}

// witness is what makes a cycle through c fair to thread u: a step of u
// inside c (from, to), or a state of c where u cannot go on (from, -1);
// nil when there is none.
func (g *pgraph) witness(t, u int, c []int32, in map[int32]bool) *[2]int32 {
	for _, v := range c {
		if g.nodes[v].enabled&(1<<u) == 0 {
			return &[2]int32{v, -1}
		}
	}
	for _, v := range c {
		for _, e := range g.out(v) {
			if int(e.t) == u && in[e.to] && g.keeps(t, e) {
				return &[2]int32{v, e.to}
			}
		}
	}
	return nil
}

// lassoOf is the starvation of thread t in component c as a run: the
// shortest path to c's first state y, then a cycle back to y that takes
// each witness of fairness in turn.
func (g *pgraph) lassoOf(p *program.Program, t int, c []int32) *Found {
	in := make(map[int32]bool, len(c))
	for _, v := range c {
		in[v] = true
	}
	y := c[0]
	var prefix []int
	for v := y; g.nodes[v].parent >= 0; v = g.nodes[v].parent {
		prefix = append(prefix, int(g.nodes[v].via))
	}
	slices.Reverse(prefix)
	cycle := g.shortFair(t, y, in)
	if cycle == nil {
		cycle = g.witnessCycle(t, y, c, in)
	}
	f := starvationFailure(p, t, prefix, cycle)
	return &Found{Steps: append(slices.Clone(prefix), cycle...), Failure: f, Lasso: &Lasso{Prefix: prefix, Cycle: cycle}}
}

// shortFair is the shortest cycle from y back to y inside c, in t's
// graph, when it is fair; nil when it is not.
func (g *pgraph) shortFair(t int, y int32, in map[int32]bool) []int {
	var best []int
	for _, e := range g.out(y) {
		if !in[e.to] || !g.keeps(t, e) {
			continue
		}
		c := append([]int{int(e.t)}, g.path(t, e.to, y, in)...)
		if best == nil || len(c) < len(best) {
			best = c
		}
	}
	always := ^uint64(0)
	var took uint64
	v := y
	for _, u := range best {
		always &= g.nodes[v].enabled
		took |= 1 << u
		for _, e := range g.out(v) {
			if int(e.t) == u {
				v = e.to
				break
			}
		}
	}
	if always&^took != 0 {
		return nil
	}
	return best
}

// witnessCycle is a cycle from y back to y inside c that takes each
// witness of fairness in turn: fair, if not short.
func (g *pgraph) witnessCycle(t int, y int32, c []int32, in map[int32]bool) []int {
	// A first step inside c, then each witness, then back.
	var cycle []int
	at := y
	for _, e := range g.out(y) {
		if in[e.to] && g.keeps(t, e) {
			cycle, at = append(cycle, int(e.t)), e.to
			break
		}
	}
	for u := range g.n {
		w := g.witness(t, u, c, in)
		cycle = append(cycle, g.path(t, at, w[0], in)...)
		at = w[0]
		if w[1] >= 0 {
			cycle, at = append(cycle, u), w[1]
		}
	}
	return append(cycle, g.path(t, at, y, in)...)
}

// Starves says whether the run that takes prefix, then cycle for ever,
// starves a thread: cycle leads back to the state it starts from, every
// thread that can go on at each of its states takes a step in it (weak
// fairness), and a thread with a progress step that has not finished
// never takes it in the cycle (the first such thread). It is nil when
// the run does not, or the steps cannot be taken.
func Starves(p *program.Program, prefix, cycle []int) *program.Failure {
	if len(cycle) == 0 {
		return nil
	}
	s, f := p.NewState()
	if f != nil {
		return nil
	}
	for _, t := range prefix {
		if !s.IsEnabled(t) || s.Advance(t) != nil {
			return nil
		}
	}
	start := s.Clone()
	n := len(p.Threads())
	always := make([]bool, n)
	for u := range always {
		always[u] = true
	}
	took := make([]bool, n)
	progressed := make([]bool, n)
	for _, t := range cycle {
		for u := range always {
			always[u] = always[u] && s.IsEnabled(u)
		}
		if !s.IsEnabled(t) {
			return nil
		}
		took[t] = true
		progressed[t] = progressed[t] || s.AtProgress(t)
		if s.Advance(t) != nil {
			return nil
		}
	}
	if !s.Equal(start) {
		return nil
	}
	for u := range always {
		if always[u] && !took[u] {
			return nil // not fair to u
		}
	}
	for _, t := range p.ProgressThreads() {
		if !s.Done(t) && !progressed[t] {
			return starvationFailure(p, t, prefix, cycle)
		}
	}
	return nil
}

// starvationFailure says that thread t starves in the run that takes
// prefix, then cycle for ever.
func starvationFailure(p *program.Program, t int, prefix, cycle []int) *program.Failure {
	st, _ := p.NewState()
	for _, s := range prefix {
		st.Advance(s)
	}
	name := p.Threads()[t]
	where := ""
	if a, ok := st.Next(t); ok {
		where = fmt.Sprintf(": it is at %s (%s)", a.Pos, a.Text)
		if s := st.Status(t); s.Waiting != "" {
			where += ", waiting for " + s.Waiting
		}
	}
	others := map[int]bool{}
	for _, s := range cycle {
		if s != t {
			others[s] = true
		}
	}
	var names []string
	for u := range p.Threads() {
		if others[u] {
			names = append(names, p.Threads()[u])
		}
	}
	by := "its own"
	if len(names) > 0 {
		by = strings.Join(names, ", ") + "'s"
	}
	return &program.Failure{Verdict: program.Starvation, Thread: name, Pos: p.Def().Pos,
		Msg: fmt.Sprintf("%s starves: after %s, %s round for ever, fairly (each thread that could go on all along takes a step in them), and %s, which has not finished, never reaches its progress step%s",
			name, stepsText(len(prefix)), nextSteps(len(cycle), by), name, where)}
}

func stepsText(n int) string {
	if n == 1 {
		return "1 step"
	}
	return fmt.Sprintf("%d steps", n)
}

// nextSteps is "the next step (B's) goes", "the next 3 steps (T1's) go".
func nextSteps(n int, by string) string {
	if n == 1 {
		return "the next step (" + by + ") goes"
	}
	return fmt.Sprintf("the next %d steps (%s) go", n, by)
}

// path is the shortest steps from a to b inside c, in t's graph.
func (g *pgraph) path(t int, a, b int32, in map[int32]bool) []int {
	if a == b {
		return nil
	}
	type via struct {
		from int32
		t    uint8
	}
	back := map[int32]via{a: {-1, 0}}
	queue := []int32{a}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, e := range g.out(v) {
			if !in[e.to] || !g.keeps(t, e) {
				continue
			}
			if _, seen := back[e.to]; seen {
				continue
			}
			back[e.to] = via{v, e.t}
			if e.to == b {
				var steps []int
				for at := b; at != a; at = back[at].from {
					steps = append(steps, int(back[at].t))
				}
				slices.Reverse(steps)
				return steps
			}
			queue = append(queue, e.to)
		}
	}
	panic("statespace: no path inside a strongly connected component")
}
