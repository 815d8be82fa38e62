package sem

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrivateSleeperWakes: a sleeper on a private semaphore, asleep in
// the kernel, is woken by V, and by a cancel (Interrupt, which does not
// know the word is a private semaphore's).
func TestPrivateSleeperWakes(t *testing.T) {
	for _, how := range []string{"V", "cancel"} {
		t.Run(how, func(t *testing.T) {
			s := New(0)
			s.SetPrivate()
			c := &flagCanceler{}
			tid := make(chan int, 1)
			done := make(chan error, 1)
			go func() {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				tid <- syscall.Gettid()
				done <- s.P(c, 0)
			}()
			untilInFutex(t, <-tid)
			if how == "V" {
				s.V()
			} else {
				c.cancel()
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(time.Minute):
				t.Fatalf("the sleeper was not woken by %s", how)
			}
			want := error(nil)
			if how == "cancel" {
				want = ErrCancelled
			}
			if !errors.Is(err, want) {
				t.Fatalf("P = %v, want %v", err, want)
			}
		})
	}
}

// untilInFutex waits until thread tid of this process sleeps in a futex
// wait in the kernel.
func untilInFutex(t *testing.T, tid int) {
	t.Helper()
	path := fmt.Sprintf("/proc/self/task/%d/wchan", tid)
	for {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "futex") {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
