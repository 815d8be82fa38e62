package control

import (
	"context"
	"fmt"
	"math/bits"
	"slices"
	"sync/atomic"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// MaxExhaustiveThreads is how many threads exhaustive handles: a thread
// set is a machine word.
const MaxExhaustiveThreads = 64

// Exhaustive is the scheduler that visits every distinct interleaving.
const Exhaustive = "exhaustive"

// exhaustive searches the state graph depth first, with visited states
// hashed and sleep sets (see the package documentation). It needs runs
// that are model states.
type exhaustive struct{}

func (exhaustive) Name() string { return Exhaustive }
func (exhaustive) Doc() string {
	return "every distinct interleaving, one thread at a time: a pass is a proof, unless it stopped before it finished (verdict incomplete)"
}

func (exhaustive) Check(p *program.Program, opts Options) []OptionError {
	errs := controlledOnly(opts)
	if p != nil && len(p.Threads()) > MaxExhaustiveThreads {
		errs = append(errs, OptionError{"scheduler", fmt.Sprintf("exhaustive handles up to %d threads; program %s has %d: use random or pct",
			MaxExhaustiveThreads, p.Name(), len(p.Threads()))})
	}
	return errs
}

func (exhaustive) Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	p, err := sys.needProgram(Exhaustive)
	if err != nil {
		return engine.Outcome{Run: -1, Verdict: program.Pass}, err
	}
	how := engine.How{Scheduler: Exhaustive, Kind: engine.KindSearch, Unit: "path", Proof: true, Asked: opts.Runs}
	return search(ctx, sys, opts, how, func(ctx context.Context, th engine.Threads, opts Options) (searchResult, error) {
		return searchExhaustive(ctx, th, p, opts)
	})
}

// node is a visited state of the exhaustive search.
type node struct {
	sleep   uint64 // its sleep set: threads whose step here nobody explored yet
	enabled uint64
	failed  uint64 // enabled threads whose step fails here
	known   uint64 // threads whose edge is recorded
	edge    int32  // its first edge in exh.edges, n a node
	endFail bool   // a final state that fails (deadlock, expect)
}

// frame is a state on the search's stack.
type frame struct {
	s     *program.State
	node  int32
	sleep uint64 // the sleep set, growing as the state's steps are explored
	todo  uint64 // the steps still to explore from it
	via   int    // the thread whose step led here, -1 at a root
}

// exhDriver is the exhaustive search: a depth-first search of the state
// graph with visited states hashed and sleep sets (see the package
// documentation), every step of it taken by the real thread whose step
// it is. Sharded, it first expands the first levels breadth-first (every
// shard alike) and takes every Count-th state of the level as a root.
type exhDriver struct {
	p         *program.Program
	th        engine.Threads
	names     []string
	os        []engine.Thread // for a trace
	stop      *atomic.Bool    // the time budget ran out
	n         int
	maxSteps  int
	runsCap   int
	maxStates int
	shard     Shard
	trace     func(engine.StepInfo)
	onRun     func(engine.RunInfo)
	count     bool // count interleavings (unsharded)
	inv       []program.Object

	visited map[uint64]int32
	nodes   []node
	edges   []uint64

	// The breadth-first prefix of a sharded search.
	level, nextLevel []prefixState
	li               int
	lmask            uint64
	prefixDone       bool

	roots    []prefixState
	rootRefs []rootRef
	stack    []frame
	root     []int // the path to the current root

	pending struct {
		s     *program.State
		t     int
		sleep uint64
	}

	prefixSeen   map[uint64]bool // the prefix's states
	prefixStates int
	levels       int

	kinds map[string]bool // the failures found, by failureKind

	runs, failures, trans int
	first, last           *found
	anyLeaf               *found // the first path, when no path ends
	cut                   bool
	full                  bool // MaxStates reached
	deep                  bool // a path went past MaxSteps
	err                   error
}

// prefixState is a state of the prefix and the steps that reach it.
type prefixState struct {
	s    *program.State
	path []int
}

const prefixLevels = 64

func searchExhaustive(ctx context.Context, th engine.Threads, p *program.Program, opts Options) (searchResult, error) {
	n := len(th.Names())
	if n > MaxExhaustiveThreads {
		return searchResult{}, fmt.Errorf("control: exhaustive handles up to %d threads; program %s has %d", MaxExhaustiveThreads, p.Name(), n)
	}
	stop, release := budget(opts.Budget)
	defer release()
	d := &exhDriver{p: p, th: th, names: th.Names(), stop: stop, n: n, maxSteps: opts.MaxSteps, runsCap: opts.Runs, maxStates: opts.MaxStates, shard: opts.Shard, trace: opts.Trace, onRun: opts.OnRun,
		count: opts.Shard.whole(), visited: map[uint64]int32{}, inv: p.InvariantVars(), kinds: map[string]bool{}}
	if d.trace != nil {
		d.os = th.OS()
	}
	run, f, err := th.Start()
	if err != nil {
		return searchResult{}, fmt.Errorf("control: exhaustive: %w", err)
	}
	s, ok := run.(*program.State)
	if !ok {
		return searchResult{}, fmt.Errorf("control: exhaustive search with state hashing needs threads whose runs are model states; these are %T", run)
	}
	if f != nil {
		d.failAt(f, []int{})
		return d.result(true), nil
	}
	d.level = []prefixState{{s: s}}
	if opts.Shard.whole() || d.enabledMask(s) == 0 {
		d.prefixDone, d.roots, d.level = true, d.level, nil
	} else {
		d.startLevel()
	}
	err = th.Drive(ctx, d, opts.Watchdog)
	if err == nil {
		err = d.err
	}
	complete := err == nil && !d.cut && len(d.stack) == 0 && len(d.roots) == 0 && d.prefixDone
	res := d.result(complete)
	if !complete {
		res.stopped = d.stopped()
	}
	return res, err
}

// stopped says why a search that did not complete stopped, and what would
// let it finish.
func (d *exhDriver) stopped() string {
	switch {
	case d.full:
		return fmt.Sprintf("the search stopped at max_states, %d states, before it explored every state: raise max_states, or make the program smaller (fewer threads, rounds or values)", d.maxStates)
	case d.runsCap > 0 && d.runs >= d.runsCap:
		return fmt.Sprintf("the search stopped after %d paths (runs: %d), %d states, before it explored every state: raise runs, or leave it unset (no limit)", d.runs, d.runsCap, d.states())
	case d.stop.Load():
		return fmt.Sprintf("the search ran out of time after %d paths, %d states, before it explored every state", d.runs, d.states())
	case d.deep:
		return fmt.Sprintf("the search did not go past a path longer than max_steps (%d): raise max_steps", d.maxSteps)
	}
	return fmt.Sprintf("the search was stopped after %d paths, %d states, before it explored every state", d.runs, d.states())
}

func (d *exhDriver) result(complete bool) searchResult {
	if complete {
		if path := d.stuckPath(); path != nil {
			f := maxStepsFailure(d.p.Def().Pos, d.maxSteps)
			f.Msg = fmt.Sprintf("after %d steps no run can end any more (a livelock, or a spin nobody releases): the run took %d steps without ending", len(path), d.maxSteps)
			d.failAt(f, path)
		}
	}
	if d.last == nil {
		d.last = d.anyLeaf
	}
	res := searchResult{first: d.first, last: d.last, runs: d.runs, failures: d.failures, complete: complete,
		states: d.states(), trans: d.trans, visited: d.visited, prefix: d.prefixSeen, kinds: d.kinds}
	if complete && d.count {
		res.interleavings, res.cyclic = countPaths(d.nodes, d.edges, d.visited, false)
		res.failingInterleavings, _ = countPaths(d.nodes, d.edges, d.visited, true)
	}
	return res
}

func (d *exhDriver) Next() int {
	for {
		if d.err != nil {
			return -1
		}
		if d.full || d.stop.Load() || d.runsCap > 0 && d.runs >= d.runsCap {
			d.cut = true
			return -1
		}
		if !d.prefixDone {
			if t := d.nextPrefix(); t >= 0 {
				return t
			}
			continue
		}
		if len(d.stack) == 0 {
			if len(d.roots) == 0 {
				return -1
			}
			r := d.roots[0]
			d.roots = d.roots[1:]
			d.root = r.path
			d.arrive(r.s, 0, -1)
			if i, ok := d.visited[r.s.Hash()]; ok {
				d.rootRefs = append(d.rootRefs, rootRef{node: i, path: r.path})
			}
			continue
		}
		top := &d.stack[len(d.stack)-1]
		if top.todo == 0 {
			d.pop()
			continue
		}
		t := bits.TrailingZeros64(top.todo)
		top.todo &^= 1 << t
		fp := top.s.Footprint(t)
		var child uint64
		for m := top.sleep; m != 0; m &= m - 1 {
			u := bits.TrailingZeros64(m)
			if !d.dependent(top.s.Footprint(u), fp) {
				child |= 1 << u
			}
		}
		top.sleep |= 1 << t
		d.pending.s, d.pending.t, d.pending.sleep = top.s.Clone(), t, child
		return t
	}
}

func (d *exhDriver) Step(t int) {
	s := d.pending.s
	d.pending.s = nil
	info, err := s.Step(t)
	if err != nil {
		d.err = fmt.Errorf("control: exhaustive step of %s: %w", d.names[t], err)
		return
	}
	d.trans++
	if d.trace != nil {
		d.trace(engine.StepInfo{Run: d.runs, Step: d.depth(), Name: d.os[t].Name, TID: d.os[t].TID, StepInfo: info, Values: s.Values()})
	}
	if !d.prefixDone {
		d.prefixStep(s, t, info.Failure)
		return
	}
	top := &d.stack[len(d.stack)-1]
	if info.Failure != nil {
		d.record(top, t, 0, true)
		d.fail(info.Failure, t)
		return
	}
	d.record(top, t, s.Hash(), false)
	d.arrive(s, d.pending.sleep, t)
}

// depth is how many steps the state on top of the stack is from the start.
func (d *exhDriver) depth() int {
	if !d.prefixDone {
		return len(d.level[d.li].path)
	}
	return len(d.root) + len(d.stack) - 1
}

// arrive enters state s, reached by thread via's step with sleep set
// sleep: a new state is pushed with every enabled step not asleep to
// explore; a visited one only with the steps asleep at every earlier visit
// but awake now (its stored sleep set becomes the intersection).
func (d *exhDriver) arrive(s *program.State, sleep uint64, via int) {
	h := s.Hash()
	if i, ok := d.visited[h]; ok {
		nd := &d.nodes[i]
		todo := nd.sleep &^ sleep & nd.enabled
		sleep &= nd.sleep
		nd.sleep = sleep
		if todo == 0 {
			if d.anyLeaf == nil {
				d.anyLeaf = &found{run: d.runs, steps: d.path(via)}
			}
			d.leaf(nil, d.stepsTo(via))
			return
		}
		d.stack = append(d.stack, frame{s: s, node: i, sleep: sleep, todo: todo, via: via})
		return
	}
	en := d.enabledMask(s)
	if en != 0 && d.depth()+1 >= d.maxSteps {
		d.cut, d.deep = true, true
		d.fail(maxStepsFailure(d.p.Def().Pos, d.maxSteps), via)
		return
	}
	if len(d.visited) >= d.maxStates {
		d.cut, d.full = true, true
		return
	}
	i := int32(len(d.nodes))
	d.visited[h] = i
	d.nodes = append(d.nodes, node{sleep: sleep, enabled: en, edge: int32(len(d.edges))})
	d.edges = append(d.edges, make([]uint64, d.n)...)
	if en == 0 {
		if f := s.End(); f != nil {
			d.nodes[i].endFail = true
			d.fail(f, via)
			return
		}
		if d.last == nil {
			d.last = &found{run: d.runs, steps: d.path(via)}
		}
		d.leaf(nil, d.stepsTo(via))
		return
	}
	d.stack = append(d.stack, frame{s: s, node: i, sleep: sleep, todo: en &^ sleep, via: via})
}

// pop leaves the state on top of the stack. The steps a sleep set kept
// the search from taking here are taken on the model to learn where they
// lead, for the state graph (never explored from: the states they reach
// are explored through another order of the same steps).
func (d *exhDriver) pop() {
	top := d.stack[len(d.stack)-1]
	d.stack = d.stack[:len(d.stack)-1]
	nd := &d.nodes[top.node]
	if nd.known == nd.enabled {
		return
	}
	for m := nd.enabled &^ nd.known; m != 0; m &= m - 1 {
		t := bits.TrailingZeros64(m)
		s := top.s.Clone()
		info, err := s.Step(t)
		if err != nil {
			d.err = fmt.Errorf("control: counting the step of %s: %w", d.names[t], err)
			return
		}
		d.recordAt(top.node, t, s.Hash(), info.Failure != nil)
	}
}

func (d *exhDriver) record(f *frame, t int, h uint64, failed bool) { d.recordAt(f.node, t, h, failed) }

func (d *exhDriver) recordAt(i int32, t int, h uint64, failed bool) {
	nd := &d.nodes[i]
	if nd.known&(1<<t) != 0 {
		return
	}
	nd.known |= 1 << t
	if failed {
		nd.failed |= 1 << t
		return
	}
	d.edges[int(nd.edge)+t] = h
}

// path is the steps from the start to the state on top of the stack, then
// thread t's (if t >= 0).
func (d *exhDriver) path(t int) []int {
	out := slices.Clone(d.root)
	for _, f := range d.stack {
		if f.via >= 0 {
			out = append(out, f.via)
		}
	}
	if t >= 0 {
		out = append(out, t)
	}
	return out
}

// fail records a failure: thread t's step from the state on top of the
// stack failed (or the state it reached did).
func (d *exhDriver) fail(f *program.Failure, t int) {
	if d.first == nil {
		d.failAt(f, d.path(t))
		return
	}
	d.failAt(f, nil, d.stepsTo(t))
}

// failAt records a failure at the end of path, which is nil when a
// failure is already kept (its length is then steps).
func (d *exhDriver) failAt(f *program.Failure, path []int, steps ...int) {
	d.failures++
	d.kinds[failureKind(f)] = true
	if d.first == nil {
		d.first = &found{run: d.runs, steps: path, failure: f}
	}
	n := len(path)
	if path == nil && len(steps) > 0 {
		n = steps[0]
	}
	d.leaf(f, n)
}

// leaf ends a path of steps steps, which failed with f (nil: it did not):
// one run.
func (d *exhDriver) leaf(f *program.Failure, steps int) {
	if d.onRun != nil {
		d.onRun(engine.RunInfo{Run: d.runs, Verdict: verdictOf(f), Failure: f, Steps: steps})
	}
	d.runs++
}

// stepsTo is how many steps a path takes to the state thread t's step
// reaches from the top of the stack (t < 0: the top itself).
func (d *exhDriver) stepsTo(t int) int {
	n := len(d.root) + max(len(d.stack)-1, 0)
	if t >= 0 && len(d.stack) > 0 {
		n++
	}
	return n
}

// startLevel splits the prefix's level among the shards when it has at
// least one state a shard (or the prefix is as deep as it goes), and
// otherwise starts expanding it.
func (d *exhDriver) startLevel() {
	if len(d.level) == 0 || len(d.level) >= d.shard.Count || d.levels >= min(prefixLevels, d.maxSteps/2) {
		for j := d.shard.Index; j < len(d.level); j += d.shard.Count {
			d.roots = append(d.roots, d.level[j])
		}
		d.level, d.nextLevel, d.prefixDone = nil, nil, true
		return
	}
	if d.prefixSeen == nil {
		d.prefixSeen = map[uint64]bool{d.level[0].s.Hash(): true}
		d.prefixStates = 1
	}
	d.li, d.lmask, d.nextLevel = 0, d.enabledMask(d.level[0].s), nil
}

// nextPrefix returns the next step of the prefix to take, or -1 when the
// level is done (the next level is then started or split).
func (d *exhDriver) nextPrefix() int {
	for d.li < len(d.level) {
		if d.lmask == 0 {
			d.li++
			if d.li < len(d.level) {
				d.lmask = d.enabledMask(d.level[d.li].s)
			}
			continue
		}
		t := bits.TrailingZeros64(d.lmask)
		d.lmask &^= 1 << t
		d.pending.s, d.pending.t = d.level[d.li].s.Clone(), t
		return t
	}
	d.level = d.nextLevel
	d.levels++
	d.startLevel()
	return -1
}

// prefixStep keeps the state thread t's step reached in the prefix, unless
// it failed, ended or was seen before.
func (d *exhDriver) prefixStep(s *program.State, t int, f *program.Failure) {
	path := append(slices.Clone(d.level[d.li].path), t)
	if f != nil {
		d.failAt(f, path)
		return
	}
	h := s.Hash()
	if d.prefixSeen[h] {
		d.leaf(nil, len(path))
		return
	}
	d.prefixSeen[h] = true
	d.prefixStates++
	if d.enabledMask(s) == 0 {
		if f := s.End(); f != nil {
			d.failAt(f, path)
			return
		}
		if d.last == nil {
			d.last = &found{run: d.runs, steps: path}
		}
		d.leaf(nil, len(path))
		return
	}
	d.nextLevel = append(d.nextLevel, prefixState{s: s, path: path})
}

func (d *exhDriver) enabledMask(s *program.State) uint64 {
	var en uint64
	for t := range d.n {
		if s.IsEnabled(t) {
			en |= 1 << t
		}
	}
	return en
}

func trailing(m uint64) int { return bits.TrailingZeros64(m) }

// dependent says whether two steps of different threads, possible in the
// same state, must be explored in both orders: their footprints conflict
// (one writes what the other touches), or one writes a variable an
// invariant reads while the other writes a variable, so that the
// invariant is checked after the other's step on a value the order
// decides. (Footprints commute states; the invariant checks attached to
// steps need this too, so that a step's check has the same outcome in
// either order, which the soundness of sleep sets rests on.)
func (d *exhDriver) dependent(f, g program.Footprint) bool {
	if f.Conflict(g) {
		return true
	}
	return len(d.inv) > 0 && (writesVar(f) && writesAny(g, d.inv) || writesVar(g) && writesAny(f, d.inv))
}

func writesVar(f program.Footprint) bool {
	for _, o := range f.Writes {
		if o.Kind == program.ObjVar {
			return true
		}
	}
	return false
}

func writesAny(f program.Footprint, objs []program.Object) bool {
	for _, o := range f.Writes {
		if slices.Contains(objs, o) {
			return true
		}
	}
	return false
}

// states counts the distinct states explored: the prefix's (of a shard)
// and the search's from its roots.
func (d *exhDriver) states() int {
	n := len(d.visited)
	for h := range d.prefixSeen {
		if _, ok := d.visited[h]; !ok {
			n++
		}
	}
	return n
}

// failureKind names a failure by what, where and by whom.
func failureKind(f *program.Failure) string {
	return fmt.Sprintf("%s %s %s", f.Verdict, f.Pos, f.Thread)
}
