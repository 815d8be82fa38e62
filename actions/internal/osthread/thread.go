// Package osthread runs pmrun threads: each is one OS thread of its own,
// named in the kernel (visible in /proc/PID/task/TID/comm, ps -L, top -H),
// and cancellable the way pthread_cancel is: deferred, seen at the thread's
// next cancellation point.
//
// A thread is a goroutine locked to its OS thread that never unlocks, so the
// Go runtime terminates the OS thread when the goroutine returns. Importing
// this package locks the main goroutine to the main thread (see init), so no
// pmrun thread ever lands on, and renames, the main thread.
package osthread

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/nproc"
	"github.com/pmrun/pmrun/actions/internal/sem"
)

// init locks the main goroutine to the main thread for the life of the
// process. Without it, a pmrun thread's goroutine could be scheduled on the
// main thread, rename the process with PR_SET_NAME, and at its end leave the
// main thread wedged instead of terminated.
func init() { runtime.LockOSThread() }

// Errors of this package; match them with errors.Is.
var (
	// ErrCancelled is what cancellation points return once the thread is
	// cancelled. It is [sem.ErrCancelled], so a body may return a cancelled
	// semaphore wait's error unchanged and still end as [Cancelled].
	ErrCancelled = sem.ErrCancelled
	// ErrFinished: Cancel of a thread whose body has already returned.
	ErrFinished = errors.New("osthread: thread already finished")
	// ErrAlreadyCancelled: a second Cancel of the same thread.
	ErrAlreadyCancelled = errors.New("osthread: thread already cancelled")
)

// State is how a thread ended.
type State string

// The states a thread ends in.
const (
	Finished  State = "finished"  // the body returned nil
	Cancelled State = "cancelled" // the body returned ErrCancelled after a Cancel
	Failed    State = "failed"    // the body returned another error or panicked
)

// Exit is a joined thread's outcome.
type Exit struct {
	State State
	Err   error // the body's error, nil when Finished
	// Runtime is from the start of the body to its end.
	Runtime time.Duration
	// CancelLatency is from Cancel to the end of the body, 0 without Cancel.
	CancelLatency time.Duration
}

// Thread is a running or ended pmrun thread. It implements [sem.Canceler],
// so semaphore waits in its body are cancellation points.
type Thread struct {
	name     string
	tid, pid int
	started  time.Time

	cancelled atomic.Bool
	cancelCh  chan struct{}       // closed by Cancel, wakes Sleep and Idle
	done      chan struct{}       // closed when the body has returned
	onExit    func(*Thread, Exit) // see OnExit

	mu       sync.Mutex
	watch    *uint32 // futex word the thread sleeps on, woken by Cancel
	ended    bool
	cancelAt time.Time
	exit     Exit
}

// A Thread is what semaphore waits in its body are cancelled through.
var _ sem.Canceler = (*Thread)(nil)

// nameMax is the longest thread name the kernel keeps (TASK_COMM_LEN - 1).
const nameMax = 15

// Option adjusts a thread given to [Start].
type Option func(*Thread)

// OnExit has f called on the thread itself once its body has returned, with
// the outcome that [Thread.Wait] will give, before [Thread.Done] is closed
// and before the OS thread exits; so a join returns only after f. The time
// f takes counts in neither Runtime nor CancelLatency. It suits an event
// that must be logged before anyone learns the thread has ended.
func OnExit(f func(t *Thread, e Exit)) Option {
	return func(t *Thread) { t.onExit = f }
}

// Start runs body on a new OS thread named name (the kernel keeps the first
// 15 bytes) and returns once the thread runs and knows its id.
func Start(name string, body func(t *Thread) error, opts ...Option) (*Thread, error) {
	if body == nil {
		return nil, fmt.Errorf("osthread: start %q: nil body", name)
	}
	var comm [nameMax + 1]byte
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return nil, fmt.Errorf("osthread: start %q: name contains a NUL byte", name)
		}
	}
	copy(comm[:nameMax], name)
	// The runtime aborts the process when it cannot create a thread, so
	// a process limit must be checked first.
	if err := nproc.Check(1); err != nil {
		return nil, fmt.Errorf("osthread: start %q: %w", name, err)
	}

	t := &Thread{
		name:     name,
		pid:      os.Getpid(),
		cancelCh: make(chan struct{}),
		done:     make(chan struct{}),
	}
	for _, o := range opts {
		o(t)
	}
	if err := reserve(name); err != nil {
		return nil, err
	}
	ready := make(chan error, 1)
	go func() {
		// Never unlocked: when this goroutine returns, the runtime ends the
		// OS thread instead of reusing it for other goroutines.
		runtime.LockOSThread()
		t.tid = unix.Gettid()
		if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&comm[0])), 0, 0, 0); err != nil {
			running.Add(-1)
			ready <- fmt.Errorf("osthread: start %q: prctl(PR_SET_NAME): %w", name, err)
			return
		}
		t.started = time.Now()
		ready <- nil
		t.finish(t.run(body))
	}()
	if err := <-ready; err != nil {
		return nil, err
	}
	return t, nil
}

// run calls body, turning a panic into the thread's failure rather than the
// process's crash.
func (t *Thread) run(body func(*Thread) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("osthread: thread %q panicked: %v", t.name, p)
		}
	}()
	return body(t)
}

func (t *Thread) finish(err error) {
	end := time.Now()
	t.mu.Lock()
	t.ended = true
	exit := Exit{Err: err, Runtime: end.Sub(t.started), State: Failed}
	switch {
	case err == nil:
		exit.State = Finished
	case errors.Is(err, ErrCancelled) && t.cancelled.Load():
		exit.State = Cancelled
	}
	if !t.cancelAt.IsZero() {
		exit.CancelLatency = end.Sub(t.cancelAt)
	}
	t.exit = exit
	t.mu.Unlock()
	if t.onExit != nil {
		t.onExit(t, exit)
	}
	running.Add(-1) // before the join: a thread joined leaves room for the next
	close(t.done)
}

// Name returns the name given to Start, in full; the kernel shows its first
// 15 bytes.
func (t *Thread) Name() string { return t.name }

// TID returns the thread's kernel id.
func (t *Thread) TID() int { return t.tid }

// PID returns the id of the process the thread belongs to.
func (t *Thread) PID() int { return t.pid }

// Started returns when the body began.
func (t *Thread) Started() time.Time { return t.started }

// Done is closed when the body has returned.
func (t *Thread) Done() <-chan struct{} { return t.done }

// Cancel asks the thread to stop at its next cancellation point, and wakes
// it if it is asleep in one. It returns at once; [Thread.Wait] joins. It
// fails with [ErrFinished] if the body has already returned and with
// [ErrAlreadyCancelled] on a second call.
func (t *Thread) Cancel() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ended {
		return fmt.Errorf("osthread: cancel thread %q (tid %d): %w", t.name, t.tid, ErrFinished)
	}
	if t.cancelled.Load() {
		return fmt.Errorf("osthread: cancel thread %q (tid %d): %w", t.name, t.tid, ErrAlreadyCancelled)
	}
	t.cancelAt = time.Now()
	t.cancelled.Store(true)
	close(t.cancelCh)
	sem.Interrupt(t.watch)
	return nil
}

// Cancelled reports whether Cancel has been called; part of [sem.Canceler].
func (t *Thread) Cancelled() bool { return t.cancelled.Load() }

// Watch records the futex word the thread is about to sleep on (nil: none),
// so that Cancel can wake it; part of [sem.Canceler]. The mutex orders it
// with Cancel: either Cancel sees the word and wakes it, or the waiter,
// checking Cancelled after Watch, sees the request.
func (t *Thread) Watch(addr *uint32) {
	t.mu.Lock()
	t.watch = addr
	t.mu.Unlock()
}

// Wait joins the thread: it returns the thread's [Exit] once the body has
// returned and the OS thread is gone from the process, or ctx's error if ctx
// ends first.
func (t *Thread) Wait(ctx context.Context) (Exit, error) {
	select {
	case <-t.done:
	case <-ctx.Done():
		return Exit{}, fmt.Errorf("osthread: wait for thread %q: %w", t.name, context.Cause(ctx))
	}
	if err := t.untilGone(ctx); err != nil {
		return Exit{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exit, nil
}

// goneLimit bounds how long Wait waits for the kernel to remove an ended
// thread. The runtime ends a locked goroutine's thread right after the
// goroutine, so this is only a guard against a runtime that keeps it.
const goneLimit = time.Second

// untilGone waits until the OS thread has left the thread group, so that a
// thread list taken after Wait no longer shows it. The runtime tears the
// thread down just after the body's goroutine returns; tgkill(pid, tid, 0)
// answers ESRCH from then on. That takes a few microseconds if the exiting
// thread has a CPU, so the wait first just looks again; then it yields this
// CPU, in case the exiting thread is queued behind it; only then does it
// nap, since a nap costs a timer and a trip through the scheduler.
func (t *Thread) untilGone(ctx context.Context) error {
	for i := range spins + yields {
		if unix.Tgkill(t.pid, t.tid, 0) == unix.ESRCH {
			return nil
		}
		if i >= spins {
			unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
	nap := 10 * time.Microsecond
	for start := time.Now(); time.Since(start) < goneLimit; nap = min(2*nap, time.Millisecond) {
		if unix.Tgkill(t.pid, t.tid, 0) == unix.ESRCH {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("osthread: wait for thread %q: %w", t.name, context.Cause(ctx))
		case <-time.After(nap):
		}
	}
	return nil
}

// How many times untilGone looks again at once, then yields the CPU,
// before it naps.
const (
	spins  = 32
	yields = 32
)

// StartGated starts a thread for each name, each running body with its
// index only once all of them have started, so that none gets a head start
// from being made first. If one cannot be started, those already started
// are cancelled and joined before the error is returned.
func StartGated(names []string, body func(i int, t *Thread) error) ([]*Thread, error) {
	gate := sem.New(0)
	threads := make([]*Thread, 0, len(names))
	for i, name := range names {
		th, err := Start(name, func(t *Thread) error {
			if err := gate.P(t, 0); err != nil {
				return err
			}
			return body(i, t)
		})
		if err != nil {
			CancelAndJoin(threads)
			return nil, err
		}
		threads = append(threads, th)
	}
	for range threads {
		gate.V()
	}
	return threads, nil
}

// AllDone returns a channel closed once the body of every thread has
// returned.
func AllDone(threads []*Thread) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		for _, t := range threads {
			<-t.done
		}
		close(done)
	}()
	return done
}

// CancelAndJoin cancels every thread that has not finished and joins them
// all, so that none is left when it returns: each wait in a body must be a
// cancellation point. It returns the error of each thread that failed (an
// error other than cancellation, or a panic), naming the thread.
func CancelAndJoin(threads []*Thread) []error {
	for _, t := range threads {
		_ = t.Cancel() // ErrFinished for those already done
	}
	var failed []error
	for _, t := range threads {
		exit, err := t.Wait(context.Background())
		if err == nil && exit.State == Failed {
			err = exit.Err
		}
		if err != nil {
			failed = append(failed, fmt.Errorf("%s: %w", t.name, err))
		}
	}
	return failed
}

// TestCancel is a cancellation point that does nothing else: it returns
// [ErrCancelled] if the thread has been cancelled.
func (t *Thread) TestCancel() error {
	if t.cancelled.Load() {
		return ErrCancelled
	}
	return nil
}

// Sleep is a cancellation point that waits for d; with d of 0 or less it
// only checks for cancellation.
func (t *Thread) Sleep(d time.Duration) error {
	if t.cancelled.Load() {
		return ErrCancelled
	}
	if d <= 0 {
		return nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-t.cancelCh:
		return ErrCancelled
	case <-timer.C:
		return nil
	}
}

// Idle is a cancellation point that waits until the thread is cancelled; it
// always returns [ErrCancelled].
func (t *Thread) Idle() error {
	<-t.cancelCh
	return ErrCancelled
}

// Spin burns CPU for d, checking for cancellation as it goes, so the thread
// shows as running in top -H.
func (t *Thread) Spin(d time.Duration) error {
	deadline := time.Now().Add(d)
	for i := 0; ; i++ {
		if t.cancelled.Load() {
			return ErrCancelled
		}
		if i%1024 == 0 && !time.Now().Before(deadline) {
			return nil
		}
	}
}
