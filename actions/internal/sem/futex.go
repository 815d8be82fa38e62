package sem

import (
	"errors"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations. They are the shared ones unless a semaphore is marked
// private ([Semaphore.SetPrivate]): a semaphore may live in a MAP_SHARED
// mapping and be waited on from several processes, which only the shared
// (inode-keyed) futex hash supports. The PRIVATE variants skip the
// kernel's look-up of the page behind the word, as glibc does for a sem_t
// of one process.
const (
	futexWait    = 0
	futexWake    = 1
	futexPrivate = 128 // FUTEX_PRIVATE_FLAG
)

// errTimedOut is what futexSleep reports when its timeout ran out; callers
// translate it into [ErrTimeout] only once their own deadline has passed.
var errTimedOut = errors.New("sem: futex wait timed out")

// futexSleep sleeps while *addr == val, for at most timeout (no limit if
// timeout <= 0). A change of the word, a wake, a signal and a spurious return
// all report nil: callers always recheck their condition.
// It is the shared operation; private adds futexPrivate.
func futexSleep(addr *uint32, val uint32, timeout time.Duration, private uintptr) error {
	var ts *unix.Timespec
	if timeout > 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait|private,
		uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
	switch errno {
	case 0, unix.EAGAIN, unix.EINTR:
		return nil
	case unix.ETIMEDOUT:
		return errTimedOut
	default:
		return errno
	}
}

// futexWakeN wakes up to n sleepers on addr, those of the shared operation,
// or with private of futexPrivate those of the private one. It never
// blocks, so it skips the scheduler bookkeeping of a blocking syscall.
func futexWakeN(addr *uint32, n int, private uintptr) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake|private, uintptr(n), 0, 0, 0)
}

// Interrupt wakes every caller sleeping on addr, the wake-sequence word a
// [Canceler] was handed through Watch. It changes the word (adds 1) before
// waking so that a caller that has read the word but not yet entered the
// kernel does not go to sleep at all: the kernel sees the changed value and
// returns at once. Adding 1 also flips the word's sleepers bit; that is
// harmless, since every sleeper wakes and sets it again if it goes back to
// sleep, and a stray bit costs one needless wake. A Canceler calls Interrupt
// after recording a cancel request. Not knowing whether the word is a
// private semaphore's, it wakes the sleepers of both futex operations.
func Interrupt(addr *uint32) {
	if addr == nil {
		return
	}
	atomic.AddUint32(addr, 1)
	futexWakeN(addr, math.MaxInt32, 0)
	futexWakeN(addr, math.MaxInt32, futexPrivate)
}
