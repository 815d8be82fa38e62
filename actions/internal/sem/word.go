package sem

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"
)

// Word is a futex word that threads sleep on until it changes: the
// wake-up sequence of something they wait for that is not a count (an
// object of a program's model, whose state lives elsewhere under a lock).
// A waiter reads the word with [Word.Load] while it still holds that lock,
// releases the lock, and sleeps with [Word.Sleep] on the value it read; a
// party that changes the object, under the lock, calls [Word.Wake]. A wake
// between the read and the sleep changes the word, so the sleep does not
// begin: no wake-up is lost. The zero value is ready to use.
type Word struct {
	seq      atomic.Uint32
	sleepers atomic.Int32
}

// Load returns the word's value, for a later [Word.Sleep].
func (w *Word) Load() uint32 { return w.seq.Load() }

// Sleep sleeps while the word is still seen, for at most timeout (no
// limit if 0 or less); it is a cancellation point of c (nil: not
// cancellable), returning [ErrCancelled] once c is cancelled. It returns
// nil when the word has changed, when the timeout ran out, and also on a
// spurious wake-up: callers recheck what they wait for. The thread sleeps
// in the kernel, woken by the kernel's timer or a [Word.Wake]: no Go
// timer, no hand-off between goroutines, so a short sleep of a locked
// thread costs two system calls.
func (w *Word) Sleep(c Canceler, seen uint32, timeout time.Duration) error {
	addr := (*uint32)(unsafe.Pointer(&w.seq))
	w.sleepers.Add(1)
	defer w.sleepers.Add(-1)
	watch(c, addr)
	defer watch(c, nil)
	if cancelled(c) {
		return ErrCancelled
	}
	// A cancellation that came after the check above changed the word to
	// wake this sleeper: whether or not it slept, it looks again.
	if w.seq.Load() == seen {
		if err := futexSleep(addr, seen, timeout, 0); err != nil && err != errTimedOut {
			return fmt.Errorf("sem: futex wait: %w", err)
		}
	}
	if cancelled(c) {
		return ErrCancelled
	}
	return nil
}

// Wake changes the word and wakes every thread asleep on it. Without
// sleepers it makes no system call: a sleeper counts itself before it
// looks at the word, so either Wake sees it or it sees the new value.
func (w *Word) Wake() {
	w.seq.Add(1)
	if w.sleepers.Load() > 0 {
		futexWakeN((*uint32)(unsafe.Pointer(&w.seq)), 1<<30, 0)
	}
}
