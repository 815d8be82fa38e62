package sem

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ownerCheckInterval is how often a waiter on a [Mutex] wakes up to check
// that the holder is still alive. Only waiters pay for it, and only while the
// mutex stays held that long.
const ownerCheckInterval = 50 * time.Millisecond

// selfPID is this process's id, the value a Mutex holds while we own it.
var selfPID = uint32(os.Getpid())

// Mutex is a binary semaphore that records who holds it: the lock word itself
// is the holder's process id (0 when free), taken with a single
// compare-and-swap, so there is no moment at which the mutex is held by
// nobody known. A waiter that finds the holder's process gone returns an
// [OwnerDeadError] instead of waiting forever: a worker killed inside its
// critical section fails the run rather than hanging it.
//
// Like [Semaphore] it is four 32-bit words and works in shared memory.
type Mutex struct {
	owner   atomic.Uint32 // holder's pid; 0 when free
	tid     atomic.Uint32 // holder's thread id, for reports
	waiters atomic.Uint32
	seq     atomic.Uint32 // as in Semaphore: changes at every wake; bit 0 = sleepers
}

// NewMutex returns an unlocked mutex on the Go heap.
func NewMutex() *Mutex { return new(Mutex) }

// MutexAt returns the mutex stored in the first [Size] bytes of b, typically a
// slice of a shared mapping. One party calls [Mutex.Init] before it is shared.
func MutexAt(b []byte) (*Mutex, error) {
	p, err := place(b)
	if err != nil {
		return nil, err
	}
	return (*Mutex)(p), nil
}

// Init unlocks the mutex and clears its bookkeeping; never call it while the
// mutex is in use.
func (m *Mutex) Init() {
	m.owner.Store(0)
	m.tid.Store(0)
	m.waiters.Store(0)
	m.seq.Store(0)
}

// OwnerDeadError reports that the process holding a [Mutex] died without
// unlocking it. It matches [ErrOwnerDead] with errors.Is.
type OwnerDeadError struct {
	PID int // the dead holder's process id
	TID int // the thread that locked it, when known
}

// Error names the dead holder.
func (e *OwnerDeadError) Error() string {
	return fmt.Sprintf("sem: mutex owner pid %d (tid %d) died holding it", e.PID, e.TID)
}

// Is makes errors.Is(err, ErrOwnerDead) hold.
func (e *OwnerDeadError) Is(target error) bool { return target == ErrOwnerDead }

// Owner returns the process and thread holding the mutex, or zeros if it is
// free.
func (m *Mutex) Owner() (pid, tid int) {
	return int(m.owner.Load()), int(m.tid.Load())
}

// Waiters returns how many callers are in the waiting path of Lock.
func (m *Mutex) Waiters() int { return int(m.waiters.Load()) }

// TryLock takes the mutex if it is free, without waiting. It records no
// thread id; see [Mutex.Lock].
func (m *Mutex) TryLock() bool { return m.tryLock(nil) }

// threadIDer is a Canceler that knows its thread, like osthread.Thread.
type threadIDer interface{ TID() int }

// tryLock takes the mutex if it is free, recording the thread id c offers.
// The id is asked of the Canceler rather than of the kernel because gettid is
// a real system call, too dear for every lock.
func (m *Mutex) tryLock(c Canceler) bool {
	if !m.owner.CompareAndSwap(0, selfPID) {
		return false
	}
	if t, ok := c.(threadIDer); ok {
		m.tid.Store(uint32(t.TID()))
	}
	return true
}

// Lock takes the mutex, waiting at most timeout (no limit if 0 or less). It
// returns [ErrTimeout], [ErrCancelled] when c is or gets cancelled, or an
// [OwnerDeadError] when the holder's process has died. If c has a
// TID() int method (an osthread.Thread does), the mutex records that thread
// as the holder's; otherwise the holder's thread shows as 0.
func (m *Mutex) Lock(c Canceler, timeout time.Duration) error {
	if cancelled(c) {
		return ErrCancelled
	}
	if m.tryLock(c) {
		return nil
	}
	for range spinTries {
		if m.owner.Load() == 0 && m.tryLock(c) {
			return nil
		}
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	m.waiters.Add(1)
	watch(c, m.seqWord())
	// Waiters wake every ownerCheckInterval to see whether the holder died.
	lastCheck := time.Now()
	ownerAlive := func() error {
		if time.Since(lastCheck) < ownerCheckInterval {
			return nil
		}
		lastCheck = time.Now()
		if pid, tid := m.Owner(); pid != 0 && processGone(pid) {
			return &OwnerDeadError{PID: pid, TID: tid}
		}
		return nil
	}
	err := sleepUntil(&m.seq, func() bool { return m.tryLock(c) }, c, deadline, ownerCheckInterval, ownerAlive, 0)
	watch(c, nil)
	m.waiters.Add(^uint32(0))
	if err != nil && m.owner.Load() == 0 {
		wakeOne(&m.seq, &m.waiters, 0) // pass on a wake that Unlock may have meant for another waiter
	}
	return err
}

// Unlock releases the mutex and wakes one waiter if there is any. It returns
// [ErrNotOwner] if this process does not hold it.
func (m *Mutex) Unlock() error {
	if owner := m.owner.Load(); owner != selfPID {
		return fmt.Errorf("%w (held by pid %d)", ErrNotOwner, owner)
	}
	m.tid.Store(0)
	m.owner.Store(0)
	wakeOne(&m.seq, &m.waiters, 0)
	return nil
}

// WakeAll wakes every waiter so each rechecks its Canceler; see
// [Semaphore.WakeAll].
func (m *Mutex) WakeAll() { Interrupt(m.seqWord()) }

func (m *Mutex) seqWord() *uint32 { return (*uint32)(unsafe.Pointer(&m.seq)) }

// processGone reports whether process pid has ended. A killed process that
// its parent has not reaped yet still answers kill(pid, 0), so the test is a
// pidfd, which polls readable as soon as the process has exited, zombie or
// not. Without pidfd support it falls back to kill(pid, 0).
func processGone(pid int) bool {
	if pid == int(selfPID) {
		return false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		if err == unix.ESRCH {
			return true
		}
		return unix.Kill(pid, 0) == unix.ESRCH
	}
	defer unix.Close(fd)
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&unix.POLLIN != 0
}
