package osthread_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/sem"
)

func comm(t *testing.T, tid int) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/comm")
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSuffix(string(b), "\n")
}

func taskAlive(tid int) bool {
	_, err := os.Stat("/proc/self/task/" + strconv.Itoa(tid))
	return err == nil
}

func countTasks(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// findTask returns tid's entry in Tasks of this process, failing if absent.
func findTask(t *testing.T, tid int) osthread.Task {
	t.Helper()
	tasks, err := osthread.Tasks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if task.TID == tid {
			return task
		}
	}
	t.Fatalf("Tasks lacks tid %d", tid)
	return osthread.Task{}
}

func idle(t *osthread.Thread) error { return t.Idle() }

// stop cancels and joins th, failing the test if it does not end cancelled.
func stop(t *testing.T, th *osthread.Thread) osthread.Exit {
	t.Helper()
	if err := th.Cancel(); err != nil {
		t.Fatal(err)
	}
	exit, err := th.Wait(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if exit.State != osthread.Cancelled {
		t.Fatalf("thread %s ended %s (%v), want cancelled", th.Name(), exit.State, exit.Err)
	}
	return exit
}

func TestNameAndTIDInProc(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, comm string }{
		{"pm-worker-1", "pm-worker-1"},
		{"a-very-long-thread-name", "a-very-long-thr"},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th, err := osthread.Start(tt.name, idle)
			if err != nil {
				t.Fatal(err)
			}
			if th.TID() == os.Getpid() {
				t.Fatal("thread runs on the main thread")
			}
			if th.PID() != os.Getpid() || th.Name() != tt.name || th.Started().IsZero() {
				t.Fatalf("PID %d Name %q Started %v", th.PID(), th.Name(), th.Started())
			}
			if got := comm(t, th.TID()); got != tt.comm {
				t.Errorf("comm = %q, want %q", got, tt.comm)
			}
			// Idle blocks, so the thread shows as sleeping once it gets there.
			for task := findTask(t, th.TID()); task.State != "sleeping"; task = findTask(t, th.TID()) {
				if task.Name != tt.comm {
					t.Fatalf("Tasks shows %+v, want name %q", task, tt.comm)
				}
				time.Sleep(time.Millisecond)
			}
			stop(t, th)
			if taskAlive(th.TID()) {
				t.Errorf("tid %d still in /proc/self/task after Wait", th.TID())
			}
		})
	}
}

func TestMainThreadKeepsItsName(t *testing.T) {
	before := comm(t, os.Getpid())
	var threads []*osthread.Thread
	for i := range 20 {
		th, err := osthread.Start("renamer-"+strconv.Itoa(i), idle)
		if err != nil {
			t.Fatal(err)
		}
		threads = append(threads, th)
	}
	for _, th := range threads {
		stop(t, th)
	}
	if after := comm(t, os.Getpid()); after != before {
		t.Fatalf("main thread renamed from %q to %q", before, after)
	}
	if !taskAlive(os.Getpid()) {
		t.Fatal("main thread gone")
	}
}

func TestCancelAtEachCancellationPoint(t *testing.T) {
	t.Parallel()
	blocked := sem.New(0)
	tests := []struct {
		name string
		body func(*osthread.Thread) error
	}{
		{"idle", func(t *osthread.Thread) error { return t.Idle() }},
		{"sleep", func(t *osthread.Thread) error { return t.Sleep(time.Hour) }},
		{"spin", func(t *osthread.Thread) error { return t.Spin(time.Hour) }},
		{"semaphore", func(t *osthread.Thread) error { return blocked.P(t, 0) }},
		{"testcancel", func(t *osthread.Thread) error {
			for {
				if err := t.TestCancel(); err != nil {
					return err
				}
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var cleaned atomic.Bool
			th, err := osthread.Start(tt.name, func(th *osthread.Thread) error {
				defer cleaned.Store(true)
				return tt.body(th)
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.name == "semaphore" {
				// Cancel must wake a thread asleep in the futex, not find it awake.
				for blocked.Waiters() == 0 {
					time.Sleep(time.Millisecond)
				}
			}
			exit := stop(t, th)
			if !errors.Is(exit.Err, osthread.ErrCancelled) {
				t.Errorf("Err = %v, want ErrCancelled", exit.Err)
			}
			if exit.CancelLatency <= 0 || exit.Runtime < exit.CancelLatency {
				t.Errorf("CancelLatency %v, Runtime %v", exit.CancelLatency, exit.Runtime)
			}
			if !cleaned.Load() {
				t.Error("deferred cleanup did not run")
			}
			if taskAlive(th.TID()) {
				t.Errorf("tid %d still in /proc/self/task after Wait", th.TID())
			}
		})
	}
}

// TestMutexRecordsHolderThread: a Thread is the Canceler that lets a
// sem.Mutex name the thread holding it.
func TestMutexRecordsHolderThread(t *testing.T) {
	t.Parallel()
	m := sem.NewMutex()
	locked := make(chan struct{})
	th, err := osthread.Start("holder", func(th *osthread.Thread) error {
		if err := m.Lock(th, 0); err != nil {
			return err
		}
		defer m.Unlock()
		close(locked)
		return th.Idle()
	})
	if err != nil {
		t.Fatal(err)
	}
	<-locked
	if pid, tid := m.Owner(); pid != os.Getpid() || tid != th.TID() {
		t.Errorf("Owner = %d/%d, want %d/%d", pid, tid, os.Getpid(), th.TID())
	}
	stop(t, th)
	if pid, _ := m.Owner(); pid != 0 {
		t.Errorf("mutex still held by %d after the thread's cleanup", pid)
	}
}

func TestCancelMisuseIsAnError(t *testing.T) {
	t.Parallel()
	done, err := osthread.Start("quick", func(*osthread.Thread) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	exit, err := done.Wait(t.Context())
	if err != nil || exit.State != osthread.Finished || exit.Err != nil {
		t.Fatalf("Wait = %+v, %v; want finished", exit, err)
	}
	err = done.Cancel()
	if !errors.Is(err, osthread.ErrFinished) || !strings.Contains(err.Error(), `"quick"`) {
		t.Errorf("Cancel of a finished thread = %v, want ErrFinished naming it", err)
	}

	th, err := osthread.Start("twice", idle)
	if err != nil {
		t.Fatal(err)
	}
	if err := th.Cancel(); err != nil {
		t.Fatal(err)
	}
	if err := th.Cancel(); !errors.Is(err, osthread.ErrAlreadyCancelled) || !strings.Contains(err.Error(), `"twice"`) {
		t.Errorf("second Cancel = %v, want ErrAlreadyCancelled naming it", err)
	}
	if exit, err := th.Wait(t.Context()); err != nil || exit.State != osthread.Cancelled {
		t.Fatalf("Wait = %+v, %v", exit, err)
	}
}

func TestEndStates(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	tests := []struct {
		name   string
		body   func(*osthread.Thread) error
		cancel bool
		want   osthread.State
		err    error
	}{
		{"finished", func(*osthread.Thread) error { return nil }, false, osthread.Finished, nil},
		{"failed", func(*osthread.Thread) error { return boom }, false, osthread.Failed, boom},
		{"panicked", func(*osthread.Thread) error { panic("bad") }, false, osthread.Failed, nil},
		// Returning ErrCancelled without a Cancel is the body's own failure.
		{"fake-cancel", func(*osthread.Thread) error { return osthread.ErrCancelled }, false, osthread.Failed, osthread.ErrCancelled},
		// Cancelled, but the body ignores it and returns nil: it finished.
		{"ignores-cancel", func(t *osthread.Thread) error { <-time.After(0); t.Idle(); return nil }, true, osthread.Finished, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			th, err := osthread.Start(tt.name, tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.cancel {
				if err := th.Cancel(); err != nil {
					t.Fatal(err)
				}
			}
			exit, err := th.Wait(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if exit.State != tt.want {
				t.Errorf("State = %s (%v), want %s", exit.State, exit.Err, tt.want)
			}
			if tt.err != nil && !errors.Is(exit.Err, tt.err) {
				t.Errorf("Err = %v, want %v", exit.Err, tt.err)
			}
			if tt.name == "panicked" && (exit.Err == nil || !strings.Contains(exit.Err.Error(), "bad")) {
				t.Errorf("Err = %v, want the panic value", exit.Err)
			}
		})
	}
}

func TestWaitGivesUpWithContext(t *testing.T) {
	t.Parallel()
	th, err := osthread.Start("waited", idle)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := th.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a done context = %v, want context.Canceled", err)
	}
	stop(t, th)
}

func TestStartRejectsBadInput(t *testing.T) {
	t.Parallel()
	if _, err := osthread.Start("nul\x00name", idle); err == nil {
		t.Error("Start with a NUL in the name succeeded")
	}
	if _, err := osthread.Start("nobody", nil); err == nil {
		t.Error("Start with a nil body succeeded")
	}
}

func TestTasksOfMissingProcess(t *testing.T) {
	t.Parallel()
	// PIDs above pid_max (at most 2^22) never exist.
	if _, err := osthread.Tasks(1 << 23); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Tasks of a missing pid = %v, want fs.ErrNotExist", err)
	}
}

// TestThousandThreadsLeaveNoThreads starts, cancels and joins 1,000 threads
// and checks that every one of them is gone from /proc/self/task: a locked
// goroutine's exit takes its OS thread along. The total count is not exact,
// because the runtime's own pool of Ms moves: a new locked goroutine may
// start on (and so consume) an idle M, and the runtime may start a few Ms for
// itself meanwhile. Measured: from 6-8 tasks before to 7-8 after in plain
// runs, up to 5 more under -race with repeated runs; a leak would be
// hundreds.
func TestThousandThreadsLeaveNoThreads(t *testing.T) {
	const n = 1000
	before := countTasks(t)
	threads := make([]*osthread.Thread, 0, 100)
	for i := 0; i < n; i += cap(threads) {
		threads = threads[:0]
		for j := range cap(threads) {
			th, err := osthread.Start("bulk-"+strconv.Itoa(i+j), idle)
			if err != nil {
				t.Fatal(err)
			}
			threads = append(threads, th)
		}
		// Each thread is an OS thread of its own, not the main thread.
		tids := map[int]bool{os.Getpid(): true}
		for _, th := range threads {
			if tids[th.TID()] || !taskAlive(th.TID()) {
				t.Fatalf("thread %s has tid %d: shared or not in /proc/self/task", th.Name(), th.TID())
			}
			tids[th.TID()] = true
		}
		for _, th := range threads {
			stop(t, th)
		}
	}
	after := countTasks(t)
	t.Logf("tasks: %d before, %d after %d threads", before, after, n)
	tasks, err := osthread.Tasks(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	for _, task := range tasks {
		if strings.HasPrefix(task.Name, "bulk-") {
			t.Errorf("joined thread %+v still in /proc/self/task", task)
		}
	}
	if after > before+8 {
		t.Fatalf("tasks: %d before, %d after creating and joining %d threads", before, after, n)
	}
}

func BenchmarkStartCancelJoin(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		th, err := osthread.Start("bench", idle)
		if err != nil {
			b.Fatal(err)
		}
		th.Cancel()
		if _, err := th.Wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// TestOnExitRunsBeforeTheJoin: the OnExit hook runs on the thread itself,
// sees the outcome Wait gives, and has run by the time Done is closed and
// Wait returns, so an event it logs comes before anyone learns of the end.
func TestOnExitRunsBeforeTheJoin(t *testing.T) {
	t.Parallel()
	type call struct {
		tid  int
		exit osthread.Exit
	}
	calls := make(chan call, 2)
	th, err := osthread.Start("hooked", idle, osthread.OnExit(func(th *osthread.Thread, e osthread.Exit) {
		calls <- call{unix.Gettid(), e}
	}))
	if err != nil {
		t.Fatal(err)
	}
	exit := stop(t, th)
	select {
	case c := <-calls:
		if c.tid != th.TID() {
			t.Errorf("OnExit ran on tid %d, want the thread's own %d", c.tid, th.TID())
		}
		if c.exit != exit {
			t.Errorf("OnExit saw %+v, Wait gave %+v", c.exit, exit)
		}
	default:
		t.Fatal("Wait returned before OnExit ran")
	}
	if len(calls) != 0 {
		t.Error("OnExit ran twice")
	}
}

// TestWaitAfterTheThreadIsGone joins threads long after they ended, and
// twice: the join has nothing left to wait for and gives the same outcome.
func TestWaitAfterTheThreadIsGone(t *testing.T) {
	t.Parallel()
	th, err := osthread.Start("early", func(*osthread.Thread) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for taskAlive(th.TID()) {
		time.Sleep(time.Millisecond)
	}
	for range 2 {
		exit, err := th.Wait(t.Context())
		if err != nil || exit.State != osthread.Finished {
			t.Fatalf("Wait = %+v, %v; want finished", exit, err)
		}
	}
}

// TestSleepEndsOnItsOwn: Sleep returns nil once its time is up, and not
// before.
func TestSleepEndsOnItsOwn(t *testing.T) {
	t.Parallel()
	const d = 20 * time.Millisecond
	th, err := osthread.Start("sleeper", func(t *osthread.Thread) error { return t.Sleep(d) })
	if err != nil {
		t.Fatal(err)
	}
	exit, err := th.Wait(t.Context())
	if err != nil || exit.State != osthread.Finished || exit.Runtime < d {
		t.Fatalf("Wait = %+v, %v; want finished after %v", exit, err, d)
	}
}

// TestCancelAndJoin: idle threads are cancelled, finished ones left alone,
// and only a failed one is reported, by name; none is left afterwards.
// AllDone closes only then.
func TestCancelAndJoin(t *testing.T) {
	var threads []*osthread.Thread
	for _, body := range []func(*osthread.Thread) error{
		idle,
		func(*osthread.Thread) error { return nil },
		func(*osthread.Thread) error { return errors.New("broke") },
		func(th *osthread.Thread) error { return th.Sleep(0) },
	} {
		th, err := osthread.Start(fmt.Sprintf("caj-%d", len(threads)), body)
		if err != nil {
			t.Fatal(err)
		}
		threads = append(threads, th)
	}
	<-threads[1].Done()
	all := osthread.AllDone(threads)
	select {
	case <-all:
		t.Fatal("AllDone closed while an idle thread runs")
	case <-time.After(20 * time.Millisecond):
	}
	failed := osthread.CancelAndJoin(threads)
	select {
	case <-all:
	case <-time.After(10 * time.Second):
		t.Fatal("AllDone not closed after every thread was joined")
	}
	if len(failed) != 1 || failed[0].Error() != "caj-2: broke" {
		t.Fatalf("failed = %v, want only caj-2's error", failed)
	}
	for _, th := range threads {
		select {
		case <-th.Done():
		default:
			t.Errorf("%s not joined", th.Name())
		}
		if taskAlive(th.TID()) {
			t.Errorf("%s still in /proc/self/task", th.Name())
		}
	}
}

// TestStartGated: no body runs before every thread has started; a name
// that cannot be started stops and joins the ones started before it.
func TestStartGated(t *testing.T) {
	names := []string{"sg-0", "sg-1", "sg-2", "sg-3"}
	var mu sync.Mutex
	var early []string
	var looked sync.WaitGroup // every body has looked, before any is stopped
	looked.Add(len(names))
	threads, err := osthread.StartGated(names, func(i int, th *osthread.Thread) error {
		tasks, err := osthread.Tasks(os.Getpid())
		if err != nil {
			looked.Done()
			return err
		}
		seen := 0
		for _, task := range tasks {
			if strings.HasPrefix(task.Name, "sg-") {
				seen++
			}
		}
		if seen != len(names) {
			mu.Lock()
			early = append(early, fmt.Sprintf("%s ran with %d of %d started", names[i], seen, len(names)))
			mu.Unlock()
		}
		looked.Done()
		return th.Idle()
	})
	if err != nil {
		t.Fatal(err)
	}
	looked.Wait()
	if failed := osthread.CancelAndJoin(threads); len(failed) > 0 {
		t.Fatal(failed)
	}
	if len(early) > 0 {
		t.Errorf("bodies ran before every thread had started: %v", early)
	}

	var ran atomic.Bool
	_, err = osthread.StartGated([]string{"sgb-0", "sgb-1", "bad\x00name"}, func(int, *osthread.Thread) error {
		ran.Store(true)
		return nil
	})
	if err == nil || ran.Load() {
		t.Fatalf("err = %v, a body ran: %v", err, ran.Load())
	}
	tasks, _ := osthread.Tasks(os.Getpid())
	for _, task := range tasks {
		if strings.HasPrefix(task.Name, "sgb-") {
			t.Errorf("%+v left behind by a failed StartGated", task)
		}
	}
}
