package statespace

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// dpor is a stateless search with a dynamic partial-order reduction:
// source sets and sleep sets (Abdulla, Aronis, Jonsson and Sagonas,
// "Optimal dynamic partial order reduction", POPL 2014, Algorithm 1).
// It walks runs depth first, keeping nothing but the run under way, and
// takes another order of two steps only where they race: where they are
// dependent, one right after the other in the run's happens-before.
type dpor struct {
	ctx   context.Context
	p     *program.Program
	o     Options
	n     int
	start time.Time
	inv   []bool // inv[v]: an invariant reads variable v

	nodes      []dnode  // nodes[d]: the state before the run's step d
	run        []devent // the run under way
	blocked    devent   // a blocked thread's next step
	vbuf, cbuf []int    // race's
	path       map[uint64]int

	trans, ends int64
	depth       int
	failures    int64
	kinds       map[Kind]int64
	failSeen    map[[2]uint64]bool
	endSeen     map[uint64]bool
	first       *Found
	final       []int
	stop        Stop
	fallback    string // why the search gives way to state hashing
	err         error
	lastProg    time.Time

	top *dtop // a shard's top of the tree (dshard.go); nil: the whole tree
}

// dnode is a state of the run: its words, the threads whose steps from
// it are still to be taken (backtrack), and its sleep set: threads whose
// step from here leads only to runs already searched; sleepFail those of
// them whose step fails (a failing step ends a run: it is dependent with
// every step, so it does not stay asleep below).
type dnode struct {
	w                      []int64
	back, sleep, sleepFail tset
	done                   tset // threads whose step from here was taken
}

// devent is a step of the run: its thread, what it reads and writes,
// whether it writes a variable an invariant reads (the invariants are
// checked on every state, so two such steps are dependent), whether it
// failed, and its vector clock: clock[t] is one more than the index of
// thread t's last step that happens before it (itself included).
type devent struct {
	t      int
	fp     program.Footprint
	inv    bool
	failed bool
	clock  []int32
}

// dependent says whether two steps of different threads may not
// commute.
func dependent(a, b *devent) bool {
	return a.failed || b.failed || a.inv && b.inv || a.fp.Conflict(b.fp)
}

// tset is a set of threads.
type tset []uint64

func newTset(n int) tset       { return make(tset, (n+63)/64) }
func (s tset) has(t int) bool  { return s[t/64]&(1<<(t%64)) != 0 }
func (s tset) add(t int)       { s[t/64] |= 1 << (t % 64) }
func (s tset) clear()          { clear(s) }
func (s tset) copyFrom(o tset) { copy(s, o) }
func (s tset) intersects(o tset) bool {
	for i := range s {
		if s[i]&o[i] != 0 {
			return true
		}
	}
	return false
}

func newDpor(ctx context.Context, p *program.Program, o Options) *dpor {
	x := &dpor{ctx: ctx, p: p, o: o, n: len(p.Threads()), start: time.Now(), path: map[uint64]int{},
		kinds: map[Kind]int64{}, failSeen: map[[2]uint64]bool{}, endSeen: map[uint64]bool{}}
	x.inv = make([]bool, p.Words())
	for _, v := range p.InvariantVars() {
		x.inv[v.Index] = true
	}
	return x
}

// searchDPOR is [Search] with Options.DPOR.
func searchDPOR(ctx context.Context, p *program.Program, o Options) (Result, error) {
	x := newDpor(ctx, p, o)
	if !o.Shard.whole() {
		x.shardTop()
	}
	if x.fallback == "" && x.stop == "" {
		x.search()
	}
	if x.fallback != "" && x.err == nil {
		// Another shard may not fall back: this one searches the
		// whole graph, so that the shards still cover it.
		o.DPOR, o.Shard = false, Shard{}
		res, err := Search(ctx, p, o)
		res.Fallback = x.fallback
		return res, err
	}
	res := x.result()
	if x.top != nil {
		res.Roots, res.RootsOf = x.top.mine, x.top.items
	}
	res.Elapsed = time.Since(x.start)
	return res, x.err
}

// search searches from the start.
func (x *dpor) search() {
	st, f := x.p.NewState()
	if f != nil {
		x.failures++
		x.kinds[kindOf(f)]++
		x.first = &Found{Steps: []int{}, Failure: f}
		return
	}
	x.node(0)
	copy(x.nodes[0].w, st.Words())
	x.path[fingerprintOf(st.Words())] = 0
	x.explore(0)
}

func (x *dpor) result() Result {
	return Result{
		Complete: x.stop == "" && x.fallback == "", Stop: x.stop,
		States: x.trans + 1, Transitions: x.trans, Depth: x.depth,
		Failures: x.failures, Kinds: x.kinds, Failure: x.first, Final: x.final, Workers: 1,
	}
}

// node readies nodes[d].
func (x *dpor) node(d int) *dnode {
	for len(x.nodes) <= d {
		x.nodes = append(x.nodes, dnode{w: make([]int64, x.p.Words()), back: newTset(x.n), sleep: newTset(x.n), sleepFail: newTset(x.n), done: newTset(x.n)})
	}
	nd := &x.nodes[d]
	nd.back.clear()
	nd.done.clear()
	return nd
}

// explore searches the runs from the state at depth d, whose sleep set is
// set; false when the search stops.
func (x *dpor) explore(d int) bool {
	nd := &x.nodes[d]
	st := x.p.View(nd.w)
	first := -1
	any := false
	for t := range x.n {
		if st.IsEnabled(t) {
			any = true
			if first < 0 && !nd.sleep.has(t) {
				first = t
			}
		}
	}
	x.pending(d, &st)
	if !any {
		if x.owns(d) {
			x.end(d, &st)
		}
		return true
	}
	if first < 0 {
		return true // every step leads to runs already searched
	}
	if d >= x.o.MaxSteps {
		x.fallback = fmt.Sprintf("a run is longer than max_steps (%d)", x.o.MaxSteps)
		return false
	}
	switch {
	case x.top == nil || d > x.top.depth:
		nd.back.add(first)
	case d < x.top.depth: // the top of a shard's tree: every thread
		for t := range x.n {
			if st.IsEnabled(t) {
				nd.back.add(t)
			}
		}
	default: // a prefix
		x.top.deeper = true
		if !x.top.deal() {
			return !x.top.counting || x.top.items < x.top.target
		}
		nd.back.add(first)
	}
	for {
		t := x.pick(&x.nodes[d]) // nodes may have grown
		if t < 0 {
			return true
		}
		if !x.take(d, t) {
			return false
		}
	}
}

// pick is the first thread of nd's backtrack set not asleep nor taken.
func (x *dpor) pick(nd *dnode) int {
	for t := range x.n {
		if nd.back.has(t) && !nd.sleep.has(t) && !nd.done.has(t) {
			return t
		}
	}
	return -1
}

// take takes thread t's step from the state at depth d, finds the races
// the step makes with the run, and searches on from there; false when
// the search stops.
func (x *dpor) take(d, t int) bool {
	nd := &x.nodes[d]
	nd.done.add(t)
	st := x.p.View(nd.w)
	ev := devent{t: t, fp: st.Footprint(t)}
	ev.inv = x.writesInv(ev.fp)
	child := x.node(d + 1)
	nd = &x.nodes[d] // node may have grown the slice
	copy(child.w, nd.w)
	cs := x.p.View(child.w)
	f := cs.Advance(t)
	ev.failed = f != nil
	x.trans++
	x.depth = max(x.depth, d+1)
	x.run = append(x.run[:d], ev)
	x.clockAndRaces(d)
	if !x.check() {
		return false
	}
	if f != nil {
		// A failing step ends its run: the steps of the others from
		// here are searched too.
		if x.owns(d + 1) {
			x.fail(d, t, f)
		}
		for q := range x.n {
			if st.IsEnabled(q) {
				nd.back.add(q)
			}
		}
		nd.sleep.add(t)
		nd.sleepFail.add(t)
		return true
	}
	h := fingerprintOf(child.w)
	if _, ok := x.path[h]; ok {
		x.fallback = "a run comes back to a state it was in (a loop or a spin): its runs need not end"
		return false
	}
	// The child's sleep set: the threads asleep here whose step is
	// independent of t's.
	child.sleep.clear()
	child.sleepFail.clear()
	for q := range x.n {
		if !nd.sleep.has(q) || nd.sleepFail.has(q) {
			continue
		}
		qe := devent{t: q, fp: st.Footprint(q)}
		qe.inv = x.writesInv(qe.fp)
		if !dependent(&qe, &ev) {
			child.sleep.add(q)
		}
	}
	x.path[h] = d + 1
	ok := x.explore(d + 1)
	delete(x.path, h)
	x.nodes[d].sleep.add(t)
	return ok
}

// clockAndRaces gives the run's step d its vector clock and, for each
// step it races with, makes sure that the other order is searched.
func (x *dpor) clockAndRaces(d int) {
	ev := &x.run[d]
	if cap(ev.clock) < x.n {
		ev.clock = make([]int32, x.n)
	}
	ev.clock = ev.clock[:x.n]
	x.races(ev, d)
	ev.clock[ev.t] = int32(d) + 1
}

// races finds the steps of the run before k that ev, thread ev.t's step
// after them, races with: dependent, of another thread, and with no step
// between them in the happens-before order. It leaves in ev.clock what
// happens before ev.
func (x *dpor) races(ev *devent, k int) {
	clear(ev.clock)
	for i := k - 1; i >= 0; i-- {
		if x.run[i].t == ev.t {
			copy(ev.clock, x.run[i].clock)
			break
		}
	}
	for i := k - 1; i >= 0; i-- {
		e := &x.run[i]
		if e.t == ev.t || ev.clock[e.t] > int32(i) || !dependent(e, ev) {
			continue
		}
		x.race(i, k, ev)
		for t, c := range e.clock {
			ev.clock[t] = max(ev.clock[t], c)
		}
	}
}

// pending finds the races of the next step of each thread that cannot
// step at depth d (blocked on a semaphore, a mutex or a condition): the
// step it waits to take may have to go before a step of the run that
// blocked it (Flanagan and Godefroid's race check of pending steps, for
// the steps the run never takes).
func (x *dpor) pending(d int, st *program.State) {
	for q := range x.n {
		if st.IsEnabled(q) || st.Done(q) {
			continue
		}
		ev := &x.blocked
		ev.t, ev.fp, ev.failed = q, st.Footprint(q), false
		ev.inv = x.writesInv(ev.fp)
		if cap(ev.clock) < x.n {
			ev.clock = make([]int32, x.n)
		}
		ev.clock = ev.clock[:x.n]
		x.races(ev, d)
	}
}

// writesInv says whether a step writes a variable an invariant reads.
func (x *dpor) writesInv(fp program.Footprint) bool {
	for _, o := range fp.Writes {
		if o.Kind == program.ObjVar && x.inv[o.Index] {
			return true
		}
	}
	return false
}

// race makes sure that from the state before step i, a run that takes
// ev (thread ev.t's step after the run's first k steps) before step i is
// searched: one of the threads that can start the steps between them
// that do not happen after step i, followed by ev, is in the backtrack
// set there. When ev's thread cannot step there, every thread that can
// is (Flanagan and Godefroid's rule when the race cannot be reversed as
// it stands).
func (x *dpor) race(i, k int, ev *devent) {
	e := &x.run[i]
	// v: the steps after i that do not happen after it, then ev.
	v := x.vbuf[:0]
	for j := i + 1; j < k; j++ {
		if x.run[j].clock[e.t] <= int32(i) {
			v = append(v, j)
		}
	}
	x.vbuf = v
	initial := func(k int, c []int32) bool {
		for _, j := range v {
			if j >= k {
				break
			}
			if c[x.run[j].t] > int32(j) {
				return false
			}
		}
		return true
	}
	at := &x.nodes[i]
	st := x.p.View(at.w)
	cands := x.cbuf[:0]
	defer func() { x.cbuf = cands }()
	// ev's clock is not final yet: it holds what happens before it among
	// the steps after i already seen, which is what initial needs of v.
	if initial(k, ev.clock) {
		if !st.IsEnabled(ev.t) {
			return // step i enabled ev: no run takes ev before it
		}
		cands = append(cands, ev.t)
	}
	for _, j := range v {
		if initial(j, x.run[j].clock) && !slices.Contains(cands, x.run[j].t) && st.IsEnabled(x.run[j].t) {
			cands = append(cands, x.run[j].t)
		}
	}
	for _, q := range cands {
		if at.back.has(q) {
			return
		}
	}
	for _, q := range cands {
		if !at.sleep.has(q) {
			at.back.add(q)
			return
		}
	}
	if len(cands) > 0 {
		at.back.add(cands[0])
	}
}

// check says whether the search goes on, and calls Progress now and
// then.
func (x *dpor) check() bool {
	switch {
	case x.trans >= int64(x.o.MaxStates):
		x.stop = StopMaxStates
	case x.trans&1023 != 0:
		return true
	case x.ctx.Err() != nil:
		x.stop, x.err = StopCanceled, fmt.Errorf("statespace: %w", context.Cause(x.ctx))
	case x.o.Budget > 0 && time.Since(x.start) > x.o.Budget:
		x.stop = StopBudget
	}
	if x.o.Progress != nil && time.Since(x.lastProg) > 250*time.Millisecond {
		x.lastProg = time.Now()
		x.o.Progress(Progress{States: x.trans + 1, Transitions: x.trans, Depth: x.depth, Elapsed: time.Since(x.start)})
	}
	return x.stop == ""
}

// steps is the threads of the run's first d steps.
func (x *dpor) steps(d int) []int {
	out := make([]int, d)
	for i := range d {
		out[i] = x.run[i].t
	}
	return out
}

// fail notes step d, thread t's, failing: counted once a state and
// thread, shown if its run is the shortest failing run found.
func (x *dpor) fail(d, t int, f *program.Failure) {
	key := [2]uint64{fingerprintOf(x.nodes[d].w), uint64(t)}
	if !x.failSeen[key] {
		x.failSeen[key] = true
		x.failures++
		x.kinds[kindOf(f)]++
	}
	if x.first == nil || len(x.first.Steps) > d+1 {
		x.first = &Found{Steps: x.steps(d + 1), Failure: f}
	}
}

// end notes a final state at depth d: reported once, counted as a
// failure if it fails, kept as the run that passed if it is the
// shortest.
func (x *dpor) end(d int, st *program.State) {
	h := fingerprintOf(st.Words())
	seen := x.endSeen[h]
	x.endSeen[h] = true
	if !seen && x.o.OnEnd != nil {
		x.o.OnEnd(st.Words())
	}
	f := st.End()
	switch {
	case f != nil:
		if !seen {
			x.failures++
			x.kinds[kindOf(f)]++
		}
		if x.first == nil || len(x.first.Steps) > d {
			x.first = &Found{Steps: x.steps(d), Failure: f}
		}
	case x.final == nil || len(x.final) > d:
		x.final = x.steps(d)
	}
}
