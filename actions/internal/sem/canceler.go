package sem

import "errors"

// Canceler is what a waiting caller can be cancelled through; an
// osthread.Thread implements it. A nil Canceler means "not cancellable".
type Canceler interface {
	// Cancelled reports whether a cancel request is pending.
	Cancelled() bool
	// Watch registers the futex word the caller is about to sleep on (nil
	// clears it), so that a cancel request can wake it with [Interrupt]
	// instead of waiting for the sleep to end.
	Watch(addr *uint32)
}

// Errors a wait returns; match them with errors.Is.
var (
	// ErrTimeout: the wait's timeout ran out before the semaphore could be taken.
	ErrTimeout = errors.New("sem: wait timed out")
	// ErrCancelled: the waiter's Canceler asked it to stop.
	ErrCancelled = errors.New("sem: wait cancelled")
	// ErrOwnerDead: the process holding a [Mutex] has died without unlocking it.
	ErrOwnerDead = errors.New("sem: mutex owner died")
	// ErrNotOwner: Unlock of a [Mutex] that this process does not hold.
	ErrNotOwner = errors.New("sem: mutex not held by this process")
	// ErrLayout: memory handed to [At] or [MutexAt] is too small or misaligned.
	ErrLayout = errors.New("sem: bad memory for a semaphore")
)

// cancelled reports whether c asks the caller to stop; nil never does.
func cancelled(c Canceler) bool { return c != nil && c.Cancelled() }

// watch registers addr with c, if there is a c.
func watch(c Canceler, addr *uint32) {
	if c != nil {
		c.Watch(addr)
	}
}
