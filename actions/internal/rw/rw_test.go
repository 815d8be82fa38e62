package rw_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/rw"
)

// busy is a room that readers keep occupied: their reads overlap, with no
// pause between visits.
func busy(p rw.Policy) rw.Config {
	return rw.Config{Readers: 4, Writers: 2, Reads: 20, Writes: 5, Policy: p,
		ReadTime: 3 * time.Millisecond, WriteTime: time.Millisecond, Jitter: time.Millisecond, Seed: 1}
}

func noWorkersLeft(t *testing.T) {
	t.Helper()
	tasks, err := osthread.Tasks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if strings.HasPrefix(task.Name, "reader-") || strings.HasPrefix(task.Name, "writer-") {
			t.Errorf("thread %+v still in /proc/self/task after Run", task)
		}
	}
}

// TestPoliciesKeepTheRule runs every locking policy and checks, from the
// events as well as from Run's own count, that a writer was always alone
// and that readers shared the room.
func TestPoliciesKeepTheRule(t *testing.T) {
	for _, p := range []rw.Policy{rw.ReadersFirst, rw.WritersFirst, rw.Fair} {
		cfg := busy(p)
		var mu sync.Mutex
		in := map[string]bool{}
		var broken []string
		cfg.OnEvent = func(e rw.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case rw.EventEnter:
				for other := range in {
					if e.Writer || strings.HasPrefix(other, "writer-") {
						broken = append(broken, e.Worker+" came in with "+other)
					}
				}
				in[e.Worker] = true
			case rw.EventLeave:
				delete(in, e.Worker)
			}
		}
		res, err := rw.Run(context.Background(), cfg)
		if err != nil || !res.OK || res.Violations != 0 {
			t.Fatalf("%s: %+v, %v", p, res, err)
		}
		if res.Reads != 80 || res.Writes != 10 {
			t.Errorf("%s: %d reads and %d writes, want 80 and 10", p, res.Reads, res.Writes)
		}
		if len(broken) > 0 {
			t.Errorf("%s: %d entries broke the rule, first: %s", p, len(broken), broken[0])
		}
		if res.MaxReaders < 2 {
			t.Errorf("%s: readers never shared the room (at most %d in)", p, res.MaxReaders)
		}
		noWorkersLeft(t)
	}
}

// TestNoLockBreaksTheRule: without a lock the rule breaks, and every
// entry that broke it says so in its event.
func TestNoLockBreaksTheRule(t *testing.T) {
	var res rw.Result
	var broke atomic.Int32
	for try := 0; try < 5 && res.Violations == 0; try++ {
		cfg := busy(rw.None)
		broke.Store(0)
		cfg.OnEvent = func(e rw.Event) {
			if e.Broke {
				broke.Add(1)
			}
		}
		var err error
		if res, err = rw.Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	if res.Violations == 0 || res.OK {
		t.Fatalf("no violation without a lock in 5 runs: %+v", res)
	}
	if int(broke.Load()) != res.Violations {
		t.Errorf("%d entries marked as breaking the rule, %d violations counted", broke.Load(), res.Violations)
	}
}

// busyWriters is a room that writers keep occupied.
func busyWriters(p rw.Policy) rw.Config {
	return rw.Config{Readers: 4, Writers: 2, Reads: 5, Writes: 20, Policy: p,
		ReadTime: time.Millisecond, WriteTime: 3 * time.Millisecond, Seed: 2}
}

// TestWhoStarves: with busy readers, readers first keeps the writers out
// for most of the run; with busy writers, writers first does the same to
// the readers; with both busy, the fair turnstile lets everyone in within
// a few visits. Starving is counted, not timed: a worker is overtaken by
// the entries of the other side made while it waits, from its rw_wait to
// its rw_enter, so a loaded machine that slows everyone changes nothing.
// The margins are wide, and a run is tried ten times before the test
// gives up on it: a worker preempted outside the room can still let the
// other side in early, which no policy can prevent.
func TestWhoStarves(t *testing.T) {
	check := func(cfg rw.Config, what string, ok func(o overtaken) bool) {
		t.Helper()
		var o overtaken
		for try := 0; try < 10; try++ {
			var err error
			if o, err = overtakes(cfg); err != nil {
				t.Fatal(err)
			}
			if ok(o) {
				return
			}
		}
		t.Errorf("%s, %s: %+v", cfg.Policy, what, o)
	}
	// 80 reads by 8 readers, who keep the room busy (4 leave it empty at
	// times), and 10 writes: a writer waits while half the reads are made;
	// a reader, while half the writes at most.
	crowd := busy(rw.ReadersFirst)
	crowd.Readers, crowd.Reads = 8, 10
	check(crowd, "writers starved", func(o overtaken) bool {
		return o.writer >= 40 && o.reader <= 5
	})
	// 20 reads and 40 writes: the other way round.
	check(busyWriters(rw.WritersFirst), "readers starved", func(o overtaken) bool {
		return o.reader >= 20 && o.writer <= 10
	})
	// 80 reads and 40 writes, at most six in the turnstile's queue.
	both := busy(rw.Fair)
	both.Writes, both.WriteTime = 20, 3*time.Millisecond
	check(both, "no one starved", func(o overtaken) bool {
		return o.reader <= 12 && o.writer <= 12
	})
}

// overtaken is the most entries of the other side that a reader, and a
// writer, saw while it waited to come in.
type overtaken struct{ reader, writer int }

// overtakes runs cfg and counts, from its events, how far each side was
// overtaken by the other.
func overtakes(cfg rw.Config) (overtaken, error) {
	var mu sync.Mutex
	var o overtaken
	entries := map[bool]int{}   // entries made so far, by side (writer)
	waiting := map[string]int{} // a waiting worker: the other side's entries when it asked
	cfg.OnEvent = func(e rw.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case rw.EventWait:
			waiting[e.Worker] = entries[!e.Writer]
		case rw.EventEnter:
			n := entries[!e.Writer] - waiting[e.Worker]
			if e.Writer {
				o.writer = max(o.writer, n)
			} else {
				o.reader = max(o.reader, n)
			}
			entries[e.Writer]++
		}
	}
	res, err := rw.Run(context.Background(), cfg)
	if err == nil && !res.OK {
		err = fmt.Errorf("%s: %+v", cfg.Policy, res)
	}
	return o, err
}

// TestTurnstileCancelled: runs of the fair policy stopped at different
// moments, with workers queued at the turnstile, all end; so does a full
// run afterwards.
func TestTurnstileCancelled(t *testing.T) {
	for i := range 5 {
		cfg := busy(rw.Fair)
		cfg.Seed = int64(i)
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(5+i*7)*time.Millisecond)
		_, err := rw.Run(ctx, cfg)
		cancel()
		if err == nil {
			t.Fatalf("run %d was not stopped", i)
		}
	}
	if res, err := rw.Run(context.Background(), busy(rw.Fair)); err != nil || !res.OK {
		t.Fatalf("%+v, %v", res, err)
	}
	noWorkersLeft(t)
}

func TestContextStopsEveryPolicy(t *testing.T) {
	for _, p := range []rw.Policy{rw.ReadersFirst, rw.WritersFirst, rw.Fair, rw.None} {
		cfg := busy(p)
		cfg.ReadTime, cfg.WriteTime = time.Minute, time.Minute
		ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, errors.New("step timed out"))
		start := time.Now()
		_, err := rw.Run(ctx, cfg)
		cancel()
		if err == nil || !strings.Contains(err.Error(), "step timed out") {
			t.Errorf("%s: err = %v, want the context's cause", p, err)
		}
		if time.Since(start) > 10*time.Second {
			t.Errorf("%s: took %v to stop", p, time.Since(start))
		}
		noWorkersLeft(t)
	}
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []rw.Config{
		{Policy: rw.Fair},
		{Readers: 1, Reads: -1, Policy: rw.Fair},
		{Readers: 1, Policy: "lottery"},
		{Readers: rw.MaxWorkers + 1, Policy: rw.Fair},
		{Readers: 1, Policy: rw.Fair, ReadTime: -1},
	} {
		if _, err := rw.Run(context.Background(), cfg); !errors.Is(err, rw.ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", cfg, err)
		}
	}
}

// TestStressPolicies: long runs of every locking policy with many workers
// and short visits, the rule checked on every entry. Only with
// PMRUN_STRESS set (make stress).
func TestStressPolicies(t *testing.T) {
	if os.Getenv("PMRUN_STRESS") == "" {
		t.Skip("set PMRUN_STRESS=1 (make stress)")
	}
	for _, p := range []rw.Policy{rw.ReadersFirst, rw.WritersFirst, rw.Fair} {
		cfg := rw.Config{Readers: 12, Writers: 6, Reads: 2000, Writes: 1000, Policy: p, Jitter: 20 * time.Microsecond, Seed: 9}
		res, err := rw.Run(context.Background(), cfg)
		if err != nil || !res.OK || res.Violations != 0 {
			t.Fatalf("%s: %+v, %v", p, res, err)
		}
	}
	noWorkersLeft(t)
}
