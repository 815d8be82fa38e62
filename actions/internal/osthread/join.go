package osthread

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// How a join learns that the OS thread is gone.
//
// pthread_join waits on the thread's "clear child TID" word: the kernel
// writes 0 there and wakes the futex when the thread has exited (after its
// last user-space instruction, as it releases the address space). A pure-Go
// binary's threads are made by the runtime's own clone, which sets no such
// word, so a thread can set one for itself with set_tid_address(2) and be
// joined the same way, with no polling.
//
// A thread made by pthread_create (cgo, or the race detector's runtime)
// already has one, owned by the C library, which must keep it: it tells the
// library when the thread's stack may be reused. There the join falls back
// to watching for the thread's disappearance with tgkill(2).

// exitWords keeps alive every word the kernel may still write: the word
// lives in the Thread, and a Thread that nobody holds any more could
// otherwise be freed and its memory reused before its OS thread exits.
// A word leaves the set when a join has seen it cleared, or in a sweep.
var exitWords struct {
	sync.Mutex
	live  map[*uint32]struct{}
	swept int // size of live after the last sweep
}

// watchExit arranges, from the thread itself, for the kernel to clear
// *word when the thread exits. It reports false when the thread already
// has such a word (pthread) or the kernel cannot say (no
// PR_GET_TID_ADDRESS), and then leaves the thread as it is.
func watchExit(word *uint32, tid int) bool {
	var current uintptr
	if err := unix.Prctl(unix.PR_GET_TID_ADDRESS, uintptr(unsafe.Pointer(&current)), 0, 0, 0); err != nil || current != 0 {
		return false
	}
	atomic.StoreUint32(word, uint32(tid))
	exitWords.Lock()
	if exitWords.live == nil {
		exitWords.live = map[*uint32]struct{}{}
	}
	// Threads that are never joined leave their word here; forget those
	// the kernel has cleared whenever the set has doubled since the last
	// look, so that the cost stays constant per thread.
	if n := len(exitWords.live); n >= 64 && n >= 2*exitWords.swept {
		for w := range exitWords.live {
			if atomic.LoadUint32(w) == 0 {
				delete(exitWords.live, w)
			}
		}
		exitWords.swept = len(exitWords.live)
	}
	exitWords.live[word] = struct{}{}
	exitWords.Unlock()
	unix.RawSyscall(unix.SYS_SET_TID_ADDRESS, uintptr(unsafe.Pointer(word)), 0, 0)
	return true
}

// forgetExit drops a word the kernel has cleared.
func forgetExit(word *uint32) {
	exitWords.Lock()
	delete(exitWords.live, word)
	exitWords.Unlock()
}

// Futex operations on the exit word. The kernel wakes it with a shared
// (not PRIVATE) wake, which only a shared wait hears.
const (
	futexWait        = 0
	futexWake        = 1
	futexWaitPrivate = 128 | futexWait
	futexWakePrivate = 128 | futexWake
)

// joinSlice bounds one futex sleep of a join with a context, in case the
// context's wake-up lands between the check and the sleep.
const joinSlice = 20 * time.Millisecond

// joinExitWord waits until the kernel has cleared word, or ctx ends.
func joinExitWord(ctx context.Context, word *uint32, name string) error {
	if atomic.LoadUint32(word) == 0 {
		forgetExit(word)
		return nil
	}
	var slice *unix.Timespec
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWake, 1<<30, 0, 0, 0)
		})
		defer stop()
		ts := unix.NsecToTimespec(int64(joinSlice))
		slice = &ts
	}
	for {
		v := atomic.LoadUint32(word)
		if v == 0 {
			forgetExit(word)
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("osthread: wait for thread %q: %w", name, context.Cause(ctx))
		}
		// Returns on the kernel's wake, a changed word, a signal, the
		// context's wake or the slice: the loop looks again either way.
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(word)), futexWait, uintptr(v), uintptr(unsafe.Pointer(slice)), 0, 0)
	}
}

// goneLimit bounds how long a join waits for the kernel to remove an ended
// thread from the process. The runtime ends a locked goroutine's OS thread
// right after the goroutine, so this only guards against a runtime that
// would keep it.
const goneLimit = time.Second

// untilGone waits until the OS thread has left the thread group, so that a
// thread list taken after a join no longer shows it: tgkill(pid, tid, 0)
// answers ESRCH from then on. After the exit word is cleared that takes a
// microsecond or two, so it first yields the CPU (to the exiting thread,
// if it shares this one) a few times, then naps.
func untilGone(ctx context.Context, pid, tid int, name string) error {
	for range 64 {
		if unix.Tgkill(pid, tid, 0) == unix.ESRCH {
			return nil
		}
		unix.RawSyscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
	}
	nap := 20 * time.Microsecond
	for start := time.Now(); time.Since(start) < goneLimit; nap = min(2*nap, time.Millisecond) {
		if unix.Tgkill(pid, tid, 0) == unix.ESRCH {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("osthread: wait for thread %q: %w", name, context.Cause(ctx))
		case <-time.After(nap):
		}
	}
	return nil
}

// futexSleepPrivate sleeps while *addr == val, for at most d (no limit when
// d <= 0). Any return may be spurious: callers look again.
func futexSleepPrivate(addr *uint32, val uint32, d time.Duration) {
	var ts *unix.Timespec
	if d > 0 {
		t := unix.NsecToTimespec(int64(d))
		ts = &t
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitPrivate, uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
}

// futexWakeAllPrivate wakes every sleeper on addr.
func futexWakeAllPrivate(addr *uint32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakePrivate, 1<<30, 0, 0, 0)
}
