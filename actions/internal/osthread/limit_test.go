package osthread

import (
	"errors"
	"runtime/debug"
	"testing"
)

// TestMaxThreads: a Start past the cap fails with ErrTooMany, and a
// thread's end makes room again. Not parallel: it lowers the cap for the
// whole process.
func TestMaxThreads(t *testing.T) {
	defer func(old int64) { maxThreads = old }(maxThreads)
	maxThreads = running.Load() + 2
	var started []*Thread
	for range 2 {
		th, err := Start("capped", (*Thread).Idle)
		if err != nil {
			t.Fatal(err)
		}
		started = append(started, th)
	}
	if _, err := Start("one too many", (*Thread).Idle); !errors.Is(err, ErrTooMany) {
		t.Errorf("a start past the cap: %v, want ErrTooMany", err)
	}
	started[0].Cancel()
	started[0].Wait(t.Context())
	th, err := Start("room again", (*Thread).Idle)
	if err != nil {
		t.Fatalf("a start after a thread ended: %v", err)
	}
	for _, th := range append(started[1:], th) {
		th.Cancel()
		th.Wait(t.Context())
	}
	// The runtime's own cap is above pmrun's, so that pmrun's is the one
	// that is met.
	if old := debug.SetMaxThreads(runtimeMaxThreads); old != runtimeMaxThreads || old <= MaxThreads {
		t.Errorf("the runtime's cap is %d, want %d, above %d", old, runtimeMaxThreads, MaxThreads)
	}
}
