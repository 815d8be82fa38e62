// Package dining runs the dining philosophers, the classic deadlock lab:
// N philosophers around a table with N forks, one fork between each two
// neighbours; to eat, a philosopher needs both the fork on the left and
// the one on the right. Each philosopher is a pmrun thread (an OS thread
// of its own, named phil-0, phil-1, …) and each fork a [sem.Mutex], which
// records the thread holding it.
//
// Taking the left fork and then the right one (order naive) can deadlock:
// if every philosopher holds the left fork, each waits for a fork its
// neighbour holds and will not put down. Run watches for that the way a
// deadlock detector does: it builds the wait-for graph from what each
// philosopher waits for and which thread the fork's mutex says holds it,
// and when a cycle stands with no progress for Config.Detect it reports
// the cycle and cancels the philosophers (every fork wait is a
// cancellation point). Taking the lower-numbered fork first (order
// ordered) or letting at most N-1 sit down at once (order waiter) makes
// the cycle impossible.
package dining

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pmrun/pmrun/actions/internal/jitter"
	"github.com/pmrun/pmrun/actions/internal/lab"
	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/sem"
)

// Order is how philosophers pick up their forks.
type Order string

// The orders.
const (
	// Naive: the left fork, then the right. A deadlock can form.
	Naive Order = "naive"
	// Ordered: the lower-numbered fork first, so the last philosopher
	// reaches for fork 0 before fork N-1 and no cycle of waits can close.
	Ordered Order = "ordered"
	// Waiter: a waiter (a counting semaphore of N-1) lets at most N-1 sit
	// down at once, so one of them can always take both forks.
	Waiter Order = "waiter"
)

// Limits of a [Config].
const (
	MinPhilosophers = 2
	MaxPhilosophers = 64
	MaxMeals        = 1_000_000
)

// Events a run reports through Config.OnEvent.
const (
	ForkTaken    = "fork_taken"
	ForkWait     = "fork_wait" // the fork was taken: the philosopher waits for it
	ForkReleased = "fork_released"
	MealStarted  = "meal"
)

// Config describes a table.
type Config struct {
	Philosophers int
	Meals        int // each philosopher's
	Order        Order
	ThinkTime    time.Duration // before each meal
	EatTime      time.Duration
	// Pause is the time between picking up the first fork and reaching
	// for the second. It widens the window in which a naive table
	// deadlocks, as a real philosopher's hesitation would.
	Pause time.Duration
	// Jitter adds a random delay up to this much to each think and meal,
	// drawn from Seed.
	Jitter time.Duration
	Seed   int64
	// Detect is how long a circular wait must stand with no philosopher
	// taking a fork or starting a meal before it is called a deadlock.
	Detect time.Duration
	// OnEvent, if set, is called from the philosophers' threads.
	OnEvent func(Event)
	// OnDeadlock, if set, is called with the cycle once a deadlock is
	// found, before the philosophers are cancelled (and put their forks
	// down), so that what it logs comes first.
	OnDeadlock func(cycle []Link)
}

// Event is something a philosopher did.
type Event struct {
	Kind        string
	Philosopher int
	Fork        int
	Meal        int // MealStarted: the meal's number, from 1
	HeldBy      int // ForkWait: the philosopher holding the fork, -1 if unknown
}

// Link is one philosopher's place in a circular wait.
type Link struct {
	Philosopher int // holds fork Holds and waits for fork WaitsFor
	Holds       int
	WaitsFor    int
	HeldBy      int // the philosopher holding WaitsFor, the next link's
}

// Result is how a run ended.
type Result struct {
	// OK: every philosopher ate every meal.
	OK       bool
	Deadlock bool
	// Cycle is the circular wait found, one link per philosopher in it,
	// each waiting for the next; empty without a deadlock.
	Cycle          []Link
	Meals          int   // eaten in all
	PerPhilosopher []int // meals each ate
	Waits          int   // times a philosopher found a fork taken and waited for it
	// Runtime is from the moment every philosopher sat down to the end.
	Runtime time.Duration
}

// Name is how threads, events and explanations call philosopher i.
func Name(i int) string { return lab.Name("phil", i) }

// Threads are the philosophers' thread names, in order.
func (c Config) Threads() []string { return lab.Names("phil", c.Philosophers) }

// Describe says what link l is, in words.
func (l Link) Describe() string {
	return fmt.Sprintf("%s holds fork %d and waits for fork %d, held by %s",
		Name(l.Philosopher), l.Holds, l.WaitsFor, Name(l.HeldBy))
}

// Explain says why the run deadlocked, or that it did not.
func (r Result) Explain() string {
	if !r.Deadlock {
		if r.OK {
			return fmt.Sprintf("no deadlock: every philosopher ate, %d meals in all", r.Meals)
		}
		return fmt.Sprintf("no deadlock, but only %d meals were eaten", r.Meals)
	}
	return ExplainDeadlock(r.Cycle, len(r.PerPhilosopher))
}

// ExplainDeadlock says why a table of n deadlocked in cycle.
func ExplainDeadlock(cycle []Link, n int) string {
	var b strings.Builder
	b.WriteString("deadlock, a circular wait:\n")
	for _, l := range cycle {
		b.WriteString("  " + l.Describe() + "\n")
	}
	fmt.Fprintf(&b, "Each of the %d holds a fork and waits for the next one's: none can eat, so none puts a fork down. "+
		"All four of Coffman's conditions hold (mutual exclusion, hold and wait, no preemption, circular wait), "+
		"and breaking any one prevents the deadlock: order: ordered takes the lower-numbered fork first, "+
		"so the wait cannot come full circle; order: waiter seats at most %d at once.",
		len(cycle), n-1)
	return b.String()
}

// ErrInvalid wraps a bad Config.
var ErrInvalid = errors.New("dining: invalid configuration")

func (c Config) check() error {
	switch {
	case c.Philosophers < MinPhilosophers || c.Philosophers > MaxPhilosophers:
		return fmt.Errorf("%w: %d philosophers, want %d to %d", ErrInvalid, c.Philosophers, MinPhilosophers, MaxPhilosophers)
	case c.Meals < 1 || c.Meals > MaxMeals:
		return fmt.Errorf("%w: %d meals, want 1 to %d", ErrInvalid, c.Meals, MaxMeals)
	case c.Order != Naive && c.Order != Ordered && c.Order != Waiter:
		return fmt.Errorf("%w: order %q, want naive, ordered or waiter", ErrInvalid, c.Order)
	case c.ThinkTime < 0 || c.EatTime < 0 || c.Pause < 0 || c.Jitter < 0:
		return fmt.Errorf("%w: a negative duration", ErrInvalid)
	case c.Detect <= 0:
		return fmt.Errorf("%w: detect %v, want more than 0", ErrInvalid, c.Detect)
	}
	return nil
}

// table is what the philosophers share with Run.
type table struct {
	cfg   Config
	forks []*sem.Mutex
	seats *sem.Semaphore // Waiter: N-1 seats; nil otherwise
	phils []*philosopher
	// progress counts forks taken and meals begun; the detector calls a
	// cycle a deadlock only while it stands still.
	progress atomic.Int64
	// stopping is set before the philosophers are cancelled one by one,
	// so that none takes a fork a cancelled neighbour puts down: after a
	// deadlock nobody eats.
	stopping atomic.Bool
}

type philosopher struct {
	index int
	tid   atomic.Int32
	want  atomic.Int32 // the fork it is waiting for; -1 when none
	meals atomic.Int32
	waits atomic.Int32
}

// Run seats cfg.Philosophers philosophers and returns once each has eaten
// cfg.Meals meals, or a deadlock was found and they were cancelled, or ctx
// ended (with ctx's cause). Every philosopher's thread has ended and left
// the process when Run returns.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if err := cfg.check(); err != nil {
		return Result{}, err
	}
	n := cfg.Philosophers
	tb := &table{cfg: cfg}
	for range n {
		tb.forks = append(tb.forks, sem.NewMutex())
	}
	if cfg.Order == Waiter {
		tb.seats = sem.New(uint32(n - 1))
	}
	for i := range n {
		p := &philosopher{index: i}
		p.want.Store(-1)
		tb.phils = append(tb.phils, p)
	}
	// A deadlock: a circular wait that stands, the same cycle with no fork
	// taken and no meal begun, for Detect.
	var res Result
	standing := lab.NewStandstill[string](cfg.Detect)
	stuck := func(now time.Time) bool {
		cycle := tb.cycle()
		if cycle == nil {
			standing.Reset()
			return false
		}
		if !standing.Still(fmt.Sprint(tb.progress.Load(), cycle), now) {
			return false
		}
		res.Deadlock, res.Cycle = true, cycle
		if cfg.OnDeadlock != nil {
			cfg.OnDeadlock(cycle)
		}
		return true
	}
	// Everyone sits down at once, so that the naive table has its chance
	// to deadlock however slowly threads start.
	end, err := lab.Run(ctx, "dining", cfg.Threads(), func(i int, t *osthread.Thread) error {
		p := tb.phils[i]
		p.tid.Store(int32(t.TID())) // before it can hold a fork
		return tb.dine(p, t)
	}, lab.Watch{
		Tick:  min(max(cfg.Detect/5, time.Millisecond), 50*time.Millisecond),
		Stuck: stuck,
		// None may take a fork a cancelled neighbour puts down: after a
		// deadlock nobody eats.
		Stopping: func() { tb.stopping.Store(true) },
	})
	if err != nil {
		return Result{}, err
	}
	for _, p := range tb.phils {
		m := int(p.meals.Load())
		res.PerPhilosopher = append(res.PerPhilosopher, m)
		res.Meals += m
		res.Waits += int(p.waits.Load())
	}
	res.OK = !res.Deadlock && res.Meals == cfg.Philosophers*cfg.Meals
	res.Runtime = end.Runtime
	return res, end.Err(fmt.Sprintf("%d meals", res.Meals))
}

// cycle returns a circular wait in the wait-for graph as it stands, or
// nil: an edge goes from a philosopher waiting for a fork to the
// philosopher whose thread the fork's mutex names as its holder.
func (tb *table) cycle() []Link {
	n := len(tb.phils)
	byTID := make(map[int]int, n)
	for _, p := range tb.phils {
		if tid := int(p.tid.Load()); tid != 0 {
			byTID[tid] = p.index
		}
	}
	next := make([]int, n) // who philosopher i waits for, -1 for no one
	waitsFor := make([]int, n)
	for i, p := range tb.phils {
		next[i] = -1
		f := int(p.want.Load())
		if f < 0 {
			continue
		}
		if pid, tid := tb.forks[f].Owner(); pid != 0 {
			if q, ok := byTID[tid]; ok && q != i {
				next[i], waitsFor[i] = q, f
			}
		}
	}
	// Follow the edges from each philosopher; every node has at most one
	// out-edge, so a walk that revisits a node has found its cycle.
	for start := range n {
		seen := make(map[int]int) // node -> position in the walk
		var walk []int
		for i := start; i >= 0; i = next[i] {
			if at, ok := seen[i]; ok {
				loop := walk[at:]
				links := make([]Link, len(loop))
				for k, j := range loop {
					prev := loop[(k+len(loop)-1)%len(loop)]
					links[k] = Link{Philosopher: j, Holds: waitsFor[prev], WaitsFor: waitsFor[j], HeldBy: next[j]}
				}
				return rotate(links)
			}
			seen[i] = len(walk)
			walk = append(walk, i)
		}
	}
	return nil
}

// rotate starts a cycle at its lowest-numbered philosopher, so that the
// same cycle always reads the same.
func rotate(links []Link) []Link {
	low := 0
	for i, l := range links {
		if l.Philosopher < links[low].Philosopher {
			low = i
		}
	}
	return append(links[low:len(links):len(links)], links[:low]...)
}

// dine is philosopher p's life on its thread t.
func (tb *table) dine(p *philosopher, t *osthread.Thread) error {
	cfg := tb.cfg
	n := cfg.Philosophers
	extra := jitter.New(cfg.Seed, uint64(p.index), cfg.Jitter)
	first, second := p.index, (p.index+1)%n // left, then right
	if cfg.Order == Ordered && second < first {
		first, second = second, first
	}
	// Whatever it holds when it is cancelled, it puts down.
	var held []int
	seated := false
	defer func() {
		for i := len(held) - 1; i >= 0; i-- {
			tb.release(p, held[i])
		}
		if seated {
			tb.seats.V()
		}
	}()

	for meal := 1; meal <= cfg.Meals; meal++ {
		if err := t.Sleep(cfg.ThinkTime + extra.Next()); err != nil {
			return err
		}
		if tb.seats != nil {
			if err := tb.seats.P(t, 0); err != nil {
				return err
			}
			seated = true
		}
		if err := tb.take(p, t, first); err != nil {
			return err
		}
		held = append(held, first)
		if err := t.Sleep(cfg.Pause); err != nil {
			return err
		}
		if err := tb.take(p, t, second); err != nil {
			return err
		}
		held = append(held, second)
		tb.progress.Add(1)
		tb.emit(Event{Kind: MealStarted, Philosopher: p.index, Fork: -1, Meal: meal})
		if err := t.Sleep(cfg.EatTime + extra.Next()); err != nil {
			return err
		}
		p.meals.Add(1)
		tb.release(p, second)
		tb.release(p, first)
		held = held[:0]
		if seated {
			tb.seats.V()
			seated = false
		}
	}
	return nil
}

// take picks up fork f, waiting while a neighbour holds it.
func (tb *table) take(p *philosopher, t *osthread.Thread, f int) error {
	fork := tb.forks[f]
	if pid, tid := fork.Owner(); pid != 0 {
		p.waits.Add(1)
		holder := -1
		for _, q := range tb.phils {
			if tid != 0 && int(q.tid.Load()) == tid {
				holder = q.index
			}
		}
		tb.emit(Event{Kind: ForkWait, Philosopher: p.index, Fork: f, HeldBy: holder})
	}
	p.want.Store(int32(f))
	err := fork.Lock(t, 0)
	p.want.Store(-1)
	if err != nil {
		return err
	}
	if tb.stopping.Load() {
		// Put down by a neighbour being stopped: not for eating. This
		// philosopher's own cancellation is on its way.
		_ = fork.Unlock()
		return t.Idle()
	}
	tb.progress.Add(1)
	tb.emit(Event{Kind: ForkTaken, Philosopher: p.index, Fork: f})
	return nil
}

// release puts fork f down. The event comes first, so that in the log a
// fork's release always precedes the next philosopher's taking it.
func (tb *table) release(p *philosopher, f int) {
	tb.emit(Event{Kind: ForkReleased, Philosopher: p.index, Fork: f})
	_ = tb.forks[f].Unlock()
}

func (tb *table) emit(e Event) {
	if tb.cfg.OnEvent != nil {
		tb.cfg.OnEvent(e)
	}
}
