package prodcons

import (
	"errors"
	"fmt"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/jitter"
	"github.com/pmrun/pmrun/actions/internal/sem"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

// RunWorker runs worker w of the prodcons region r until its share of the
// work is done, and is what a worker process calls (see [Launcher]); the
// threads of [Run] call it too. The configuration comes from the region.
// c, which may be nil, can cancel the worker; the coordinator can also stop
// it through the region. onEvent, which may be nil, receives trace events if
// the run traces.
//
// It returns nil when the worker's share is done, [sem.ErrCancelled] when it
// was stopped, and an error matching [sem.ErrOwnerDead] when the worker
// holding the mutex died. The error does not name w: [Run] and
// [RunProcesses], which know which worker it was, do.
func RunWorker(r *shm.Region, w Worker, c sem.Canceler, onEvent func(Event)) (err error) {
	l, err := attach(r)
	if err != nil {
		return err
	}
	n := l.producers()
	if w.Role == Consumer {
		n = l.consumers()
	} else if w.Role != Producer {
		return fmt.Errorf("prodcons: worker %s: unknown role", w)
	}
	if w.Index < 0 || w.Index >= n {
		return fmt.Errorf("prodcons: worker %s: index out of range [0, %d)", w, n)
	}
	st := l.statsOf(w)
	if !st.state.CompareAndSwap(stateIdle, stateRunning) {
		return fmt.Errorf("prodcons: worker %s: already ran in this region", w)
	}
	st.pid.Store(uint32(os.Getpid()))
	wk := newWorker(l, w, c, onEvent)
	defer func() {
		st.end.Store(monoNow())
		switch {
		case err == nil:
			st.state.Store(stateDone)
		case errors.Is(err, sem.ErrCancelled):
			st.state.Store(stateCancelled)
		case errors.Is(err, sem.ErrOwnerDead):
			st.state.Store(stateOwnerDead)
		default:
			st.state.Store(stateFailed)
		}
		if w.Role == Producer {
			l.ctl.producersDone.Add(1)
		} else {
			l.ctl.consumersDone.Add(1)
		}
	}()
	// The gate is a turnstile: each worker passes it and lets the next one in.
	if err := l.ctl.gate.P(wk.c, 0); err != nil {
		return err
	}
	l.ctl.gate.V()
	switch {
	case w.Role == Producer && l.ctl.params.syncNone == 0:
		return wk.produce()
	case w.Role == Producer:
		return wk.produceUnguarded()
	case l.ctl.params.syncNone == 0:
		return wk.consume()
	default:
		return wk.consumeUnguarded()
	}
}

// worker is one worker's state in its own thread.
type worker struct {
	*layout
	w       Worker
	c       *canceler
	st      *stats
	extra   *jitter.Source
	onEvent func(Event)
	widened int
}

func newWorker(l *layout, w Worker, c sem.Canceler, onEvent func(Event)) *worker {
	// One generator per worker, from the seed and the worker alone, so a
	// seed repeats each worker's delays whatever the scheduling.
	stream := uint64(w.Index)
	if w.Role == Consumer {
		stream |= 1 << 32
	}
	if l.ctl.params.trace == 0 {
		onEvent = nil
	}
	return &worker{
		layout:  l,
		w:       w,
		c:       &canceler{abort: &l.ctl.abort, c: c},
		st:      l.statsOf(w),
		extra:   jitter.New(l.ctl.params.seed, stream, time.Duration(l.ctl.params.jitter)),
		onEvent: onEvent,
	}
}

// canceler stops a worker when its own Canceler says so or when the
// coordinator raised the region's abort flag.
type canceler struct {
	abort interface{ Load() uint32 }
	c     sem.Canceler
}

// Cancelled reports whether the worker must stop.
func (c *canceler) Cancelled() bool {
	return c.abort.Load() != 0 || (c.c != nil && c.c.Cancelled())
}

// Watch passes the futex word on to the worker's own Canceler; an abort
// needs no watching, since the coordinator wakes every semaphore itself.
func (c *canceler) Watch(addr *uint32) {
	if c.c != nil {
		c.c.Watch(addr)
	}
}

// TID passes on the thread id of the worker's own Canceler, so the mutex can
// record which thread holds it.
func (c *canceler) TID() int {
	if t, ok := c.c.(interface{ TID() int }); ok {
		return t.TID()
	}
	return 0
}

// work spends base plus up to jitter, waiting on the never-posted sleeper
// semaphore so that the delay is a cancellation point.
func (wk *worker) work(base int64) error {
	d := base + int64(wk.extra.Next())
	if d <= 0 {
		return nil
	}
	if err := wk.ctl.sleeper.P(wk.c, time.Duration(d)); !errors.Is(err, sem.ErrTimeout) {
		if err == nil {
			err = errors.New("sleeper semaphore was posted")
		}
		return err
	}
	return nil
}

// produce is the textbook producer: P(empty) P(mutex) put V(mutex) V(filled).
func (wk *worker) produce() error {
	ctl := wk.ctl
	first, n := wk.share(wk.w.Index)
	buffer := uint32(wk.buffer())
	for k := range n {
		if err := wk.work(ctl.params.produceTime); err != nil {
			return err
		}
		if !ctl.empty.TryP() {
			wk.st.waits.Add(1)
			if err := ctl.empty.P(wk.c, 0); err != nil {
				return err
			}
		}
		if err := ctl.mutex.Lock(wk.c, 0); err != nil {
			return err
		}
		i := ctl.in.Load()
		wk.ring[i].Store(uint32(first + k + 1))
		ctl.in.Store((i + 1) % buffer)
		occ := ctl.occupancy.Add(1)
		if wk.onEvent != nil {
			// Traced inside the critical section, so that the events come
			// in the order the buffer saw: a lab reads the timeline.
			wk.produced(first+k, k+1, occ)
		}
		if err := ctl.mutex.Unlock(); err != nil {
			return err
		}
		ctl.filled.V()
		if wk.onEvent == nil {
			wk.produced(first+k, k+1, occ)
		}
	}
	return nil
}

// consume is the textbook consumer: P(filled) P(mutex) take V(mutex) V(empty).
// Consumers stop when the items are all spoken for: each takes a ticket
// before waiting, and there are exactly as many tickets as items, so no
// consumer waits for an item that will never come.
func (wk *worker) consume() error {
	ctl := wk.ctl
	total := uint32(wk.items())
	buffer := uint32(wk.buffer())
	for ctl.claimed.Add(1) <= total {
		if !ctl.filled.TryP() {
			wk.st.waits.Add(1)
			if err := ctl.filled.P(wk.c, 0); err != nil {
				return err
			}
		}
		if err := ctl.mutex.Lock(wk.c, 0); err != nil {
			return err
		}
		i := ctl.out.Load()
		item := wk.ring[i].Load()
		ctl.out.Store((i + 1) % buffer)
		occ := ctl.occupancy.Add(-1)
		if wk.onEvent != nil {
			wk.consumed(item, occ) // in buffer order, as in produce
		}
		if err := ctl.mutex.Unlock(); err != nil {
			return err
		}
		ctl.empty.V()
		if wk.onEvent == nil {
			wk.consumed(item, occ)
		}
		if err := wk.work(ctl.params.consumeTime); err != nil {
			return err
		}
	}
	return nil
}

// produceUnguarded is the producer without synchronisation: it busy-waits
// on the shared count and updates the index and the count by separate loads
// and stores, so two producers can fill the same slot and updates of the
// count get lost.
func (wk *worker) produceUnguarded() error {
	ctl := wk.ctl
	first, n := wk.share(wk.w.Index)
	buffer := uint32(wk.buffer())
	for k := range n {
		if err := wk.work(ctl.params.produceTime); err != nil {
			return err
		}
		for ctl.count.Load() >= int32(buffer) {
			if wk.c.Cancelled() {
				return sem.ErrCancelled
			}
			if ctl.consumersDone.Load() == uint32(wk.consumers()) {
				return nil // nobody left to make room
			}
			wk.st.waits.Add(1)
			yield()
		}
		i := ctl.in.Load()
		wk.widen()
		wk.ring[i].Store(uint32(first + k + 1))
		ctl.in.Store((i + 1) % buffer)
		cnt := ctl.count.Load()
		wk.widen()
		ctl.count.Store(cnt + 1)
		wk.produced(first+k, k+1, ctl.occupancy.Add(1))
	}
	return nil
}

// unguardedGrace is how many empty polls a consumer of sync none makes after
// every producer has finished before it concludes nothing more will come.
const unguardedGrace = 1000

// consumeUnguarded is the consumer without synchronisation; see
// produceUnguarded. It may read a slot twice or skip one.
func (wk *worker) consumeUnguarded() error {
	ctl := wk.ctl
	total := uint32(wk.items())
	buffer := uint32(wk.buffer())
	for ctl.claimed.Add(1) <= total {
		for idle := 0; ctl.count.Load() <= 0; {
			if wk.c.Cancelled() {
				return sem.ErrCancelled
			}
			if ctl.producersDone.Load() == uint32(wk.producers()) {
				if idle++; idle > unguardedGrace {
					return nil
				}
			}
			wk.st.waits.Add(1)
			yield()
		}
		i := ctl.out.Load()
		wk.widen()
		item := wk.ring[i].Load()
		ctl.out.Store((i + 1) % buffer)
		cnt := ctl.count.Load()
		wk.widen()
		ctl.count.Store(cnt - 1)
		wk.consumed(item, ctl.occupancy.Add(-1))
		if err := wk.work(ctl.params.consumeTime); err != nil {
			return err
		}
	}
	return nil
}

// widenSpins is how long widen holds a worker between reading a shared word
// and writing it back, in atomic loads: long enough that another worker
// regularly gets in between on a machine with two CPUs.
const widenSpins = 200

// widen stretches the window of a racy read-modify-write, and every fourth
// time yields the CPU so that a worker on the same CPU can get in too.
func (wk *worker) widen() {
	for range widenSpins {
		if wk.ctl.abort.Load() != 0 {
			return
		}
	}
	if wk.widened++; wk.widened%4 == 0 {
		yield()
	}
}

// yield gives the CPU to another runnable thread, as a busy-waiting C
// program's sched_yield does. It never blocks, so it skips the runtime's
// syscall bookkeeping.
func yield() { unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0) }

// produced records that global item g, the producer's k-th, went in and left
// occupancy occ.
func (wk *worker) produced(g, k int, occ int32) {
	wk.noteOccupancy(occ)
	wk.st.items.Store(uint64(k))
	if wk.onEvent != nil {
		wk.onEvent(Event{Kind: ItemProduced, Worker: wk.w, Item: wk.itemOf(g), Occupancy: int(occ), Buffer: wk.buffer(), Time: time.Now()})
	}
}

// consumed records that slot content item (global item + 1; 0 is a slot never
// written) came out and left occupancy occ.
func (wk *worker) consumed(item uint32, occ int32) {
	wk.noteOccupancy(occ)
	if item == 0 || int(item) > len(wk.counts) {
		return // an empty slot read by an unguarded consumer: nothing consumed
	}
	wk.counts[item-1].Add(1)
	wk.st.items.Add(1)
	if wk.onEvent != nil {
		wk.onEvent(Event{Kind: ItemConsumed, Worker: wk.w, Item: wk.itemOf(int(item - 1)), Occupancy: int(occ), Buffer: wk.buffer(), Time: time.Now()})
	}
}

func (wk *worker) noteOccupancy(occ int32) {
	if occ < 0 || occ > int32(wk.buffer()) {
		wk.ctl.overflow.Add(1)
	}
	for m := wk.ctl.maxOcc.Load(); occ > m && !wk.ctl.maxOcc.CompareAndSwap(m, occ); m = wk.ctl.maxOcc.Load() {
	}
}
