// Package rw runs the readers-writers problem: readers may share the
// room, a writer needs it alone. Each reader and writer is a pmrun thread
// (reader-0, writer-0, …) and the locks are pmrun's futex semaphores, in
// the three classic solutions of Courtois, Heymans and Parnas and with no
// lock at all:
//
//   - readers_first: a reader comes in whenever readers are in, so a
//     steady stream of readers keeps a writer out for as long as it lasts
//     (writer starvation);
//   - writers_first: a waiting writer stops new readers coming in, so
//     writers can starve readers instead;
//   - fair: everyone queues at one turnstile first, in arrival order, so
//     neither side waits long;
//   - none: no lock, to show on purpose a writer in the room with others.
//
// Every entry is checked against the rule (a writer alone, readers with no
// writer), and the waits are timed, so a run shows who starves whom.
package rw

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pmrun/pmrun/actions/internal/jitter"
	"github.com/pmrun/pmrun/actions/internal/lab"
	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/sem"
)

// Policy is how the room is locked.
type Policy string

// The policies.
const (
	ReadersFirst Policy = "readers_first"
	WritersFirst Policy = "writers_first"
	Fair         Policy = "fair"
	None         Policy = "none"
)

// Limits of a [Config].
const (
	MaxWorkers = 64
	MaxOps     = 1_000_000
)

// Events a run reports through Config.OnEvent.
const (
	EventWait  = "rw_wait"  // a worker asks to come in
	EventEnter = "rw_enter" // it is in
	EventLeave = "rw_leave" // it is out
)

// Config describes a run.
type Config struct {
	Readers, Writers int
	Reads, Writes    int // each reader's reads, each writer's writes
	Policy           Policy
	ReadTime         time.Duration
	WriteTime        time.Duration
	ThinkTime        time.Duration // between two visits
	Jitter           time.Duration // random extra on each think, read and write, from Seed
	Seed             int64
	OnEvent          func(Event) // called from the workers' threads
}

// Event is something a worker did.
type Event struct {
	Kind    string
	Worker  string // reader-0, writer-1, …
	Writer  bool
	Readers int  // EventEnter: readers in the room, this one included
	Broke   bool // EventEnter: this entry broke the rule
}

// Result is how a run ended.
type Result struct {
	// OK: every visit was made and the rule always held.
	OK     bool
	Reads  int
	Writes int
	// Violations counts entries that broke the rule: a writer with anyone
	// else in the room, a reader with a writer. Only policy none has any.
	Violations int
	MaxReaders int // readers in the room at once
	// Waits from asking to come in to being in.
	ReaderMaxWait, ReaderMeanWait time.Duration
	WriterMaxWait, WriterMeanWait time.Duration
	Runtime                       time.Duration
}

// ErrInvalid wraps a bad Config.
var ErrInvalid = errors.New("rw: invalid configuration")

func (c Config) check() error {
	switch {
	case c.Readers < 0 || c.Writers < 0 || c.Readers+c.Writers == 0 || c.Readers > MaxWorkers || c.Writers > MaxWorkers:
		return fmt.Errorf("%w: %d readers and %d writers, want 0 to %d each and someone", ErrInvalid, c.Readers, c.Writers, MaxWorkers)
	case c.Reads < 0 || c.Writes < 0 || c.Reads > MaxOps || c.Writes > MaxOps:
		return fmt.Errorf("%w: %d reads and %d writes each, want 0 to %d", ErrInvalid, c.Reads, c.Writes, MaxOps)
	case c.Policy != ReadersFirst && c.Policy != WritersFirst && c.Policy != Fair && c.Policy != None:
		return fmt.Errorf("%w: policy %q", ErrInvalid, c.Policy)
	case c.ReadTime < 0 || c.WriteTime < 0 || c.ThinkTime < 0 || c.Jitter < 0:
		return fmt.Errorf("%w: a negative duration", ErrInvalid)
	}
	return nil
}

// WorkerName is how threads and events call a worker.
func WorkerName(writer bool, i int) string {
	if writer {
		return lab.Name("writer", i)
	}
	return lab.Name("reader", i)
}

// Threads are the workers' thread names: the readers', then the writers'.
func (c Config) Threads() []string {
	return append(lab.Names("reader", c.Readers), lab.Names("writer", c.Writers)...)
}

// room is the shared state: the locks of the policy and the checks.
type room struct {
	cfg Config

	// The classic solutions' semaphores: resource guards the room;
	// rmutex and wmutex the reader and writer counts; readTry (writers
	// first) lets a waiting writer hold readers back; queue (fair) is
	// the turnstile everyone passes first.
	resource, rmutex, wmutex, readTry *sem.Semaphore
	queue                             *turnstile
	readCount, writeCount             int // guarded by rmutex, wmutex

	readersIn, writersIn atomic.Int32
	violations           atomic.Int32
	maxReaders           atomic.Int32

	mu    sync.Mutex // guards the tallies below
	waits [2]struct {
		n        int
		sum, max time.Duration
	}
}

// Run starts every reader and writer, lets them in together and returns
// once each has made its visits, or when ctx ends (with ctx's cause). Every
// worker's thread has ended and left the process when Run returns.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	r := &room{cfg: cfg, resource: sem.New(1), rmutex: sem.New(1), wmutex: sem.New(1),
		readTry: sem.New(1), queue: &turnstile{}}
	// Interleaved, so that neither side comes first.
	type worker struct {
		writer bool
		i      int
	}
	var workers []worker
	var names []string
	for i := range max(cfg.Readers, cfg.Writers) {
		if i < cfg.Readers {
			workers, names = append(workers, worker{false, i}), append(names, WorkerName(false, i))
		}
		if i < cfg.Writers {
			workers, names = append(workers, worker{true, i}), append(names, WorkerName(true, i))
		}
	}
	end, err := lab.Run(ctx, "rw", names, func(k int, t *osthread.Thread) error {
		return r.work(t, workers[k].writer, workers[k].i)
	}, lab.Watch{})
	if err != nil {
		return Result{}, err
	}
	res := r.result()
	res.Runtime = end.Runtime
	res.OK = res.Violations == 0 && res.Reads == cfg.Readers*cfg.Reads && res.Writes == cfg.Writers*cfg.Writes
	return res, end.Err(fmt.Sprintf("%d reads and %d writes", res.Reads, res.Writes))
}

func (r *room) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Violations: int(r.violations.Load()), MaxReaders: int(r.maxReaders.Load())}
	rd, wr := r.waits[0], r.waits[1]
	res.Reads, res.Writes = rd.n, wr.n
	res.ReaderMaxWait, res.WriterMaxWait = rd.max, wr.max
	if rd.n > 0 {
		res.ReaderMeanWait = rd.sum / time.Duration(rd.n)
	}
	if wr.n > 0 {
		res.WriterMeanWait = wr.sum / time.Duration(wr.n)
	}
	return res
}

// work is one worker's life on its thread t.
func (r *room) work(t *osthread.Thread, writer bool, i int) error {
	cfg := r.cfg
	name := WorkerName(writer, i)
	extra := jitter.New(cfg.Seed, uint64(i)<<1|boolBit(writer), cfg.Jitter)
	visits, stay := cfg.Reads, cfg.ReadTime
	if writer {
		visits, stay = cfg.Writes, cfg.WriteTime
	}
	for v := 0; v < visits; v++ {
		if v > 0 {
			if err := t.Sleep(cfg.ThinkTime + extra.Next()); err != nil {
				return err
			}
		}
		r.emit(Event{Kind: EventWait, Worker: name, Writer: writer})
		asked := time.Now()
		unlock, err := r.lock(t, writer)
		if err != nil {
			return err
		}
		r.tally(writer, time.Since(asked))
		readers, broke := r.enter(writer)
		r.emit(Event{Kind: EventEnter, Worker: name, Writer: writer, Readers: readers, Broke: broke})
		err = t.Sleep(stay + extra.Next())
		r.leave(writer)
		r.emit(Event{Kind: EventLeave, Worker: name, Writer: writer})
		unlock()
		if err != nil {
			return err
		}
	}
	return nil
}

// enter checks the rule as a worker comes in and returns the readers in
// the room and whether this entry broke the rule. Each side counts itself
// in before it looks at the other, so of two that overlap, the later one
// sees the earlier.
func (r *room) enter(writer bool) (readers int, broke bool) {
	if writer {
		broke = r.writersIn.Add(1) > 1 || r.readersIn.Load() > 0
		readers = int(r.readersIn.Load())
	} else {
		n := r.readersIn.Add(1)
		broke = r.writersIn.Load() > 0
		for {
			m := r.maxReaders.Load()
			if n <= m || r.maxReaders.CompareAndSwap(m, n) {
				break
			}
		}
		readers = int(n)
	}
	if broke {
		r.violations.Add(1)
	}
	return readers, broke
}

func (r *room) leave(writer bool) {
	if writer {
		r.writersIn.Add(-1)
	} else {
		r.readersIn.Add(-1)
	}
}

func (r *room) tally(writer bool, wait time.Duration) {
	r.mu.Lock()
	w := &r.waits[boolBit(writer)]
	w.n++
	w.sum += wait
	w.max = max(w.max, wait)
	r.mu.Unlock()
}

// lock takes the room for a reader or a writer under the policy and
// returns what gives it back. A cancelled wait gives back whatever it had
// taken, so that no semaphore is left held.
func (r *room) lock(t *osthread.Thread, writer bool) (unlock func(), err error) {
	switch r.cfg.Policy {
	case None:
		return func() {}, nil
	case ReadersFirst:
		if writer {
			if err := r.resource.P(t, 0); err != nil {
				return nil, err
			}
			return r.resource.V, nil
		}
		if err := r.firstReaderIn(t, nil); err != nil {
			return nil, err
		}
		return r.lastReaderOut, nil
	case WritersFirst:
		if writer {
			if err := r.wmutex.P(t, 0); err != nil {
				return nil, err
			}
			r.writeCount++
			if r.writeCount == 1 {
				// The first writer waiting shuts the door on new readers.
				if err := r.readTry.P(t, 0); err != nil {
					r.writeCount--
					r.wmutex.V()
					return nil, err
				}
			}
			r.wmutex.V()
			if err := r.resource.P(t, 0); err != nil {
				r.writerOut()
				return nil, err
			}
			return func() { r.resource.V(); r.writerOut() }, nil
		}
		if err := r.readTry.P(t, 0); err != nil {
			return nil, err
		}
		err := r.firstReaderIn(t, nil)
		r.readTry.V()
		if err != nil {
			return nil, err
		}
		return r.lastReaderOut, nil
	default: // Fair: the turnstile first, for readers and writers alike
		if err := r.queue.P(t, 0); err != nil {
			return nil, err
		}
		if writer {
			err := r.resource.P(t, 0)
			r.queue.V()
			if err != nil {
				return nil, err
			}
			return r.resource.V, nil
		}
		if err := r.firstReaderIn(t, r.queue); err != nil {
			return nil, err
		}
		return r.lastReaderOut, nil
	}
}

// firstReaderIn counts a reader in; the first one in takes the room for
// all readers. turnstile, if not nil, is passed on once the reader is
// counted (fair).
func (r *room) firstReaderIn(t *osthread.Thread, turnstile interface{ V() }) error {
	if err := r.rmutex.P(t, 0); err != nil {
		if turnstile != nil {
			turnstile.V()
		}
		return err
	}
	r.readCount++
	if r.readCount == 1 {
		if err := r.resource.P(t, 0); err != nil {
			r.readCount--
			r.rmutex.V()
			if turnstile != nil {
				turnstile.V()
			}
			return err
		}
	}
	if turnstile != nil {
		turnstile.V()
	}
	r.rmutex.V()
	return nil
}

// lastReaderOut counts a reader out; the last one out gives the room back.
// It waits for rmutex without a Canceler: the holder only ever holds it
// for a few instructions, or while taking the room for readers, which a
// leaving reader's room being held by readers makes quick.
func (r *room) lastReaderOut() {
	_ = r.rmutex.P(nil, 0)
	r.readCount--
	if r.readCount == 0 {
		r.resource.V()
	}
	r.rmutex.V()
}

func (r *room) writerOut() {
	_ = r.wmutex.P(nil, 0)
	r.writeCount--
	if r.writeCount == 0 {
		r.readTry.V()
	}
	r.wmutex.V()
}

// turnstile is a lock that hands itself to its waiters in the order they
// came: fair's queue. A futex semaphore lets a thread that arrives as it
// is released take it before the one that was woken, which over a run
// lets one worker be overtaken again and again; here the releaser passes
// the lock straight to the first waiter, each waiting on a semaphore of
// its own.
type turnstile struct {
	mu      sync.Mutex
	held    bool
	waiters []*sem.Semaphore
}

// P takes the turnstile, waiting its turn; a cancelled wait leaves the
// queue, or passes the turnstile on if it was handed over meanwhile.
func (q *turnstile) P(t *osthread.Thread, _ time.Duration) error {
	q.mu.Lock()
	if !q.held {
		q.held = true
		q.mu.Unlock()
		return nil
	}
	mine := sem.New(0)
	q.waiters = append(q.waiters, mine)
	q.mu.Unlock()
	err := mine.P(t, 0)
	if err == nil {
		return nil
	}
	q.mu.Lock()
	for i, w := range q.waiters {
		if w == mine {
			q.waiters = append(q.waiters[:i], q.waiters[i+1:]...)
			q.mu.Unlock()
			return err
		}
	}
	q.mu.Unlock()
	q.V() // it was ours already: pass it on
	return err
}

// V releases the turnstile to the first waiter, if any.
func (q *turnstile) V() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.waiters) == 0 {
		q.held = false
		return
	}
	next := q.waiters[0]
	q.waiters = q.waiters[1:]
	next.V() // held stays true: the lock goes to next
}

func (r *room) emit(e Event) {
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(e)
	}
}

func boolBit(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}
