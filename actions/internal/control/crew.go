package control

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/nproc"
	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/sem"
)

// turn is a thread's futex word: the thread sleeps on it until another
// hands it the turn. Padded to a cache line of its own. Private: only the
// crew's threads use it (the kernel's private futex operations, as a
// sem_t of one process).
type turn struct {
	sem.Semaphore
	_ [64 - sem.Size]byte
}

// crew is a program's threads on real OS threads, one each, named after
// them; exactly one of them runs at a time. They are started once and run
// every run of a search (see the package documentation for why). The
// driver's methods are called by whoever holds the turn (the coordinator
// before the first handoff, then one thread at a time), so a driver needs
// no locks: a handoff through the turns' futex words orders every call
// after the one before it.
type crew struct {
	names   []string
	threads []*osthread.Thread
	turns   []turn

	drv      engine.Driver
	watchdog time.Duration // the last drive's, for close
	procs    int           // the Ps the crew added (see procs)
	abort    atomic.Bool   // the coordinator asks the running thread to stop
	steps    atomic.Uint64 // progress, for the watchdog
	holder   atomic.Int32  // the thread that holds the turn
	done     chan error    // the thread that ends a drive reports here

	// stuck is the thread that did not come back within the watchdog
	// time; the crew is then not used again.
	stuck int
}

// errAborted is what a drive ends with when the coordinator stopped it.
var errAborted = errors.New("control: search aborted")

// newCrew starts a thread for each name, each waiting for its turn. The
// threads count against the process limit (RLIMIT_NPROC), and so may the
// Ps the crew adds (each P may get an OS thread of the runtime's: the
// garbage collector runs a worker on every idle one), which the runtime
// cannot pass without aborting pmrun: the threads must fit (a
// *nproc.LimitError otherwise), and the crew adds as many Ps as fit
// beside them, one a thread at most.
func newCrew(names []string) (*crew, error) {
	n := len(names)
	if err := nproc.Check(n); err != nil {
		return nil, fmt.Errorf("control: start %d threads: %w", n, err)
	}
	c := &crew{names: names, turns: make([]turn, n), done: make(chan error, 1), stuck: -1, watchdog: DefaultWatchdog}
	for i := range c.turns {
		c.turns[i].SetPrivate()
	}
	c.procs = max(nproc.Room(2*n)-n, 0)
	reserveProcs(c.procs)
	for i, name := range names {
		th, err := osthread.Start(name, func(th *osthread.Thread) error { return c.body(i, th) })
		if err != nil {
			c.close()
			return nil, fmt.Errorf("control: start thread %s: %w", name, err)
		}
		c.threads = append(c.threads, th)
	}
	return c, nil
}

// body is thread me's life: wait for the turn, play until the turn goes to
// another thread or the drive ends, and again, until cancelled.
func (c *crew) body(me int, th *osthread.Thread) error {
	for {
		if err := c.turns[me].P(th, 0); err != nil {
			return err
		}
		c.play(me)
	}
}

// play takes thread me's steps while the driver keeps choosing it: no
// system call between them. It hands the turn on, or ends the drive.
func (c *crew) play(me int) {
	defer func() {
		if r := recover(); r != nil {
			c.finish(fmt.Errorf("control: thread %s: %v", c.names[me], r))
		}
	}()
	drv := c.drv
	for {
		if c.abort.Load() {
			c.finish(errAborted)
			return
		}
		drv.Step(me)
		c.steps.Add(1)
		if c.abort.Load() { // a thread that comes back after the watchdog gave up on it
			c.finish(errAborted)
			return
		}
		u := drv.Next()
		switch {
		case u < 0:
			c.finish(nil)
			return
		case u != me:
			c.holder.Store(int32(u))
			c.turns[u].V()
			return
		}
	}
}

// finish reports the end of a drive; it never blocks, so a thread that
// comes back after the coordinator gave up on it still goes back to wait.
func (c *crew) finish(err error) {
	select {
	case c.done <- err:
	default:
	}
}

// StuckError is a thread that did not come back to the scheduler within
// the watchdog time: something outside pmrun's control held it.
type StuckError struct {
	Thread   string
	Watchdog time.Duration
}

func (e *StuckError) Error() string {
	return fmt.Sprintf("control: thread %s did not come back to the scheduler within %v (stuck outside the program's control); the search was stopped", e.Thread, e.Watchdog)
}

// drive runs drv on the crew until it ends, ctx ends, or a thread holds
// the turn longer than watchdog without taking a step.
func (c *crew) drive(ctx context.Context, drv engine.Driver, watchdog time.Duration) error {
	if c.stuck >= 0 {
		return fmt.Errorf("control: thread %s is still stuck from an earlier search", c.names[c.stuck])
	}
	if watchdog <= 0 {
		watchdog = DefaultWatchdog
	}
	c.drv, c.watchdog = drv, watchdog
	c.abort.Store(false)
	u := drv.Next()
	if u < 0 {
		return nil
	}
	c.holder.Store(int32(u))
	c.turns[u].V()

	tick := time.NewTicker(watchdog / 8)
	defer tick.Stop()
	w := c.watch()
	for {
		select {
		case err := <-c.done:
			return err
		case <-ctx.Done():
			c.abort.Store(true)
			if err := c.await(watchdog); err != nil {
				return err
			}
			return fmt.Errorf("control: search stopped: %w", context.Cause(ctx))
		case now := <-tick.C:
			if w.idle(now) >= watchdog {
				return c.stuckNow(watchdog)
			}
		}
	}
}

// await waits for the running thread to see abort and end the drive, as
// long as it works.
func (c *crew) await(watchdog time.Duration) error {
	tick := time.NewTicker(watchdog / 8)
	defer tick.Stop()
	w := c.watch()
	for {
		select {
		case <-c.done:
			return nil
		case now := <-tick.C:
			if w.idle(now) >= watchdog {
				return c.stuckNow(watchdog)
			}
		}
	}
}

// stuckNow gives up on the thread that holds the turn.
func (c *crew) stuckNow(watchdog time.Duration) error {
	h := int(c.holder.Load())
	c.stuck = h
	c.abort.Store(true)
	return &StuckError{Thread: c.names[h], Watchdog: watchdog}
}

// watcher is what the watchdog saw last: the steps taken, the thread that
// held the turn and the CPU time it had used, and since when none of
// them changed while the thread was not runnable.
type watcher struct {
	c      *crew
	steps  uint64
	holder int32
	cpu    time.Duration
	since  time.Time
}

func (c *crew) watch() *watcher {
	w := &watcher{c: c, since: time.Now()}
	w.steps, w.holder = c.steps.Load(), c.holder.Load()
	w.cpu = threadCPU(c.tid(int(w.holder)))
	return w
}

// idle says how long the drive has made no progress at now: no step
// taken, and the thread that holds the turn has used no CPU time and is
// not runnable. A thread that holds it longer while it works — a step of
// a big search, its bookkeeping, an allocation of gigabytes, its share of
// the garbage collector's marking — is not stuck, nor is one that a
// loaded machine keeps waiting for a CPU; one blocked outside the
// scheduler's control (a trace callback waiting on a full pipe) is
// neither.
func (w *watcher) idle(now time.Time) time.Duration {
	n, h := w.c.steps.Load(), w.c.holder.Load()
	tid := w.c.tid(int(h))
	cpu := threadCPU(tid)
	if n != w.steps || h != w.holder || cpu != w.cpu || threadRunnable(tid) {
		w.steps, w.holder, w.cpu, w.since = n, h, cpu, now
	}
	return now.Sub(w.since)
}

// threadCPU is the CPU time thread tid of this process has used: its
// per-thread CPU clock (as pthread_getcpuclockid makes it); 0 when it
// cannot be read.
func threadCPU(tid int) time.Duration {
	var ts unix.Timespec
	if unix.ClockGettime(int32(^uint32(tid)<<3|6), &ts) != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// threadRunnable says whether thread tid of this process is running or
// waiting for a CPU: state R in /proc/self/task/TID/stat, the field after
// the command name's closing parenthesis. A thread that waits longer than
// the watchdog time to be given a CPU has used none meanwhile.
func threadRunnable(tid int) bool {
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/stat")
	if err != nil {
		return false
	}
	_, after, ok := bytes.Cut(b[bytes.LastIndexByte(b, ')')+1:], []byte(" "))
	return ok && len(after) > 0 && after[0] == 'R'
}

// close cancels and joins every thread. A stuck thread is cancelled but not
// waited for: it ends when it comes back (it then sees the cancel at its
// next wait for the turn). Nor is one that does not end within the last
// drive's watchdog time: it is named in the error, never waited for
// without end.
func (c *crew) close() error {
	limit := c.watchdog
	defer releaseProcs(c.procs)
	var errs []error
	for _, th := range c.threads {
		_ = th.Cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	for i, th := range c.threads {
		if i == c.stuck {
			continue
		}
		exit, err := th.Wait(ctx)
		if err == nil && exit.State == osthread.Failed {
			err = exit.Err
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("control: thread %s: %w", th.Name(), err))
		}
	}
	return errors.Join(errs...)
}

// tid is the kernel id of thread t.
func (c *crew) tid(t int) int {
	if t < 0 || t >= len(c.threads) {
		return 0
	}
	return c.threads[t].TID()
}

func (c *crew) threadList() []engine.Thread {
	out := make([]engine.Thread, len(c.threads))
	for i, th := range c.threads {
		out[i] = engine.Thread{Name: c.names[i], TID: th.TID()}
	}
	return out
}

// procs is how many Ps (GOMAXPROCS) the crews alive have added. A thread
// asleep in a futex wait keeps its P (the Go runtime's P of a goroutine in
// a system call) until the runtime's monitor takes it back, which takes
// 20 µs to 10 ms; with more threads than Ps, a thread handed the turn waits
// for that before it can run. Measured on 2 CPUs: 55 µs a switch for
// three threads on 2 Ps, 5.6 µs with a P each (and 3.9 µs for two
// threads, as a C sem_t ping-pong's 3.3 µs). So a crew adds a P for each
// of its threads while it lives. Only one of its threads runs at a time,
// so the extra Ps do not make the crew use more CPU.
var procs struct {
	sync.Mutex
	extra, base int
}

func reserveProcs(n int) {
	procs.Lock()
	defer procs.Unlock()
	if procs.extra == 0 {
		procs.base = runtime.GOMAXPROCS(0)
	}
	procs.extra += n
	runtime.GOMAXPROCS(procs.base + procs.extra)
}

func releaseProcs(n int) {
	procs.Lock()
	defer procs.Unlock()
	procs.extra -= n
	runtime.GOMAXPROCS(procs.base + procs.extra)
}
