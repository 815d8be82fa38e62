package barrier_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/barrier"
	"github.com/pmrun/pmrun/actions/internal/osthread"
)

func noWorkersLeft(t *testing.T) {
	t.Helper()
	tasks, err := osthread.Tasks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if strings.HasPrefix(task.Name, "worker-") {
			t.Errorf("thread %+v still in /proc/self/task after Run", task)
		}
	}
}

// TestTwoPhaseHoldsEveryone checks, from the events, that no worker
// starts a round before every worker has arrived at the previous round's
// barrier, for several sizes, with and without work.
func TestTwoPhaseHoldsEveryone(t *testing.T) {
	for _, cfg := range []barrier.Config{
		{Workers: 2, Rounds: 200},
		{Workers: 5, Rounds: 100, Jitter: 300 * time.Microsecond, Seed: 1},
		{Workers: 9, Rounds: 30, WorkTime: 100 * time.Microsecond, Jitter: time.Millisecond, Seed: 2},
	} {
		cfg.Kind = barrier.TwoPhase
		var mu sync.Mutex
		arrived := map[int]int{} // round -> arrivals
		var problems []string
		cfg.OnEvent = func(e barrier.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case barrier.EventArrive:
				arrived[e.Round]++
			case barrier.EventWork:
				if e.Round > 1 && arrived[e.Round-1] != cfg.Workers {
					problems = append(problems, barrier.WorkerName(e.Worker)+" started a round early")
				}
			}
		}
		res, err := barrier.Run(context.Background(), cfg)
		if err != nil || !res.OK || res.Early != 0 || res.Stalled || res.Rounds != cfg.Rounds {
			t.Fatalf("%d workers: %+v, %v", cfg.Workers, res, err)
		}
		if len(problems) > 0 {
			t.Errorf("%d workers: %d problems, first: %s", cfg.Workers, len(problems), problems[0])
		}
		total := 0
		for _, n := range res.Last {
			total += n
		}
		if total != cfg.Rounds {
			t.Errorf("%d workers: last arrivals add up to %d, want a round each: %v", cfg.Workers, total, res.Last)
		}
		noWorkersLeft(t)
	}
}

// TestOneTurnstileLetsAWorkerLap: the classic mistake lets a worker through
// a barrier early and then jams; Run reports both and stops the workers
// instead of hanging.
func TestOneTurnstileLetsAWorkerLap(t *testing.T) {
	cfg := barrier.Config{Workers: 4, Rounds: 50, Kind: barrier.OneTurnstile, Jitter: 200 * time.Microsecond, Stall: 100 * time.Millisecond}
	var res barrier.Result
	for try := 0; try < 5 && res.Early == 0; try++ {
		cfg.Seed = int64(try)
		var err error
		if res, err = barrier.Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	if res.Early == 0 || res.OK {
		t.Fatalf("no early departure in 5 runs: %+v", res)
	}
	t.Logf("%+v", res)
	noWorkersLeft(t)
}

func TestNoBarrier(t *testing.T) {
	res, err := barrier.Run(context.Background(), barrier.Config{Workers: 4, Rounds: 20, Kind: barrier.None, Jitter: time.Millisecond})
	if err != nil || res.Early == 0 || res.OK {
		t.Fatalf("%+v, %v", res, err)
	}
}

func TestContextStops(t *testing.T) {
	cfg := barrier.Config{Workers: 4, Rounds: 5, Kind: barrier.TwoPhase, WorkTime: time.Minute}
	ctx, cancel := context.WithTimeoutCause(context.Background(), 50*time.Millisecond, errors.New("step timed out"))
	defer cancel()
	_, err := barrier.Run(ctx, cfg)
	if err == nil || !strings.Contains(err.Error(), "step timed out") {
		t.Fatalf("err = %v", err)
	}
	noWorkersLeft(t)
}

func TestBadConfig(t *testing.T) {
	for _, cfg := range []barrier.Config{
		{Workers: 1, Rounds: 1, Kind: barrier.TwoPhase},
		{Workers: 2, Rounds: 0, Kind: barrier.TwoPhase},
		{Workers: 2, Rounds: 1, Kind: "wall"},
		{Workers: 2, Rounds: 1, Kind: barrier.TwoPhase, WorkTime: -1},
	} {
		if _, err := barrier.Run(context.Background(), cfg); !errors.Is(err, barrier.ErrInvalid) {
			t.Errorf("%+v: err = %v", cfg, err)
		}
	}
}

// TestStressTwoPhase: thousands of rounds with no work between barriers,
// where a lapping worker would show at once. Only with PMRUN_STRESS set
// (make stress).
func TestStressTwoPhase(t *testing.T) {
	if os.Getenv("PMRUN_STRESS") == "" {
		t.Skip("set PMRUN_STRESS=1 (make stress)")
	}
	for _, n := range []int{2, 8, 17} {
		res, err := barrier.Run(context.Background(), barrier.Config{Workers: n, Rounds: 5000, Kind: barrier.TwoPhase, Stall: 5 * time.Second})
		if err != nil || !res.OK || res.Early != 0 {
			t.Fatalf("%d workers: %+v, %v", n, res, err)
		}
	}
	noWorkersLeft(t)
}

// TestLongWorkIsNoStall: a round's work longer than the default stall's
// 100ms base is progress, not a stall; a stall no longer than the work is
// refused.
func TestLongWorkIsNoStall(t *testing.T) {
	res, err := barrier.Run(context.Background(), barrier.Config{Workers: 2, Rounds: 2, Kind: barrier.TwoPhase,
		WorkTime: 150 * time.Millisecond, Stall: 200 * time.Millisecond})
	if err != nil || !res.OK || res.Stalled {
		t.Fatalf("%+v, %v", res, err)
	}
	_, err = barrier.Run(context.Background(), barrier.Config{Workers: 2, Rounds: 2, Kind: barrier.TwoPhase,
		WorkTime: 200 * time.Millisecond, Stall: 50 * time.Millisecond})
	if !errors.Is(err, barrier.ErrInvalid) || !strings.Contains(err.Error(), "no longer than a round's work") {
		t.Fatalf("err = %v", err)
	}
}

// TestSlowWorkerIsNoStall: a worker held up outside the barrier (here in
// its event callback, as a loaded machine would hold it off the CPU) for
// longer than the stall limit, while the others sleep at the barrier, is
// not a jam: the run goes on and finishes every round.
func TestSlowWorkerIsNoStall(t *testing.T) {
	cfg := barrier.Config{Kind: barrier.TwoPhase, Workers: 3, Rounds: 3, Stall: 20 * time.Millisecond}
	var once sync.Once
	cfg.OnEvent = func(e barrier.Event) {
		if e.Kind == barrier.EventArrive && e.Worker == 0 {
			once.Do(func() { time.Sleep(10 * cfg.Stall) })
		}
	}
	res, err := barrier.Run(context.Background(), cfg)
	if err != nil || !res.OK || res.Stalled || res.Rounds != cfg.Rounds {
		t.Fatalf("a slow worker was taken for a jam: %+v, %v", res, err)
	}
	noWorkersLeft(t)
}
