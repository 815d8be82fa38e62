package sem

import (
	"errors"
	"math"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Futex operations. The PRIVATE variants are deliberately not used: a
// semaphore may live in a MAP_SHARED mapping and be waited on from several
// processes, which only the shared (inode-keyed) futex hash supports.
const (
	futexWait = 0
	futexWake = 1
)

// errTimedOut is what futexSleep reports when its timeout ran out; callers
// translate it into [ErrTimeout] only once their own deadline has passed.
var errTimedOut = errors.New("sem: futex wait timed out")

// futexSleep sleeps while *addr == val, for at most timeout (no limit if
// timeout <= 0). A change of the word, a wake, a signal and a spurious return
// all report nil: callers always recheck their condition.
func futexSleep(addr *uint32, val uint32, timeout time.Duration) error {
	var ts *unix.Timespec
	if timeout > 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWait,
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

// futexWakeN wakes up to n sleepers on addr. It never blocks, so it skips the
// scheduler bookkeeping of a blocking syscall.
func futexWakeN(addr *uint32, n int) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWake, uintptr(n), 0, 0, 0)
}

// Interrupt wakes every caller sleeping on addr, the wake-sequence word a
// [Canceler] was handed through Watch. It changes the word (adds 1) before
// waking so that a caller that has read the word but not yet entered the
// kernel does not go to sleep at all: the kernel sees the changed value and
// returns at once. Adding 1 also flips the word's sleepers bit; that is
// harmless, since every sleeper wakes and sets it again if it goes back to
// sleep, and a stray bit costs one needless wake. A Canceler calls Interrupt
// after recording a cancel request.
func Interrupt(addr *uint32) {
	if addr == nil {
		return
	}
	atomic.AddUint32(addr, 1)
	futexWakeN(addr, math.MaxInt32)
}
