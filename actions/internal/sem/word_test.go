package sem

import (
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"
)

func untilWordSleepers(w *Word, n int32) {
	for w.sleepers.Load() < n {
		runtime.Gosched()
	}
}

func TestWordWakeWakesEverySleeper(t *testing.T) {
	var w Word
	seen := w.Load()
	done := make(chan error, 3)
	for range 3 {
		go func() { done <- w.Sleep(nil, seen, 0) }()
	}
	untilWordSleepers(&w, 3)
	w.Wake()
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if w.Load() == seen {
		t.Fatal("Wake did not change the word")
	}
}

func TestWordSleepOnChangedWordReturns(t *testing.T) {
	var w Word
	seen := w.Load()
	w.Wake() // between the read and the sleep, as a step under the lock would
	if err := w.Sleep(nil, seen, 0); err != nil {
		t.Fatal(err)
	}
}

func TestWordCancelWakesSleeper(t *testing.T) {
	var w Word
	c := &flagCanceler{}
	done := make(chan error)
	go func() { done <- w.Sleep(c, w.Load(), 0) }()
	untilWordSleepers(&w, 1)
	c.cancel()
	if err := <-done; !errors.Is(err, ErrCancelled) {
		t.Fatalf("Sleep = %v, want ErrCancelled", err)
	}
	if err := w.Sleep(c, w.Load(), 0); !errors.Is(err, ErrCancelled) {
		t.Fatalf("Sleep with a cancelled Canceler = %v, want ErrCancelled", err)
	}
}

// TestWordNoLostWakeups passes a turn back and forth between two
// goroutines through a flag under a mutex and one Word each way, the way
// the free-running program executor blocks a thread: a lost wake-up hangs
// the test.
func TestWordNoLostWakeups(t *testing.T) {
	var mu sync.Mutex
	var w Word
	turn := 0
	const rounds = 3000
	play := func(me int) {
		for range rounds {
			for {
				mu.Lock()
				if turn == me {
					turn = 1 - me
					w.Wake()
					mu.Unlock()
					break
				}
				seen := w.Load()
				mu.Unlock()
				if err := w.Sleep(nil, seen, 0); err != nil {
					t.Error(err)
					return
				}
			}
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { play(0) })
	wg.Go(func() { play(1) })
	wg.Wait()
}

func TestWordSleepTimesOut(t *testing.T) {
	var w Word
	if err := w.Sleep(nil, w.Load(), time.Millisecond); err != nil {
		t.Fatal(err)
	}
}
