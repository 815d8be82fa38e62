package statespace

import (
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// assemble ends the expansion of the level [from, to): it numbers the new
// states in key order (the order a breadth-first search on one worker
// finds them: by the smallest parent, then thread), appends the level's
// edges to the graph with those numbers, and takes in what the workers
// counted. What it makes does not depend on how the workers shared the
// level.
func (s *search) assemble(from, to uint32) {
	base := to
	s.number(base)
	m := uint32(len(s.order))
	workers := s.workers
	var failKey, deepKey uint64 = noKey, noKey
	var fail *workerFail
	for _, w := range workers {
		s.trans += w.trans
		s.failures += w.failures
		for k, n := range w.kinds {
			s.kinds[k] += n
		}
		if w.failKey < failKey {
			failKey, fail = w.failKey, &workerFail{w.failKey, w}
		}
		if w.deep && w.deepKey < deepKey {
			deepKey = w.deepKey
		}
	}
	// The graph: each state's edges, chunks in order.
	for _, c := range s.chunks {
		w := c.w
		e := c.e0
		for _, deg := range w.degs[c.d0:c.d1] {
			s.off.push(uint32(s.edges.len()))
			for range deg {
				v := w.edges[e]
				e++
				if v != failEdge && v&provFlag != 0 {
					v = s.final[v&^provFlag]
				}
				s.edges.push(v)
			}
		}
	}
	// The failure to show, if none was found before: the fewest steps,
	// then the smallest key; and the failures of the same kind as deep,
	// among which the run shown is chosen.
	if s.first == nil {
		switch {
		case deepKey != noKey:
			s.first = &candidate{parent: -1, state: int64(deepKey)}
			s.targets = &targets{steps: s.level, ends: []uint32{uint32(deepKey)}}
		case s.firstFailEnd >= 0 && (fail == nil || s.firstFailEndKey < failKey):
			s.first = &candidate{parent: -1, state: s.firstFailEnd}
			s.targets = s.targetsOf(s.endKind(uint32(s.firstFailEnd)))
		case fail != nil:
			s.first = &candidate{parent: int64(failKey >> 8), thread: int(failKey & 0xff), state: -1, failure: fail.w.fail}
			s.targets = s.targetsOf(kindOf(fail.w.fail))
		}
	}
	if deepKey != noKey {
		// One failure, whatever the number of states too deep: the runs
		// are longer than allowed.
		s.tooDeep = true
		s.failures++
		s.kinds[kindOf(s.maxStepsFailure())]++
	}
	for _, w := range workers {
		w.endLevel()
	}
	s.levels = append(s.levels, base+m)
	s.cur.release()
	s.cur, s.next = s.next, newStore(&s.mem, s.words, &s.free, &s.freeMu)
	s.curRefs, s.nextRefs = s.nextRefs, s.curRefs[:0]
	s.recs.reset()
	s.splitShard(base, m)
	if int64(base+m) > int64(s.o.MaxStates) {
		s.halt(StopMaxStates)
	}
}

// targets are the failures of the kind shown, at the fewest steps: the
// steps that fail (parent<<8 | thread) and the failing final states.
type targets struct {
	steps int // the steps of a run to one
	fails map[uint64]bool
	ends  []uint32
}

// targetsOf gathers the level's failures of kind k.
func (s *search) targetsOf(k Kind) *targets {
	tg := &targets{steps: s.level + 1, fails: map[uint64]bool{}}
	for _, w := range s.workers {
		for _, f := range w.stepFails {
			if f.kind == k {
				tg.fails[f.key] = true
			}
		}
		for _, f := range w.endFails {
			if f.kind == k {
				tg.ends = append(tg.ends, s.final[f.id])
			}
		}
	}
	return tg
}

// endKind is the kind of failing final state id, of the level just
// numbered.
func (s *search) endKind(id uint32) Kind {
	for _, w := range s.workers {
		for _, f := range w.endFails {
			if s.final[f.id] == id {
				return f.kind
			}
		}
	}
	panic("statespace: a failing final state of unknown kind")
}

type workerFail struct {
	key uint64
	w   *worker
}

// number numbers the level's new states from base, in key order, and
// writes their numbers into the table.
func (s *search) number(base uint32) {
	n := min(s.recs.next.Load(), provLimit)
	s.order = s.order[:0]
	sorted := true
	var last uint64
	for p := range n {
		r := s.recs.at(p)
		if r.fp == 0 {
			continue
		}
		k := r.key.Load()
		if k < last {
			sorted = false
		}
		last = k
		s.order = append(grown(&s.mem, s.order, 1), p)
	}
	if !sorted {
		slices.SortFunc(s.order, func(a, b uint32) int {
			ka, kb := s.recs.at(a).key.Load(), s.recs.at(b).key.Load()
			switch {
			case ka < kb:
				return -1
			case ka > kb:
				return 1
			}
			return 0
		})
	}
	s.final = grown(&s.mem, s.final[:0], int(n))[:n]
	m := len(s.order)
	s.endFail.grow(int(base) + m)
	s.firstFailEnd, s.firstFailEndKey = -1, noKey
	resized := s.resized.Load()
	for r, p := range s.order {
		id := base + uint32(r)
		s.final[p] = id
		rec := s.recs.at(p)
		if resized {
			s.tab.set(rec.fp, id+1)
		} else {
			s.tab.publish(uint64(rec.slot), id+1)
		}
		s.nextRefs = append(grown(&s.mem, s.nextRefs, 1), rec.vec)
		switch rec.end {
		case failEnd:
			s.endFail.add(int(id))
			if s.firstFailEnd < 0 {
				s.firstFailEnd, s.firstFailEndKey = int64(id), rec.key.Load()
			}
		case passEnd:
			if s.passEnd < 0 {
				s.passEnd = int64(id)
			}
		}
	}
}

// splitShard makes the level of m states from base the roots of a
// sharded search, once it is wide enough: the shard keeps every Count-th
// state, from Index, and the others become foreign (visited, never
// expanded: another shard searches from them).
func (s *search) splitShard(base, m uint32) {
	sh := s.o.Shard
	if sh.whole() || s.split || int(m) < sh.Count*shardRoots {
		return
	}
	s.split = true
	s.foreign.grow(int(base + m))
	for r := range m {
		if int(r)%sh.Count != sh.Index {
			s.foreign.add(int(base + r))
		} else {
			s.roots++
		}
	}
	s.rootsOf = int(m)
}

// shardRoots is how many states of the split level each shard gets, at
// least: the deeper the split, the more evenly the work is shared (and
// the more states two shards both reach).
const shardRoots = 8

// progress reports how far the search has got, at most five times a
// second (always at the end, when last).
func (s *search) progress(last bool) {
	if s.o.Progress == nil {
		return
	}
	now := time.Now()
	if !last && now.Sub(s.lastProg) < 200*time.Millisecond {
		return
	}
	s.lastProg = now
	s.o.Progress(Progress{States: int64(s.levels[len(s.levels)-1]), Transitions: s.trans, Depth: len(s.levels) - 2, Bytes: s.used(), Elapsed: now.Sub(s.start)})
}

// finishFrozen ends a level a bound froze: what the workers counted is
// taken in, and the failure to show, if none was found before, is the
// level's first (by key) failing step or step to a failing final state;
// the level's states are not numbered and its graph is not kept, since
// the search stops here.
func (s *search) finishFrozen() {
	failKey := noKey
	var fail *program.Failure
	var fails []stepFail
	for _, w := range s.workers {
		s.trans += w.trans
		s.failures += w.failures
		for k, n := range w.kinds {
			s.kinds[k] += n
		}
		if w.failKey < failKey {
			failKey, fail = w.failKey, w.fail
		}
		fails = append(fails, w.stepFails...)
		for _, f := range w.endFails {
			key := s.recs.at(f.id).key.Load()
			fails = append(fails, stepFail{key, f.kind})
			if key < failKey {
				failKey, fail = key, nil
			}
		}
	}
	if s.first == nil && failKey != noKey {
		var kind Kind
		for _, f := range fails {
			if f.key == failKey {
				kind = f.kind
			}
		}
		s.first = &candidate{parent: int64(failKey >> 8), thread: int(failKey & 0xff), state: -1, failure: fail}
		s.targets = &targets{steps: s.level + 1, fails: map[uint64]bool{}}
		for _, f := range fails {
			if f.kind == kind {
				s.targets.fails[f.key] = true
			}
		}
	}
	s.stopMu.Lock()
	s.stopped.Store(true)
	s.stopMu.Unlock()
}
