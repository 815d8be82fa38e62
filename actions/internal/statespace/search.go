package statespace

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// search is one breadth-first search: the states found, numbered level
// by level, and the state graph's edges.
type search struct {
	mem   arena
	ctx   context.Context
	p     *program.Program
	o     Options
	n     int // threads
	words int
	start time.Time

	tab       *table
	keepTable bool     // keep the table past the search (for the tests)
	levels    []uint32 // levels[L] is the first state of level L
	level     int      // the level being expanded
	off       u32s     // off[i]: the first edge of state i
	edges     u32s
	// endFail holds the final states that fail; foreign, for a shard,
	// the states of the split level another shard searches.
	endFail bitset
	foreign bitset
	split   bool
	roots   int
	rootsOf int

	cur, next *store
	curRefs   []ref // the vectors of the level being expanded
	nextRefs  []ref
	free      [][]byte
	freeMu    sync.Mutex

	recs     records
	order    []uint32 // provisional numbers in key order
	final    []uint32 // provisional number → state
	workers  []*worker
	chunks   []chunk
	resized  atomic.Bool
	headroom int64

	stopped atomic.Bool
	frozen  atomic.Bool // a bound was reached: finish the level, keep no new state
	stopMu  sync.Mutex
	stop    Stop
	err     error

	trans    int64
	failures int64
	kinds    map[Kind]int64
	first    *candidate
	targets  *targets
	// The level's first failing final state and its key, -1 if none.
	firstFailEnd    int64
	firstFailEndKey uint64
	tooDeep         bool  // a state at the depth limit could step on
	passEnd         int64 // the first final state that passes, -1 if none
	peak            atomic.Int64
	lastProg        time.Time
}

// candidate is the failure to show: a failing step (state, thread), a
// failing final state, or a state at the depth limit.
type candidate struct {
	parent  int64 // the state the failing step leaves, or -1
	thread  int
	state   int64 // the failing final state or the state too deep, or -1
	failure *program.Failure
}

// Search searches the states of p (see the package documentation) and
// returns what it found. The error is for options that make no sense,
// and for ctx ending (the Result then says what was done).
func Search(ctx context.Context, p *program.Program, opts Options) (Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return Result{}, err
	}
	if o.Bitstate > 0 {
		return searchBitstate(ctx, p, o)
	}
	if o.DPOR {
		return searchDPOR(ctx, p, o)
	}
	s := newSearch(ctx, p, o)
	defer s.mem.release()
	res := s.run()
	res.Elapsed = time.Since(s.start)
	if s.err != nil {
		return res, s.err
	}
	return res, nil
}

func newSearch(ctx context.Context, p *program.Program, o Options) *search {
	s := &search{ctx: ctx, p: p, o: o, n: len(p.Threads()), words: p.Words(), start: time.Now(), kinds: map[Kind]int64{}, passEnd: -1}
	s.cur = newStore(&s.mem, s.words, &s.free, &s.freeMu)
	s.next = newStore(&s.mem, s.words, &s.free, &s.freeMu)
	s.recs.mem, s.off.mem, s.edges.mem = &s.mem, &s.mem, &s.mem
	s.tab = newTable(&s.mem, 0)
	return s
}

func (s *search) run() Result {
	st, f := s.p.NewState()
	if f != nil {
		s.failures++
		s.kinds[kindOf(f)]++
		return Result{Complete: true, States: 1, Failures: 1, Kinds: s.kinds, Failure: &Found{Steps: []int{}, Failure: f}, Workers: 1}
	}
	w := st.Words()
	if s.o.Canon != nil {
		s.o.Canon(w, nil)
	}
	slot, _, _ := s.tab.claim(fingerprintOf(w))
	s.tab.publish(slot, 1)
	s.tab.count.Add(1)
	var vw vecWriter
	vw.reset(s.cur)
	s.curRefs = append(grown(&s.mem, s.curRefs, 1), vw.put(w))
	s.levels = []uint32{0, 1}
	if !anyEnabled(st, s.n) {
		if s.o.OnEnd != nil {
			s.o.OnEnd(w)
		}
		s.endFail.grow(1)
		if f := st.End(); f != nil {
			s.endFail.add(0)
			s.failures++
			s.kinds[kindOf(f)]++
			s.first = &candidate{parent: -1, state: 0, failure: f}
			s.targets = &targets{ends: []uint32{0}}
		} else {
			s.passEnd = 0
		}
	}
	s.workers = make([]*worker, s.o.Workers)
	for i := range s.workers {
		s.workers[i] = newWorker(s)
	}
	for s.level = 0; ; s.level++ {
		from, to := s.levels[s.level], s.levels[s.level+1]
		if from == to {
			break
		}
		if !s.expandLevel(from, to) {
			if s.frozen.Load() && !s.stopped.Load() {
				s.finishFrozen()
			}
			break
		}
		s.assemble(from, to)
		s.progress(false)
		if s.stopped.Load() {
			break
		}
	}
	s.off.push(uint32(s.edges.len()))
	return s.result()
}

// expandLevel expands the states [from, to), on every worker when the
// level is wide enough; false when the search stopped before the end of
// the level (the level's work is then dropped: what the search reports
// depends only on the levels it finished).
func (s *search) expandLevel(from, to uint32) bool {
	n := to - from
	workers := s.workers
	if n < 64 {
		workers = workers[:1]
	}
	size := uint32(max(1, min(256, int(n)/(len(workers)*8))))
	chunks := int((n + size - 1) / size)
	s.chunks = slices.Grow(s.chunks[:0], chunks)[:chunks]
	s.headroom = int64(len(workers)) * int64(size) * int64(s.n)
	s.resized.Store(false)
	for _, w := range workers {
		w.startLevel()
	}
	var next atomic.Int64
	work := func(w *worker) {
		for !s.stopped.Load() {
			s.tab.mu.RLock()
			if s.tab.full(s.headroom) && !s.frozen.Load() {
				s.tab.mu.RUnlock()
				s.grow()
				continue
			}
			c := next.Add(1) - 1
			if c >= int64(chunks) {
				s.tab.mu.RUnlock()
				return
			}
			a := from + uint32(c)*size
			w.expand(a, min(a+size, to), from, &s.chunks[c])
			s.tab.count.Add(w.added)
			w.added = 0
			s.tab.mu.RUnlock()
			s.check(w)
		}
	}
	if len(workers) == 1 {
		work(workers[0])
	} else {
		var wg sync.WaitGroup
		for _, w := range workers {
			wg.Go(func() { work(w) })
		}
		wg.Wait()
	}
	return !s.stopped.Load() && !s.frozen.Load()
}

// grow makes the table larger, unless that would pass the memory bound.
func (s *search) grow() {
	s.tab.mu.Lock()
	defer s.tab.mu.Unlock()
	if !s.tab.full(s.headroom) {
		return
	}
	// While it grows, the table is there twice.
	both := s.used() + s.tab.grownBytes(s.headroom)
	if both > s.softBytes() {
		s.freeze(StopMemory)
		return
	}
	s.notePeak(both)
	s.tab.grow(s.headroom)
	s.resized.Store(true)
}

// check stops the search when a bound is reached.
func (s *search) check(w *worker) {
	switch {
	case w.overflow:
		s.halt(StopMemory)
	case s.frozen.Load():
	case s.tab.count.Load() > int64(s.o.MaxStates):
		s.freeze(StopMaxStates)
	case s.used() > s.softBytes():
		s.freeze(StopMemory)
	case s.ctx.Err() != nil:
		s.haltErr(StopCanceled, context.Cause(s.ctx))
	case s.o.Budget > 0 && time.Since(s.start) > s.o.Budget:
		s.halt(StopBudget)
	}
}

// softBytes is the memory past which the search stops: MaxBytes less
// what the workers may allocate before they next look (a page of vectors
// and one of records each, and a sixteenth for the arrays that double).
func (s *search) softBytes() int64 {
	return s.o.MaxBytes*15/16 - int64(len(s.workers))*(3<<20)
}

func (s *search) halt(why Stop) { s.haltErr(why, nil) }

// freeze stops the search at the end of the level under way: the rest of
// the level is expanded without keeping a new state (so with no more
// memory), to find every failure the level holds; then the search stops,
// for why. A bound reached in the middle of a level thus reports what the
// whole level found, whatever the number of workers.
func (s *search) freeze(why Stop) {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stop == "" {
		s.stop = why
	}
	s.frozen.Store(true)
}

func (s *search) haltErr(why Stop, err error) {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	if s.stop == "" {
		s.stop, s.err = why, err
		if err != nil {
			s.err = fmt.Errorf("statespace: %w", err)
		}
	}
	s.stopped.Store(true)
}

// used is the memory the search keeps, by its own count: the table, the
// graph, the vectors of two levels, the records of new states and the
// workers' buffers. Workers call it while others work: it reads only
// what is safe to read then.
func (s *search) used() int64 {
	b := s.mem.bytes() + s.endFail.bytes() + s.foreign.bytes()
	s.notePeak(b)
	return b
}

// notePeak keeps b if it is the most memory seen.
func (s *search) notePeak(b int64) {
	for {
		old := s.peak.Load()
		if b <= old || s.peak.CompareAndSwap(old, b) {
			return
		}
	}
}
