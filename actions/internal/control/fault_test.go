package control

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// TestWatchdog: a thread held outside the scheduler's control (here in the
// trace callback) fails the search with an error that names it; once it
// comes back it ends, and no thread is left. A takes the first step, B is
// held in its own.
func TestWatchdog(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	p := prog(t, "lost")
	sched := schedule.Schedule{Program: "lost", Hash: p.TextHash(), Steps: []int{0, 1, 0, 1}}
	out, err := Replay(t.Context(), p, sched, Options{Watchdog: 100 * time.Millisecond,
		Trace: func(s engine.StepInfo) {
			if s.Name == "B" {
				<-release
			}
		}})
	var stuck *StuckError
	if !errors.As(err, &stuck) || stuck.Thread != "B" || !strings.Contains(err.Error(), "thread B did not come back to the scheduler within 100ms") {
		t.Fatalf("got %v, want B named as stuck", err)
	}
	if out.Complete {
		t.Error("a stopped replay says it is complete")
	}
	close(release)
	gone(t, tids(out)...)
}

// TestCancelLeavesNoThread: ending the context in the middle of a search
// (a step's timeout, Ctrl-C) stops it with the cause, and by the time
// Search returns none of its threads is left.
func TestCancelLeavesNoThread(t *testing.T) {
	t.Parallel()
	for _, sched := range []string{Random, PCT, Exhaustive} {
		t.Run(sched, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancelCause(t.Context())
			defer cancel(nil)
			interrupt := errors.New("interrupted")
			runs := 0
			name := "barrier"
			var explored func(states, transitions int)
			if sched == Exhaustive { // a search of states, on the model: no runs to count
				name = "counter3"
				explored = func(_, transitions int) {
					if transitions >= 20 {
						cancel(interrupt)
					}
				}
				runs = -1_000_000
			}
			out, err := Search(ctx, prog(t, name), Options{Scheduler: sched, Runs: 1_000_000, Seed: 1, Explored: explored,
				OnRun: func(r engine.RunInfo) {
					if r.Run < 0 {
						return // PCT's probe
					}
					if runs++; runs == 20 {
						cancel(interrupt)
					}
				}})
			if !errors.Is(err, interrupt) {
				t.Fatalf("got %v, want the cause", err)
			}
			if out.Complete || out.Runs < 20 {
				t.Errorf("complete %v after %d runs", out.Complete, out.Runs)
			}
			if out.OK || out.Failures == 0 && (out.Verdict != program.Incomplete || out.ScheduleText != "") {
				t.Errorf("ok %v, verdict %s with %d failures and schedule %q: a search stopped before it finished is never a pass", out.OK, out.Verdict, out.Failures, out.ScheduleText)
			}
			now := tasks(t)
			for _, tid := range tids(out) {
				if name, ok := now[tid]; ok {
					t.Errorf("thread %s (tid %d) is still there", name, tid)
				}
			}
		})
	}
}

// TestNoLeaks: thousands of runs, in one search and in many, leave no
// goroutine and no thread of the program behind.
func TestNoLeaks(t *testing.T) {
	src := `
leak:
  vars: {x: 0}
  mutexes: [m]
  threads:
    leakA: &body [lock: m, atomic_set: x = x + 1, unlock: m]
    leakB: *body
`
	p := programtest.One(t, src, "leak")
	goroutines := runtime.NumGoroutine()
	if _, err := Search(t.Context(), p, Options{Runs: 3000, Seed: 2}); err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		sched := []string{Random, PCT, Exhaustive}[i%3]
		if _, err := Search(t.Context(), p, Options{Scheduler: sched, Runs: 5, Seed: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for name := range tasksNamed(t, "leak") {
		t.Errorf("thread %s is still there", name)
	}
	// Goroutines of the runtime and the test framework come and go; ours
	// would stay. Give the others a moment to settle.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > goroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if g := runtime.NumGoroutine(); g > goroutines {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines, %d before:\n%s", g, goroutines, buf[:runtime.Stack(buf, true)])
	}
}

func tasksNamed(t *testing.T, prefix string) map[string]int {
	out := map[string]int{}
	for tid, name := range tasks(t) {
		if strings.HasPrefix(name, prefix) {
			out[fmt.Sprintf("%s (tid %d)", name, tid)] = tid
		}
	}
	return out
}

// TestCancelKeepsWhatWasFound: a search stopped after it found a failure
// still says what and how.
func TestCancelKeepsWhatWasFound(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	out, err := Search(ctx, prog(t, "opposite"), Options{Runs: 1_000_000, Seed: 1,
		OnRun: func(r engine.RunInfo) {
			if r.Failure != nil {
				cancel()
			}
		}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if out.OK || out.Verdict != program.Deadlock || !strings.HasPrefix(out.ScheduleText, "pmrun1:opposite:") {
		t.Errorf("ok %v, verdict %s, schedule %q", out.OK, out.Verdict, out.ScheduleText)
	}
}

// busyDriver takes n steps of thread 0, each working (on the CPU, as a
// search's own bookkeeping does) for work.
type busyDriver struct {
	n, done int
	work    time.Duration
}

func (d *busyDriver) Next() int {
	if d.done == d.n {
		return -1
	}
	return 0
}

func (d *busyDriver) Step(int) {
	for start := time.Now(); time.Since(start) < d.work; {
	}
	d.done++
}

// TestWatchdogSparesWork: a thread that holds the turn longer than the
// watchdog time while it works (a step of a big search: its bookkeeping,
// a slice that grows by gigabytes, the garbage collector's assists) is
// not stuck: only one that takes no step and no CPU time is. A 64-thread
// exhaustive search was once stopped so on a loaded machine.
func TestWatchdogSparesWork(t *testing.T) {
	t.Parallel()
	th, err := Start(prog(t, "lost"))
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	d := &busyDriver{n: 2, work: 300 * time.Millisecond}
	if err := th.Drive(t.Context(), d, 100*time.Millisecond); err != nil {
		t.Fatalf("a step that works for 3 watchdog times: %v", err)
	}
	if d.done != 2 {
		t.Errorf("%d steps taken, want 2", d.done)
	}
}
