package prodcons

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/sem"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

// The region starts with a control block, then one stats block per worker
// (producers first), the ring, and one consumption counter per item. Every
// word is 32 or 64 bits and accessed atomically. Hot words that different
// workers write sit on cache lines of their own, so they do not slow each
// other down by false sharing.
//
// The magic and version let RunWorker refuse a region that is not a prodcons
// region of this layout.
const (
	magic   = 0x70636f6e // "pcon"
	version = 1
	line    = 64
)

// params is the configuration as the workers need it, in the region so that
// a worker process needs nothing but the region, its role and its index.
type params struct {
	magic, version uint32
	producers      uint32
	consumers      uint32
	buffer         uint32
	items          uint32
	syncNone       uint32
	trace          uint32
	produceTime    int64
	consumeTime    int64
	jitter         int64
	seed           int64
}

type control struct {
	params params
	mutex  sem.Mutex
	_      [line - sem.Size]byte
	empty  sem.Semaphore
	_      [line - sem.Size]byte
	filled sem.Semaphore
	_      [line - sem.Size]byte
	// gate holds the workers until all have started, so Duration measures
	// the run and not thread or process start-up.
	gate sem.Semaphore
	_    [line - sem.Size]byte
	// sleeper is never posted: workers "work" by waiting on it with a
	// timeout, which makes their delays cancellation points.
	sleeper sem.Semaphore
	_       [line - sem.Size]byte

	in  atomic.Uint32 // next slot a producer fills
	_   [line - 4]byte
	out atomic.Uint32 // next slot a consumer empties
	_   [line - 4]byte

	// occupancy is the true number of items in the ring, kept with atomic
	// adds in every mode; count is the unprotected counter the workers of
	// sync none busy-wait on, updated by racy load-then-store.
	occupancy atomic.Int32
	maxOcc    atomic.Int32
	overflow  atomic.Uint32
	count     atomic.Int32
	_         [line - 16]byte

	claimed       atomic.Uint32 // consumption tickets handed out to consumers
	abort         atomic.Uint32 // set by the coordinator: every worker stops
	producersDone atomic.Uint32
	consumersDone atomic.Uint32
	started       atomic.Int64 // CLOCK_MONOTONIC ns when the gate opened
	_             [line - 24]byte
}

// Worker states in a stats block.
// A worker process's error does not cross the process boundary, but the
// coordinator needs to know whether a worker failed on its own or only
// stopped because it was told to, so each worker leaves its end here.
const (
	stateIdle uint32 = iota
	stateRunning
	stateDone
	stateFailed
	stateCancelled // stopped by its Canceler or the abort flag
	stateOwnerDead // gave up on the mutex: its holder died
)

type stats struct {
	items atomic.Uint64 // produced or consumed
	waits atomic.Uint64 // times blocked on empty or filled
	end   atomic.Int64  // CLOCK_MONOTONIC ns when the worker ended
	pid   atomic.Uint32
	state atomic.Uint32
	_     [line - 32]byte
}

// layout is one process's view of a prodcons region.
type layout struct {
	region *shm.Region
	ctl    *control
	stats  []stats // producers, then consumers
	ring   []atomic.Uint32
	counts []atomic.Uint32 // per item: how many times it was consumed
}

func align(n int) int { return (n + line - 1) &^ (line - 1) }

// regionSize is the bytes a configuration's region needs.
func regionSize(c Config) int {
	return align(int(unsafe.Sizeof(control{}))) +
		(c.Producers+c.Consumers)*int(unsafe.Sizeof(stats{})) +
		align(4*c.Buffer) + align(4*max(c.Items, 1))
}

// newLayout creates and initialises the region for c.
func newLayout(c Config) (*layout, error) {
	r, err := shm.Create("pmrun-prodcons", regionSize(c))
	if err != nil {
		return nil, fmt.Errorf("prodcons: %w", err)
	}
	l := view(r, c.Producers, c.Consumers, c.Buffer, c.Items)
	p := &l.ctl.params
	*p = params{
		magic: magic, version: version,
		producers: uint32(c.Producers), consumers: uint32(c.Consumers),
		buffer: uint32(c.Buffer), items: uint32(c.Items),
		produceTime: int64(c.ProduceTime), consumeTime: int64(c.ConsumeTime),
		jitter: int64(c.Jitter), seed: c.Seed,
	}
	if c.Sync == SyncNone {
		p.syncNone = 1
	}
	if c.Trace {
		p.trace = 1
	}
	l.ctl.mutex.Init()
	l.ctl.empty.Init(uint32(c.Buffer))
	l.ctl.filled.Init(0)
	l.ctl.gate.Init(0)
	l.ctl.sleeper.Init(0)
	return l, nil
}

// attach checks that r holds a prodcons region of this layout and returns a
// view of it.
func attach(r *shm.Region) (*layout, error) {
	if r == nil || r.Size() < int(unsafe.Sizeof(control{})) {
		return nil, fmt.Errorf("prodcons: attach: region too small for a control block")
	}
	p := &(*control)(unsafe.Pointer(&r.Bytes()[0])).params
	if p.magic != magic || p.version != version {
		return nil, fmt.Errorf("prodcons: attach: not a prodcons region (magic %#x version %d)", p.magic, p.version)
	}
	c := Config{Producers: int(p.producers), Consumers: int(p.consumers), Buffer: int(p.buffer), Items: int(p.items), Sync: SyncSemaphores}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("prodcons: attach: %w", err)
	}
	if need := regionSize(c); r.Size() < need {
		return nil, fmt.Errorf("prodcons: attach: region is %d bytes, its configuration needs %d", r.Size(), need)
	}
	return view(r, c.Producers, c.Consumers, c.Buffer, c.Items), nil
}

// view lays the structures over r's memory; r must be large enough.
func view(r *shm.Region, producers, consumers, buffer, items int) *layout {
	b := r.Bytes()
	off := align(int(unsafe.Sizeof(control{})))
	l := &layout{region: r, ctl: (*control)(unsafe.Pointer(&b[0]))}
	l.stats = unsafe.Slice((*stats)(unsafe.Pointer(&b[off])), producers+consumers)
	off += (producers + consumers) * int(unsafe.Sizeof(stats{}))
	l.ring = unsafe.Slice((*atomic.Uint32)(unsafe.Pointer(&b[off])), buffer)
	off += align(4 * buffer)
	l.counts = unsafe.Slice((*atomic.Uint32)(unsafe.Pointer(&b[off])), items)
	return l
}

func (l *layout) producers() int { return int(l.ctl.params.producers) }
func (l *layout) consumers() int { return int(l.ctl.params.consumers) }
func (l *layout) buffer() int    { return int(l.ctl.params.buffer) }
func (l *layout) items() int     { return int(l.ctl.params.items) }

// statsOf returns w's stats block.
func (l *layout) statsOf(w Worker) *stats {
	if w.Role == Consumer {
		return &l.stats[l.producers()+w.Index]
	}
	return &l.stats[w.Index]
}

// share returns the first item and the number of items of producer p: each
// makes items/producers, the first items%producers one more.
func (l *layout) share(p int) (first, n int) {
	base, rem := l.items()/l.producers(), l.items()%l.producers()
	return p*base + min(p, rem), base + btoi(p < rem)
}

// itemOf turns a global item number back into its producer and sequence.
func (l *layout) itemOf(g int) Item {
	base, rem := l.items()/l.producers(), l.items()%l.producers()
	big := rem * (base + 1) // items of the producers that make one more
	if g < big {
		return Item{Producer: g / (base + 1), Seq: g % (base + 1)}
	}
	return Item{Producer: rem + (g-big)/base, Seq: (g - big) % base}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// abortAll makes every worker stop: it raises the abort flag, which their
// Cancelers check, and wakes everyone asleep on a semaphore so they see it.
func (l *layout) abortAll() {
	l.ctl.abort.Store(1)
	l.ctl.mutex.WakeAll()
	l.ctl.empty.WakeAll()
	l.ctl.filled.WakeAll()
	l.ctl.gate.WakeAll()
	l.ctl.sleeper.WakeAll()
}

// open lets the workers go and notes the time the run starts.
func (l *layout) open() {
	l.ctl.started.Store(monoNow())
	l.ctl.gate.V()
}

// monoNow is CLOCK_MONOTONIC in nanoseconds, comparable between processes
// (time.Now's monotonic reading is not exported).
func monoNow() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
