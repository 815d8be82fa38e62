package freerun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// prog returns a program of testdata/programs.yaml.
func prog(t *testing.T, name string) *program.Program {
	t.Helper()
	return programtest.Prog(t, "testdata/programs.yaml", name)
}

// replayed replays out's schedule on the model and checks that it ends as
// the free run did: the same verdict, steps and final values.
func replayed(t *testing.T, p *program.Program, out engine.Outcome, maxSteps int) {
	t.Helper()
	if err := out.Schedule.Check(p.Name(), p.TextHash()); err != nil {
		t.Fatal(err)
	}
	res, err := p.Run(program.Replay(out.Schedule.Steps), program.RunOptions{MaxSteps: maxSteps})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != out.Verdict || res.Steps != out.Steps || fmt.Sprint(res.Final.Final()) != fmt.Sprint(out.Final) {
		t.Fatalf("schedule %s replays to %s after %d steps, final %v; the free run ended %s after %d, final %v",
			out.Schedule, res.Verdict, res.Steps, res.Final.Final(), out.Verdict, out.Steps, out.Final)
	}
}

func TestCorrectProgramsPass(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"fixed", "fifo", "cond"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := prog(t, name)
			out, err := Run(t.Context(), p, Options{Runs: 20, Jitter: 200 * time.Microsecond, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			if !out.OK || out.Failures != 0 || out.Runs != 20 {
				t.Fatalf("%d of %d runs failed; shown: %v\n%s", out.Failures, out.Runs, out.Failure, out.Interleaving.Format())
			}
			replayed(t, p, out, 0)
		})
	}
}

// TestLostUpdateRecordsItsSchedule runs the lost update until a run loses
// one (work between the read and the write makes it likely; the test
// only needs one in many runs), and checks that every run's schedule,
// failing or not, replays on the model to the same end.
func TestLostUpdateRecordsItsSchedule(t *testing.T) {
	t.Parallel()
	p := prog(t, "lost")
	var mu sync.Mutex
	var schedules [][]int
	var verdicts []program.Verdict
	trace := map[int][]int{}
	opts := Options{Runs: 50, Work: time.Millisecond, Jitter: time.Millisecond, Seed: 1,
		Trace: func(e engine.StepInfo) {
			if !e.Wait {
				mu.Lock()
				trace[e.Run] = append(trace[e.Run], e.Thread)
				mu.Unlock()
			}
		},
		OnRun: func(r engine.RunInfo) {
			if !r.Start {
				mu.Lock()
				schedules = append(schedules, slices.Clone(trace[r.Run]))
				verdicts = append(verdicts, r.Verdict)
				mu.Unlock()
			}
		},
	}
	out, err := Run(t.Context(), p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if out.Failures == 0 {
		t.Fatalf("no lost update in %d runs with work and jitter", out.Runs)
	}
	if out.OK || out.Verdict != program.Expect || out.Final["count"] != int64(1) && fmt.Sprint(out.Final["count"]) != "1" {
		t.Fatalf("shown run: ok %v, verdict %s, final %v; want a lost update", out.OK, out.Verdict, out.Final)
	}
	replayed(t, p, out, 0)
	for i, steps := range schedules {
		res, err := p.Run(program.Replay(steps), program.RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != verdicts[i] || res.Steps != len(steps) {
			t.Errorf("run %d ended %s after %d steps, its schedule replays to %s after %d", i, verdicts[i], len(steps), res.Verdict, res.Steps)
		}
	}
	if !strings.Contains(out.Interleaving.Format(), "expect count == 2 failed") {
		t.Errorf("the interleaving does not end with the failure:\n%s", out.Interleaving.Format())
	}
}

func TestDeadlocksAreExactAndExplained(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		want  []string // in the explanation
		cycle bool     // each waits for what only the other would signal
	}{
		{"opposite", []string{"A", "B", "mutex m2", "mutex m1", "held by"}, true},
		{"rendezvous_wrong", []string{"A", "B", "semaphore b_arrived", "semaphore a_arrived"}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := prog(t, c.name)
			out, err := Run(t.Context(), p, Options{Runs: 5, Jitter: 100 * time.Microsecond, Seed: 3})
			if err != nil {
				t.Fatal(err)
			}
			if out.Failures != 5 || out.Verdict != program.Deadlock || !out.Deadlock {
				t.Fatalf("%d of 5 runs failed, shown %s; want every run deadlocked", out.Failures, out.Verdict)
			}
			for _, w := range c.want {
				if !strings.Contains(out.Explanation, w) {
					t.Errorf("explanation does not name %q:\n%s", w, out.Explanation)
				}
			}
			if (len(out.Cycle) > 0) != c.cycle {
				t.Errorf("cycle %v, want one: %v", out.Cycle, c.cycle)
			}
			replayed(t, p, out, 0)
		})
	}
}

// TestThreadsAreNamedOSThreads reads, from inside each step, the kernel's
// name of the thread that takes it.
func TestThreadsAreNamedOSThreads(t *testing.T) {
	t.Parallel()
	p := prog(t, "fixed")
	var mu sync.Mutex
	bad := map[string]string{}
	tids := map[string]int{}
	_, err := Run(t.Context(), p, Options{Trace: func(e engine.StepInfo) {
		comm, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/comm", e.TID))
		mu.Lock()
		defer mu.Unlock()
		tids[e.Name] = e.TID
		if got := strings.TrimSpace(string(comm)); err != nil || got != e.Name {
			bad[e.Name] = fmt.Sprintf("comm %q, %v", got, err)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("threads not named after the program's: %v", bad)
	}
	if len(tids) != 4 {
		t.Fatalf("steps were taken by %v, want 4 threads W0…W3", tids)
	}
	seen := map[int]bool{}
	for _, tid := range tids {
		if seen[tid] {
			t.Fatalf("two program threads share an OS thread: %v", tids)
		}
		seen[tid] = true
	}
	gone(t, tids)
}

// gone checks that none of the threads is left in the process.
func gone(t *testing.T, tids map[string]int) {
	t.Helper()
	for name, tid := range tids {
		comm, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/comm")
		if err == nil && strings.TrimSpace(string(comm)) == name {
			t.Errorf("thread %s (tid %d) is still in /proc/self/task", name, tid)
		}
	}
}

// TestBlockedThreadSleeps: W waits on a semaphore while S works 400ms; a
// thread that spun would burn that time on a CPU, one asleep on a futex
// word burns almost none.
func TestBlockedThreadSleeps(t *testing.T) {
	t.Parallel()
	p := prog(t, "sleeper")
	var cpu time.Duration
	var waited bool
	var wTID int
	_, err := Run(t.Context(), p, Options{Trace: func(e engine.StepInfo) {
		switch {
		case e.Wait && e.Name == "W":
			waited, wTID = true, e.TID
		case !e.Wait && e.Name == "S" && e.Op == program.OpSignal && waited:
			cpu = threadCPU(t, wTID)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !waited {
		t.Skip("W never had to wait: S signalled before W looked")
	}
	if cpu > 40*time.Millisecond {
		t.Fatalf("W used %s of CPU while it waited 400ms: it spins", cpu)
	}
}

// threadCPU reads the user and system time of thread tid.
func threadCPU(t *testing.T, tid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/task/%d/stat", tid))
	if err != nil {
		t.Error(err)
		return 0
	}
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
}

func TestMaxStepsEndsASpin(t *testing.T) {
	t.Parallel()
	p := prog(t, "spin")
	out, err := Run(t.Context(), p, Options{MaxSteps: 200})
	if err != nil {
		t.Fatal(err)
	}
	if out.Verdict != program.MaxSteps || out.Steps != 200 {
		t.Fatalf("verdict %s after %d steps, want max_steps after 200", out.Verdict, out.Steps)
	}
	replayed(t, p, out, 200)
}

func TestMutualExclusionBroken(t *testing.T) {
	t.Parallel()
	p := prog(t, "critical")
	out, err := Run(t.Context(), p, Options{Runs: 30, Work: time.Millisecond, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if out.Failures == 0 {
		t.Fatal("two threads never met in an unguarded critical region in 30 runs with 3ms inside it")
	}
	if out.Verdict != program.MutualExclusion {
		t.Fatalf("verdict %s, want mutual_exclusion", out.Verdict)
	}
	replayed(t, p, out, 0)
}

// TestCancelLeavesNoThread cancels a run while A works for an hour and B
// sleeps on a futex word: both end, and neither is left in the process.
func TestCancelLeavesNoThread(t *testing.T) {
	t.Parallel()
	p := prog(t, "long")
	ctx, cancel := context.WithCancelCause(t.Context())
	var mu sync.Mutex
	tids := map[string]int{}
	_, err := Run(ctx, p, Options{Trace: func(e engine.StepInfo) {
		mu.Lock()
		defer mu.Unlock()
		tids[e.Name] = e.TID
		if len(tids) == 2 {
			cancel(errors.New("the test is done"))
		}
	}})
	if err == nil || !strings.Contains(err.Error(), "the test is done") {
		t.Fatalf("Run = %v, want the cancellation's cause", err)
	}
	if len(tids) != 2 {
		t.Fatalf("threads seen: %v", tids)
	}
	gone(t, tids)
}

func TestDetectStopsAStall(t *testing.T) {
	t.Parallel()
	p := prog(t, "long")
	_, err := Run(t.Context(), p, Options{Detect: 50 * time.Millisecond})
	var stall *StallError
	if !errors.As(err, &stall) {
		t.Fatalf("Run = %v, want a StallError", err)
	}
	for _, want := range []string{"A is before signal s", "B waits for semaphore s"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: does not say %q", err, want)
		}
	}
}

// TestRunEndCutsWorkShort: the run is over (a deadlock: A waits on s,
// which nobody will signal) while B still sleeps in its hour of work; the
// run's end wakes B, and the next run begins on the same threads.
func TestRunEndCutsWorkShort(t *testing.T) {
	t.Parallel()
	p := prog(t, "cut")
	ctx, cancel := context.WithTimeoutCause(t.Context(), time.Minute, errors.New("B's work was not cut short"))
	defer cancel()
	out, err := Run(ctx, p, Options{Runs: 3})
	if err != nil {
		t.Fatal(err)
	}
	if out.Runs != 3 || out.Failures != 3 || out.Verdict != program.Deadlock {
		t.Fatalf("%d runs, %d failed, shown %s; want 3 deadlocks", out.Runs, out.Failures, out.Verdict)
	}
}
