// Package barrier runs workers in rounds that meet at a barrier: nobody
// starts round k+1 before everyone has finished round k. Each worker is a
// pmrun thread (worker-0, worker-1, …); the barrier is built of pmrun's
// futex semaphores, the reusable two-phase barrier of Downey's "Little
// Book of Semaphores", or on purpose the one-turnstile version that looks
// right and is not: its turnstile is still open when a fast worker comes
// round to it again, so that worker runs through the next barrier before
// the others have reached it. Every departure from a barrier is checked
// against the arrivals at it.
package barrier

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

// Kind is how the barrier is made.
type Kind string

// The kinds.
const (
	// TwoPhase closes the first turnstile behind the last arrival before
	// it opens the second, so no one can lap the others.
	TwoPhase Kind = "two_phase"
	// OneTurnstile reuses one turnstile for both ways, and leaves it open
	// for a fast worker's next round: the classic mistake.
	OneTurnstile Kind = "one_turnstile"
	// None: no barrier at all.
	None Kind = "none"
)

// Limits of a [Config].
const (
	MaxWorkers = 64
	MaxRounds  = 1_000_000
)

// Events a run reports through Config.OnEvent.
const (
	EventWork   = "barrier_work"   // a worker starts a round's work
	EventArrive = "barrier_arrive" // it reaches the round's barrier
	EventLeave  = "barrier_leave"  // it passes it
)

// Config describes a run.
type Config struct {
	Workers  int
	Rounds   int
	Kind     Kind
	WorkTime time.Duration // each round's work
	Jitter   time.Duration // a random extra on each round's work, from Seed
	Seed     int64
	// Stall is how long no worker may arrive at or leave a barrier before
	// the run is called stuck and stopped; 0 chooses 100ms plus ten times
	// a round's longest work.
	Stall   time.Duration
	OnEvent func(Event) // called from the workers' threads
}

// Event is something a worker did.
type Event struct {
	Kind   string
	Worker int
	Round  int  // from 1
	Early  bool // EventLeave: before every worker had arrived
}

// Result is how a run ended.
type Result struct {
	// OK: every round was run and no one passed a barrier early.
	OK bool
	// Rounds counts the rounds every worker finished.
	Rounds int
	// Early counts departures from a barrier before every worker had
	// arrived at it.
	Early int
	// Stalled: the workers stopped getting anywhere (the one-turnstile
	// barrier jams once a worker has lapped the others) and were stopped.
	Stalled bool
	// MaxWait and MeanWait are the times spent waiting at barriers.
	MaxWait, MeanWait time.Duration
	// Last counts, for each worker, the rounds it was the last to arrive:
	// the one everyone else waited for.
	Last    []int
	Runtime time.Duration
}

// ErrInvalid wraps a bad Config.
var ErrInvalid = errors.New("barrier: invalid configuration")

func (c Config) check() error {
	switch {
	case c.Workers < 2 || c.Workers > MaxWorkers:
		return fmt.Errorf("%w: %d workers, want 2 to %d", ErrInvalid, c.Workers, MaxWorkers)
	case c.Rounds < 1 || c.Rounds > MaxRounds:
		return fmt.Errorf("%w: %d rounds, want 1 to %d", ErrInvalid, c.Rounds, MaxRounds)
	case c.Kind != TwoPhase && c.Kind != OneTurnstile && c.Kind != None:
		return fmt.Errorf("%w: kind %q", ErrInvalid, c.Kind)
	case c.WorkTime < 0 || c.Jitter < 0 || c.Stall < 0:
		return fmt.Errorf("%w: a negative duration", ErrInvalid)
	case c.Stall != 0 && c.Stall <= c.WorkTime+c.Jitter:
		return fmt.Errorf("%w: stall %v is no longer than a round's work (up to %v): a worker at work would look stuck",
			ErrInvalid, c.Stall, c.WorkTime+c.Jitter)
	}
	return nil
}

// StallLimit is the stall time a run of c uses: Stall, or by default
// 100ms plus ten times a round's longest work.
func (c Config) StallLimit() time.Duration {
	if c.Stall > 0 {
		return c.Stall
	}
	return 100*time.Millisecond + 10*(c.WorkTime+c.Jitter)
}

// WorkerName is how threads and events call worker i.
func WorkerName(i int) string { return lab.Name("worker", i) }

// Threads are the workers' thread names, in order.
func (c Config) Threads() []string { return lab.Names("worker", c.Workers) }

type run struct {
	cfg Config
	n   int

	mutex, turnstile, turnstile2 *sem.Semaphore
	count                        int // guarded by mutex

	arrivals []atomic.Int32 // per round, how many have arrived
	early    atomic.Int32
	progress atomic.Int64   // rounds started, arrivals and departures, for the stall check
	finished []atomic.Int32 // per worker, rounds finished
	returned atomic.Int32   // workers whose work has returned

	mu        sync.Mutex
	waits     int
	sum, most time.Duration
	last      []int
}

// Run starts the workers, lets them go together and returns once each
// has finished every round, or when ctx ends (with ctx's cause). Every
// worker's thread has ended and left the process when Run returns.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	r := &run{cfg: cfg, n: cfg.Workers, mutex: sem.New(1), turnstile: sem.New(0), turnstile2: sem.New(1),
		arrivals: make([]atomic.Int32, cfg.Rounds+1), finished: make([]atomic.Int32, cfg.Workers),
		last: make([]int, cfg.Workers)}
	// Stuck when no worker has started a round, arrived at a barrier or
	// left one for the stall time, and every worker still at it is asleep
	// on a closed semaphore: a slow machine that has not yet run a worker
	// (or preempted one inside the barrier) is not a jam.
	limit := cfg.StallLimit()
	still := lab.NewStandstill[int64](limit)
	end, err := lab.Run(ctx, "barrier", cfg.Threads(), r.work, lab.Watch{
		Tick: min(max(limit/5, time.Millisecond), 100*time.Millisecond),
		Stuck: func(now time.Time) bool {
			return still.Still(r.progress.Load(), now) && r.allAsleep()
		},
	})
	if err != nil {
		return Result{}, err
	}
	res := r.result()
	res.Runtime = end.Runtime
	res.Stalled = end.Stuck
	res.OK = res.OK && !end.Stuck
	return res, end.Err(fmt.Sprintf("%d rounds", res.Rounds))
}

func (r *run) result() Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	res := Result{Early: int(r.early.Load()), MaxWait: r.most, Last: append([]int(nil), r.last...)}
	res.Rounds = r.cfg.Rounds
	for i := range r.finished {
		res.Rounds = min(res.Rounds, int(r.finished[i].Load()))
	}
	if r.waits > 0 {
		res.MeanWait = r.sum / time.Duration(r.waits)
	}
	res.OK = res.Early == 0 && res.Rounds == r.cfg.Rounds
	return res
}

// allAsleep reports whether every worker that has not finished is waiting
// on a semaphore that nobody has opened: nothing can move without a V that
// no running worker will make.
func (r *run) allAsleep() bool {
	asleep := 0
	for _, s := range []*sem.Semaphore{r.mutex, r.turnstile, r.turnstile2} {
		if s.Value() == 0 {
			asleep += s.Waiters()
		}
	}
	return asleep >= r.n-int(r.returned.Load())
}

// work is worker i's life on its thread t.
func (r *run) work(i int, t *osthread.Thread) error {
	defer r.returned.Add(1)
	cfg := r.cfg
	extra := jitter.New(cfg.Seed, uint64(i), cfg.Jitter)
	for round := 1; round <= cfg.Rounds; round++ {
		r.progress.Add(1)
		r.emit(Event{Kind: EventWork, Worker: i, Round: round})
		if err := t.Sleep(cfg.WorkTime + extra.Next()); err != nil {
			return err
		}
		r.emit(Event{Kind: EventArrive, Worker: i, Round: round})
		arrived := time.Now()
		r.progress.Add(1)
		if r.arrivals[round].Add(1) == int32(r.n) {
			r.mu.Lock()
			r.last[i]++
			r.mu.Unlock()
		}
		if err := r.wait(t); err != nil {
			return err
		}
		// Leaving before everyone has arrived is what a barrier is for
		// preventing.
		early := r.arrivals[round].Load() < int32(r.n)
		if early {
			r.early.Add(1)
		}
		r.progress.Add(1)
		r.tally(time.Since(arrived))
		r.emit(Event{Kind: EventLeave, Worker: i, Round: round, Early: early})
		r.finished[i].Add(1)
	}
	return nil
}

// wait is the barrier itself.
func (r *run) wait(t *osthread.Thread) error {
	switch r.cfg.Kind {
	case None:
		return nil
	case OneTurnstile:
		// Looks right: the last to arrive opens the turnstile, everyone
		// passes it, the last to leave closes it. But a fast worker can
		// leave, work, and come round to the turnstile again before the
		// last one has closed it, and run straight through.
		if err := r.mutex.P(t, 0); err != nil {
			return err
		}
		r.count++
		if r.count == r.n {
			r.turnstile.V()
		}
		r.mutex.V()
		if err := r.pass(t, r.turnstile); err != nil {
			return err
		}
		if err := r.mutex.P(t, 0); err != nil {
			return err
		}
		r.count--
		if r.count == 0 {
			err := r.turnstile.P(t, 0)
			r.mutex.V()
			return err
		}
		r.mutex.V()
		return nil
	default: // TwoPhase
		if err := r.mutex.P(t, 0); err != nil {
			return err
		}
		r.count++
		if r.count == r.n {
			if err := r.turnstile2.P(t, 0); err != nil { // close the way out
				r.mutex.V()
				return err
			}
			r.turnstile.V() // open the way in
		}
		r.mutex.V()
		if err := r.pass(t, r.turnstile); err != nil {
			return err
		}
		if err := r.mutex.P(t, 0); err != nil {
			return err
		}
		r.count--
		if r.count == 0 {
			if err := r.turnstile.P(t, 0); err != nil { // close the way in
				r.mutex.V()
				return err
			}
			r.turnstile2.V() // open the way out
		}
		r.mutex.V()
		return r.pass(t, r.turnstile2)
	}
}

// pass goes through a turnstile: takes it and lets the next one through.
func (r *run) pass(t *osthread.Thread, s *sem.Semaphore) error {
	if err := s.P(t, 0); err != nil {
		return err
	}
	s.V()
	return nil
}

func (r *run) tally(wait time.Duration) {
	r.mu.Lock()
	r.waits++
	r.sum += wait
	r.most = max(r.most, wait)
	r.mu.Unlock()
}

func (r *run) emit(e Event) {
	if r.cfg.OnEvent != nil {
		r.cfg.OnEvent(e)
	}
}
