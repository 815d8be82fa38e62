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
	// wake is the futex word Idle and Sleep sleep on; Cancel changes it
	// and wakes them.
	wake uint32
	done chan struct{} // closed when the body has returned
	// exitWord is cleared by the kernel when the OS thread has exited
	// (see join.go); clears says whether it is in use.
	exitWord uint32
	clears   bool
	onExit   func(*Thread, Exit) // see OnExit

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

	t := &Thread{
		name: name,
		pid:  os.Getpid(),
		done: make(chan struct{}),
	}
	for _, o := range opts {
		o(t)
	}
	ready := make(chan error, 1)
	go func() {
		// Never unlocked: when this goroutine returns, the runtime ends the
		// OS thread instead of reusing it for other goroutines.
		runtime.LockOSThread()
		t.tid = unix.Gettid()
		if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&comm[0])), 0, 0, 0); err != nil {
			ready <- fmt.Errorf("osthread: start %q: prctl(PR_SET_NAME): %w", name, err)
			return
		}
		t.clears = watchExit(&t.exitWord, t.tid)
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
	atomic.AddUint32(&t.wake, 1)
	futexWakeAllPrivate(&t.wake)
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
// returned and the OS thread has exited and left the process (it is gone
// from /proc/PID/task), or ctx's error if ctx ends first.
func (t *Thread) Wait(ctx context.Context) (Exit, error) {
	if t.clears {
		// The word clears after the body's end: no need to look at done.
		if err := joinExitWord(ctx, &t.exitWord, t.name); err != nil {
			return Exit{}, err
		}
	} else {
		select {
		case <-t.done:
		case <-ctx.Done():
			return Exit{}, fmt.Errorf("osthread: wait for thread %q: %w", t.name, context.Cause(ctx))
		}
	}
	if err := untilGone(ctx, t.pid, t.tid, t.name); err != nil {
		return Exit{}, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exit, nil
}

// TestCancel is a cancellation point that does nothing else: it returns
// [ErrCancelled] if the thread has been cancelled.
func (t *Thread) TestCancel() error {
	if t.cancelled.Load() {
		return ErrCancelled
	}
	return nil
}

// Sleep is a cancellation point that waits for d.
func (t *Thread) Sleep(d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		v := atomic.LoadUint32(&t.wake)
		if t.cancelled.Load() {
			return ErrCancelled
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		futexSleepPrivate(&t.wake, v, left)
	}
}

// Idle is a cancellation point that waits until the thread is cancelled; it
// always returns [ErrCancelled].
func (t *Thread) Idle() error {
	for {
		v := atomic.LoadUint32(&t.wake)
		if t.cancelled.Load() {
			return ErrCancelled
		}
		futexSleepPrivate(&t.wake, v, 0)
	}
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
