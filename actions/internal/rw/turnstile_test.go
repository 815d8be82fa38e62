package rw

import (
	"sync"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/osthread"
)

// TestTurnstileOrder: waiters get the turnstile in the order they queued,
// and one cancelled while queued leaves the queue without taking a turn.
func TestTurnstileOrder(t *testing.T) {
	q := &turnstile{}
	if err := q.P(nil, 0); err != nil { // held by the test
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	queued := func(n int) {
		for {
			q.mu.Lock()
			l := len(q.waiters)
			q.mu.Unlock()
			if l == n {
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	}
	var threads []*osthread.Thread
	for i, name := range []string{"first", "cancelled", "second", "third"} {
		th, err := osthread.Start("ts-"+name, func(th *osthread.Thread) error {
			if err := q.P(th, 0); err != nil {
				return err
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			q.V()
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		threads = append(threads, th)
		queued(i + 1)
	}
	if err := threads[1].Cancel(); err != nil {
		t.Fatal(err)
	}
	queued(3)
	q.V()
	for _, th := range threads {
		if _, err := th.Wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(order); got != 3 || order[0] != "first" || order[1] != "second" || order[2] != "third" {
		t.Fatalf("order %v, want [first second third]", order)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.held || len(q.waiters) != 0 {
		t.Errorf("turnstile left held=%v with %d waiters", q.held, len(q.waiters))
	}
}
