package statespace

import (
	"github.com/pmrun/pmrun/actions/internal/program"
)

// Edge values: a state's number, a provisional number (a state of the
// level being found, numbered when the level is done) with provFlag, or
// failEdge for a step that fails.
const (
	provFlag uint32 = 1 << 31
	failEdge uint32 = 1<<32 - 1
)

// worker expands states: each of its chunks is a run of consecutive
// states of the level, expanded in order, threads in index order. What
// it finds stays its own until the level is done.
type worker struct {
	s        *search
	buf      []int64 // the state being expanded
	succs    []int64 // its successors, one after the other
	next     []successor
	touched  uint64 // what the early reads of the table read, kept so that they are made
	vw       vecWriter
	from, to uint32 // its block of record numbers

	degs  []uint16 // each expanded state's number of edges
	edges []uint32

	added    int64 // new states (counted into the table in batches)
	trans    int64
	failures int64
	kinds    map[Kind]int64
	// The first failing step it found (the smallest key).
	failKey uint64
	fail    *program.Failure
	// Final states met at the depth limit that could step on.
	deep     bool
	deepKey  uint64
	overflow bool // the level has more new states than can be numbered
	// While no failure has been found, the level's failures, each with
	// its kind: the first level with one holds the shortest, and the
	// run shown is chosen among them.
	watch     bool
	stepFails []stepFail
	endFails  []endFail
}

// stepFail is a failing step: parent<<8 | thread.
type stepFail struct {
	key  uint64
	kind Kind
}

// endFail is a failing final state, by its provisional number until the
// level is numbered.
type endFail struct {
	id   uint32
	kind Kind
}

// successor is a step of the state being expanded: its thread, and the
// fingerprint of the state it leads to, or that it failed.
type successor struct {
	t      int
	failed bool
	fp     uint64
}

// chunk is the states [from, to) of a level, expanded by one worker:
// their degrees at degs[d0:], their edges at edges[e0:e1].
type chunk struct {
	w      *worker
	d0, d1 int
	e0, e1 int
}

func newWorker(s *search) *worker {
	return &worker{s: s, buf: make([]int64, s.words), succs: make([]int64, s.words*s.n), kinds: map[Kind]int64{}, failKey: noKey, deepKey: noKey}
}

// noKey is above every key.
const noKey = ^uint64(0)

// startLevel readies the worker for a level.
func (w *worker) startLevel() {
	w.watch = w.s.first == nil
	w.stepFails, w.endFails = w.stepFails[:0], w.endFails[:0]
	w.vw.reset(w.s.next)
	w.from, w.to = 0, 0
	w.degs, w.edges = w.degs[:0], w.edges[:0]
}

// expand expands the states [from, to) of the level, whose first state
// is base.
func (w *worker) expand(from, to, base uint32, c *chunk) {
	s := w.s
	c.w, c.d0, c.e0 = w, len(w.degs), len(w.edges)
	deep := s.level >= s.o.MaxSteps
	for i := from; i < to; i++ {
		w.degs = grown(&s.mem, w.degs, 1)
		w.edges = grown(&s.mem, w.edges, s.n)
		if s.foreign != nil && s.foreign.has(int(i)) {
			w.degs = append(w.degs, 0)
			continue
		}
		s.cur.get(s.curRefs[i-base], w.buf)
		st := s.p.View(w.buf)
		if deep {
			if anyEnabled(&st, s.n) && uint64(i) < w.deepKey {
				w.deep, w.deepKey = true, uint64(i)
			}
			w.degs = append(w.degs, 0)
			continue
		}
		// First every step, each on a copy of the state, then the
		// table: the lookups of the successors do not depend on one
		// another, so their cache misses overlap.
		sum := uint64(0)
		if s.o.Canon == nil {
			sum = sumOf(w.buf)
		}
		w.next = w.next[:0]
		for t := range s.n {
			if !st.IsEnabled(t) {
				continue
			}
			w.trans++
			k := len(w.next)
			succ := w.succs[k*s.words : (k+1)*s.words]
			copy(succ, w.buf)
			v := s.p.View(succ)
			if f := v.Advance(t); f != nil {
				w.next = append(w.next, successor{t: t, failed: true})
				w.failures++
				w.kinds[kindOf(f)]++
				key := uint64(i)<<8 | uint64(t)
				if key < w.failKey {
					w.failKey, w.fail = key, f
				}
				if w.watch {
					w.stepFails = append(w.stepFails, stepFail{key, kindOf(f)})
				}
				continue
			}
			var fp uint64
			if s.o.Canon != nil {
				s.o.Canon(succ, nil)
				fp = fingerprintOf(succ)
			} else {
				fp = finish(resum(sum, w.buf, succ))
			}
			w.next = append(w.next, successor{t: t, fp: fp})
		}
		var touch uint64
		for _, n := range w.next {
			touch += s.tab.touch(n.fp)
		}
		w.touched += touch
		for k, n := range w.next {
			if n.failed {
				w.edges = append(w.edges, failEdge)
				continue
			}
			w.edges = append(w.edges, w.visit(w.succs[k*s.words:(k+1)*s.words], n.fp, uint64(i)<<8|uint64(n.t)))
		}
		deg := len(w.next)
		w.degs = append(w.degs, uint16(deg))
	}
	c.d1, c.e1 = len(w.degs), len(w.edges)
}

// endLevel forgets what the worker counted of the level, once the search
// has taken it in.
func (w *worker) endLevel() {
	w.trans, w.failures = 0, 0
	clear(w.kinds)
	w.failKey, w.fail = noKey, nil
	w.deep, w.deepKey = false, noKey
}

// visit looks up the state succ, whose fingerprint is fp, reached with
// key, adds it when it is new, and returns the edge to it.
func (w *worker) visit(succ []int64, fp, key uint64) uint32 {
	s := w.s
	if s.frozen.Load() {
		return w.look(succ, fp, key)
	}
	slot, val, added := s.tab.claim(fp)
	if !added {
		if val&provFlag != 0 {
			lower(&s.recs.at(val&^provFlag).key, key)
			return val
		}
		return val - 1
	}
	if w.from == w.to {
		var ok bool
		if w.from, w.to, ok = s.recs.claim(); !ok {
			// Too many new states in one level to number: keep the
			// state as a final one of no kind, and stop the search.
			w.overflow = true
			s.tab.publish(slot, 1)
			return 0
		}
	}
	id := w.from
	w.from++
	r := s.recs.at(id)
	r.fp, r.vec, r.slot = fp, w.vw.put(succ), uint32(slot)
	r.key.Store(key)
	r.end = notEnd
	// Published before the rest: another worker that meets the state
	// waits for its number (r.end is read once the level is done).
	s.tab.publish(slot, provFlag|id)
	v := s.p.View(succ)
	if !anyEnabled(&v, s.n) {
		if s.o.OnEnd != nil {
			s.o.OnEnd(succ)
		}
		r.end = passEnd
		if f := v.End(); f != nil {
			r.end = failEnd
			w.failures++
			w.kinds[kindOf(f)]++
			if w.watch {
				w.endFails = append(w.endFails, endFail{id, kindOf(f)})
			}
		}
	}
	w.added++
	return provFlag | id
}

func anyEnabled(s *program.State, n int) bool {
	for t := range n {
		if s.IsEnabled(t) {
			return true
		}
	}
	return false
}

// look is visit once the search is frozen: a state seen is found, a new
// one is not kept, but whether it is a failing final state is told as a
// failing step (its key, its kind), so that the level's failures are all
// found.
func (w *worker) look(succ []int64, fp, key uint64) uint32 {
	s := w.s
	if val := s.tab.find(fp); val != 0 {
		if val&provFlag != 0 {
			lower(&s.recs.at(val&^provFlag).key, key)
		}
		return failEdge // the graph of a frozen level is not kept
	}
	v := s.p.View(succ)
	if anyEnabled(&v, s.n) {
		return failEdge
	}
	if s.o.OnEnd != nil {
		s.o.OnEnd(succ)
	}
	if f := v.End(); f != nil {
		w.failures++
		w.kinds[kindOf(f)]++
		if key < w.failKey {
			w.failKey, w.fail = key, f
		}
		if w.watch {
			w.stepFails = append(w.stepFails, stepFail{key, kindOf(f)})
		}
	}
	return failEdge
}
