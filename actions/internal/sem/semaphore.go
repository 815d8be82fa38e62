// Package sem implements counting semaphores and an owner-tracking mutex on
// futex words. They work between processes: placed in a MAP_SHARED mapping
// (see [At] and [MutexAt]), they are waited on with the shared, not the
// PRIVATE, futex operations. Taking and releasing cost no system call unless
// somebody actually has to sleep.
//
// Every wait is a cancellation point: it takes a [Canceler] and returns
// [ErrCancelled] as soon as a cancel request is made.
package sem

import (
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// Size is the number of bytes a [Semaphore] or a [Mutex] occupies in shared
// memory; place them at offsets that are multiples of 8.
const Size = 16

// Semaphore is a counting semaphore whose whole state is four 32-bit words,
// so it can live inside a shared mapping. The zero value is a semaphore with
// value 0.
//
// Sleepers wait on seq, not on value: a waiter that gives up (cancel, timeout)
// and a Canceler that interrupts must be able to wake sleepers without
// changing the count. The low bit of seq says someone may be asleep on it;
// a sleeper sets it, and V makes a system call only while it is set. The
// waker clears it when it wakes the last waiter, so the V calls that follow,
// before that waiter has even run, stay in user space.
type Semaphore struct {
	value   atomic.Uint32
	waiters atomic.Uint32 // callers in the slow path of P
	seq     atomic.Uint32 // futex word: changes at every wake; bit 0 = sleepers
	private uint32        // futexPrivate once SetPrivate, else 0
}

// New returns a semaphore on the Go heap with the given initial value, for
// use between goroutines and threads of one process.
func New(value uint32) *Semaphore {
	s := new(Semaphore)
	s.value.Store(value)
	return s
}

// At returns the semaphore stored in the first [Size] bytes of b, typically a
// slice of a shared mapping. It does not initialise it: one party calls
// [Semaphore.Init] before anyone else uses it.
func At(b []byte) (*Semaphore, error) {
	p, err := place(b)
	if err != nil {
		return nil, err
	}
	return (*Semaphore)(p), nil
}

// place checks that b can hold a Semaphore or a Mutex and returns where.
func place(b []byte) (unsafe.Pointer, error) {
	if len(b) < Size {
		return nil, fmt.Errorf("%w: %d bytes, need %d", ErrLayout, len(b), Size)
	}
	p := unsafe.Pointer(&b[0])
	if uintptr(p)%8 != 0 {
		return nil, fmt.Errorf("%w: address %p is not 8-byte aligned", ErrLayout, p)
	}
	return p, nil
}

// Init sets the value and clears the waiter bookkeeping. Call it before the
// semaphore is shared, never while someone waits on it.
func (s *Semaphore) Init(value uint32) {
	s.value.Store(value)
	s.waiters.Store(0)
	s.seq.Store(0)
	s.private = 0
}

// SetPrivate says that s is used by the threads of this process alone
// (it is not in memory another process maps): its sleeps and wakes then
// use the kernel's private futex operations, which cost less. Call it
// before anyone uses s, and after [Semaphore.Init].
func (s *Semaphore) SetPrivate() { s.private = futexPrivate }

// Value returns the current value; by the time the caller looks, it may have
// changed.
func (s *Semaphore) Value() uint32 { return s.value.Load() }

// Waiters returns how many callers are in the waiting path of P: asleep, or
// about to sleep or return.
func (s *Semaphore) Waiters() int { return int(s.waiters.Load()) }

// TryP takes the semaphore if its value is positive, without waiting, and
// reports whether it did.
func (s *Semaphore) TryP() bool {
	for {
		v := s.value.Load()
		if v == 0 {
			return false
		}
		if s.value.CompareAndSwap(v, v-1) {
			return true
		}
	}
}

// spinTries is how many times P retries before it sleeps. A short spin wins
// when the poster is running on another CPU and about to post, which is the
// common case of a producer and a consumer handing items over; it costs
// nothing measurable when it loses.
const spinTries = 64

// P waits until the value is positive and decrements it (Dijkstra's P,
// sem_wait). A timeout of 0 or less waits without limit. It returns
// [ErrTimeout] when the timeout runs out and [ErrCancelled] when c is or gets
// cancelled, in both cases without having taken the semaphore.
func (s *Semaphore) P(c Canceler, timeout time.Duration) error {
	if cancelled(c) {
		return ErrCancelled
	}
	if s.TryP() {
		return nil
	}
	for range spinTries {
		if s.value.Load() > 0 && s.TryP() {
			return nil
		}
	}
	return s.slowP(c, timeout)
}

func (s *Semaphore) slowP(c Canceler, timeout time.Duration) error {
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	s.waiters.Add(1)
	watch(c, s.seqWord())
	err := sleepUntil(&s.seq, s.TryP, c, deadline, 0, nil, uintptr(s.private))
	watch(c, nil)
	s.waiters.Add(^uint32(0))
	if err != nil && s.value.Load() > 0 {
		// A V may have woken us rather than a waiter that stays; pass it on.
		wakeOne(&s.seq, &s.waiters, uintptr(s.private))
	}
	return err
}

// sleepUntil is the waiting loop of Semaphore.P and Mutex.Lock: it sleeps on
// the futex word seq until take succeeds, c is cancelled or deadline (if not
// zero) passes. With nap > 0 it wakes up at least that often, and after
// every wake-up check (if not nil) can end the wait with an error.
//
// Before sleeping it sets the sleepers bit and tries take once more: a V
// that raised the value before the bit was set has not woken anyone, but its
// unit is then seen here; a V after it sees the bit and changes seq, so the
// futex wait either does not start or is woken. private is futexPrivate
// for the word of a private semaphore, else 0 (so for wakeOne).
func sleepUntil(seq *atomic.Uint32, take func() bool, c Canceler, deadline time.Time, nap time.Duration, check func() error, private uintptr) error {
	word := (*uint32)(unsafe.Pointer(seq))
	for {
		q := seq.Load()
		if take() {
			return nil
		}
		if q&1 == 0 {
			if !seq.CompareAndSwap(q, q|1) {
				continue
			}
			q |= 1
			if take() {
				return nil
			}
		}
		if cancelled(c) {
			return ErrCancelled
		}
		sleep := nap
		if !deadline.IsZero() {
			left := time.Until(deadline)
			if left <= 0 {
				return ErrTimeout
			}
			if sleep <= 0 || left < sleep {
				sleep = left
			}
		}
		err := futexSleep(word, q, sleep, private)
		if err != nil && err != errTimedOut {
			return fmt.Errorf("sem: futex wait: %w", err)
		}
		if check != nil {
			if err := check(); err != nil {
				return err
			}
		}
	}
}

// V increments the value (Dijkstra's V, sem_post) and wakes one sleeper if
// there is any. Without sleepers it makes no system call. The value is a
// 32-bit counter: posting past 2^32-1 wraps it, so a semaphore is meant for
// counts far below that (a buffer's slots, a handful of permits).
func (s *Semaphore) V() {
	s.value.Add(1)
	wakeOne(&s.seq, &s.waiters, uintptr(s.private))
}

// wakeOne wakes one sleeper on seq if the sleepers bit is set. It keeps the
// bit while other waiters may still sleep after this one, and clears it
// otherwise, so that later wakes skip the system call until a waiter sets it
// again. Either way seq changes, so a waiter that read it but is not yet in
// the kernel does not go to sleep on a stale value.
func wakeOne(seq, waiters *atomic.Uint32, private uintptr) {
	for {
		q := seq.Load()
		if q&1 == 0 {
			return
		}
		next := q + 1 // clears the bit and changes the word
		if waiters.Load() > 1 {
			next = q + 2 // keeps the bit
		}
		if seq.CompareAndSwap(q, next) {
			futexWakeN((*uint32)(unsafe.Pointer(seq)), 1, private)
			return
		}
	}
}

// WakeAll wakes every sleeper without changing the value, so each rechecks
// its Canceler. It is how a party that cannot reach a waiter's Canceler
// directly, such as a coordinator aborting worker processes through a flag in
// shared memory, makes them see the request.
func (s *Semaphore) WakeAll() { Interrupt(s.seqWord()) }

func (s *Semaphore) seqWord() *uint32 { return (*uint32)(unsafe.Pointer(&s.seq)) }
