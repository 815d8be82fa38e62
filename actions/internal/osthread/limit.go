package osthread

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
)

// MaxThreads is the most pmrun threads that one process runs at a time:
// a [Start] past it fails with [ErrTooMany].
const MaxThreads = 30_000

// runtimeMaxThreads is the Go runtime's own cap on OS threads, which this
// package raises from its default of 10,000 (debug.SetMaxThreads): past
// the cap the runtime aborts the whole process ("thread exhaustion"), with
// no chance to clean up, and every pmrun thread is an OS thread. The
// runtime keeps threads of its own beside pmrun's, hence the margin.
const runtimeMaxThreads = MaxThreads + 10_000

func init() { debug.SetMaxThreads(runtimeMaxThreads) }

// ErrTooMany is the error of a Start that would pass [MaxThreads].
var ErrTooMany = errors.New("too many threads")

// maxThreads is MaxThreads, lowered by tests.
var maxThreads int64 = MaxThreads

// running counts the pmrun threads started and not yet ended.
var running atomic.Int64

// reserve counts one more thread, or fails if that would pass maxThreads.
func reserve(name string) error {
	if n := running.Add(1); n > maxThreads {
		running.Add(-1)
		return fmt.Errorf("osthread: start %q: %w: %d pmrun threads run in this process, at most %d", name, ErrTooMany, n-1, maxThreads)
	}
	return nil
}
