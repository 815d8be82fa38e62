package dining_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/dining"
	"github.com/pmrun/pmrun/actions/internal/osthread"
)

// naive is a table that deadlocks as soon as everyone holds a left fork:
// the pause keeps each philosopher holding it long enough for all the
// others to take theirs.
func naive(n int) dining.Config {
	return dining.Config{Philosophers: n, Meals: 3, Order: dining.Naive, EatTime: time.Millisecond,
		Pause: 20 * time.Millisecond, Detect: 50 * time.Millisecond}
}

// noPhilosophersLeft fails if a phil- thread is still in /proc/self/task:
// Run must join every thread it started.
func noPhilosophersLeft(t *testing.T) {
	t.Helper()
	tasks, err := osthread.Tasks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if strings.HasPrefix(task.Name, "phil-") {
			t.Errorf("thread %+v still in /proc/self/task after Run", task)
		}
	}
}

func TestNaiveTableDeadlocksAndIsExplained(t *testing.T) {
	for _, n := range []int{2, 5, 8} {
		cfg := naive(n)
		var res dining.Result
		var err error
		// Timing decides, as with any deadlock; the pause makes it
		// near certain, so a few tries are plenty.
		for try := 0; try < 5 && !res.Deadlock; try++ {
			res, err = dining.Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("%d philosophers: %v", n, err)
			}
		}
		if !res.Deadlock || res.OK {
			t.Fatalf("%d philosophers: no deadlock in 5 runs: %+v", n, res)
		}
		// With everyone holding the left fork, the cycle is the whole table:
		// philosopher i holds fork i and waits for fork i+1, held by i+1.
		if len(res.Cycle) != n {
			t.Fatalf("%d philosophers: cycle of %d: %+v", n, len(res.Cycle), res.Cycle)
		}
		for k, l := range res.Cycle {
			want := dining.Link{Philosopher: k, Holds: k, WaitsFor: (k + 1) % n, HeldBy: (k + 1) % n}
			if l != want {
				t.Errorf("%d philosophers: link %d = %+v, want %+v", n, k, l, want)
			}
		}
		explain := res.Explain()
		for k := range n {
			if !strings.Contains(explain, dining.Name(k)+" holds fork") {
				t.Errorf("explanation leaves out %s: %s", dining.Name(k), explain)
			}
		}
		if !strings.Contains(explain, "circular wait") {
			t.Errorf("explanation does not name the circular wait: %s", explain)
		}
		noPhilosophersLeft(t)
	}
}

func TestOrderedAndWaiterNeverDeadlock(t *testing.T) {
	for _, order := range []dining.Order{dining.Ordered, dining.Waiter} {
		for _, n := range []int{2, 5, 8} {
			cfg := naive(n)
			cfg.Order, cfg.Pause, cfg.Meals = order, 2*time.Millisecond, 4
			var mu sync.Mutex
			meals := map[int]int{}
			cfg.OnEvent = func(e dining.Event) {
				if e.Kind == dining.MealStarted {
					mu.Lock()
					meals[e.Philosopher]++
					mu.Unlock()
				}
			}
			res, err := dining.Run(context.Background(), cfg)
			if err != nil {
				t.Fatalf("%s, %d philosophers: %v", order, n, err)
			}
			if !res.OK || res.Deadlock || res.Meals != n*cfg.Meals {
				t.Fatalf("%s, %d philosophers: %+v", order, n, res)
			}
			for k := range n {
				if res.PerPhilosopher[k] != cfg.Meals || meals[k] != cfg.Meals {
					t.Errorf("%s: %s ate %d meals (%d events), want %d", order, dining.Name(k), res.PerPhilosopher[k], meals[k], cfg.Meals)
				}
			}
			noPhilosophersLeft(t)
		}
	}
}

// TestForksAreExclusive checks the events: a fork is taken only when it
// is free, and a meal starts only with both forks in hand.
func TestForksAreExclusive(t *testing.T) {
	cfg := naive(5)
	cfg.Order, cfg.Pause, cfg.Meals, cfg.Jitter, cfg.Seed = dining.Ordered, 0, 20, time.Millisecond, 7
	var mu sync.Mutex
	holder := map[int]int{}
	var problems []string
	cfg.OnEvent = func(e dining.Event) {
		mu.Lock()
		defer mu.Unlock()
		switch e.Kind {
		case dining.ForkTaken:
			if h, ok := holder[e.Fork]; ok {
				problems = append(problems, dining.Name(e.Philosopher)+" took a fork held by "+dining.Name(h))
			}
			holder[e.Fork] = e.Philosopher
		case dining.ForkReleased:
			delete(holder, e.Fork)
		case dining.MealStarted:
			left, right := e.Philosopher, (e.Philosopher+1)%cfg.Philosophers
			if holder[left] != e.Philosopher || holder[right] != e.Philosopher {
				problems = append(problems, dining.Name(e.Philosopher)+" ate without both forks")
			}
		}
	}
	res, err := dining.Run(context.Background(), cfg)
	if err != nil || !res.OK {
		t.Fatalf("%+v, %v", res, err)
	}
	if len(problems) > 0 {
		t.Errorf("%d problems, first: %s", len(problems), problems[0])
	}
	if len(holder) != 0 {
		t.Errorf("forks still held after the run: %v", holder)
	}
}

func TestContextStopsTheTable(t *testing.T) {
	cfg := naive(5)
	cfg.Order, cfg.EatTime, cfg.Meals = dining.Waiter, time.Minute, 1
	ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Millisecond, errors.New("step timed out"))
	defer cancel()
	start := time.Now()
	res, err := dining.Run(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "step timed out") {
		t.Fatalf("err = %v, want the context's cause", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Errorf("Run took %v to stop", time.Since(start))
	}
	if res.OK || res.Deadlock {
		t.Errorf("result %+v", res)
	}
	noPhilosophersLeft(t)
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []dining.Config{
		{Philosophers: 1, Meals: 1, Order: dining.Naive, Detect: time.Second},
		{Philosophers: 5, Meals: 0, Order: dining.Naive, Detect: time.Second},
		{Philosophers: 5, Meals: 1, Order: "random", Detect: time.Second},
		{Philosophers: 5, Meals: 1, Order: dining.Naive},
		{Philosophers: 5, Meals: 1, Order: dining.Naive, Detect: time.Second, Pause: -1},
	} {
		if _, err := dining.Run(context.Background(), cfg); !errors.Is(err, dining.ErrInvalid) {
			t.Errorf("%+v: err = %v, want ErrInvalid", cfg, err)
		}
	}
}

// TestStressTables runs long ordered and waiter tables with random delays,
// checking fork exclusion on every event, and many naive tables, each of
// which must end in a found deadlock or all its meals. Only with
// PMRUN_STRESS set (make stress).
func TestStressTables(t *testing.T) {
	if os.Getenv("PMRUN_STRESS") == "" {
		t.Skip("set PMRUN_STRESS=1 (make stress)")
	}
	for _, order := range []dining.Order{dining.Ordered, dining.Waiter} {
		cfg := dining.Config{Philosophers: 7, Meals: 3000, Order: order, Jitter: 50 * time.Microsecond,
			Detect: 500 * time.Millisecond, Seed: 3}
		var mu sync.Mutex
		holder := map[int]int{}
		bad := 0
		cfg.OnEvent = func(e dining.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case dining.ForkTaken:
				if _, held := holder[e.Fork]; held {
					bad++
				}
				holder[e.Fork] = e.Philosopher
			case dining.ForkReleased:
				delete(holder, e.Fork)
			}
		}
		res, err := dining.Run(context.Background(), cfg)
		if err != nil || !res.OK || bad > 0 {
			t.Fatalf("%s: %+v, %v, %d forks taken while held", order, res, err, bad)
		}
	}
	deadlocks := 0
	for i := range 200 {
		cfg := naive(2 + i%7)
		cfg.Pause, cfg.Jitter, cfg.Seed, cfg.Detect = time.Duration(i%3)*time.Millisecond, time.Millisecond, int64(i), 30*time.Millisecond
		res, err := dining.Run(context.Background(), cfg)
		if err != nil || res.OK == res.Deadlock {
			t.Fatalf("table %d: %+v, %v", i, res, err)
		}
		if res.Deadlock {
			deadlocks++
		}
	}
	t.Logf("%d of 200 naive tables deadlocked", deadlocks)
	noPhilosophersLeft(t)
}

// TestNobodyEatsAfterTheDeadlock: once the deadlock is declared (and
// OnDeadlock called, once, with the cycle the result gives), no fork is
// taken and no meal begun, although the philosophers cancelled first put
// forks down that their neighbours were waiting for.
func TestNobodyEatsAfterTheDeadlock(t *testing.T) {
	for try := 0; try < 10; try++ {
		cfg := naive(5)
		var mu sync.Mutex
		declared, calls := false, 0
		var seen []dining.Link
		var after []string
		cfg.OnDeadlock = func(c []dining.Link) {
			mu.Lock()
			declared, seen = true, c
			calls++
			mu.Unlock()
		}
		cfg.OnEvent = func(e dining.Event) {
			mu.Lock()
			defer mu.Unlock()
			if declared && (e.Kind == dining.ForkTaken || e.Kind == dining.MealStarted) {
				after = append(after, dining.Name(e.Philosopher)+" "+e.Kind)
			}
		}
		res, err := dining.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Deadlock {
			continue
		}
		if calls != 1 || len(seen) != len(res.Cycle) {
			t.Errorf("OnDeadlock called %d times with %v; the result's cycle is %v", calls, seen, res.Cycle)
		}
		if len(after) > 0 {
			t.Errorf("after the deadlock was declared: %v", after)
		}
	}
}
