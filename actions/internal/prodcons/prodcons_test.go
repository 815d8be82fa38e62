package prodcons

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/sem"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

// TestMain doubles as a worker process: PRODCONS_HELPER selects what the
// process does with the region it gets as fd 3.
func TestMain(m *testing.M) {
	mode := os.Getenv("PRODCONS_HELPER")
	if mode == "" {
		os.Exit(m.Run())
	}
	index, _ := strconv.Atoi(os.Getenv("PRODCONS_INDEX"))
	w := Worker{Role: Role(os.Getenv("PRODCONS_ROLE")), Index: index}
	r, err := shm.Open(os.NewFile(3, "region"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	switch mode {
	case "worker":
		err = RunWorker(r, w, nil, nil)
	case "die-holding-mutex":
		err = dieHoldingMutex(r, w)
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// dieHoldingMutex registers as worker w, takes the run's mutex and kills
// itself inside the critical section: a worker crashing at the worst time.
func dieHoldingMutex(r *shm.Region, w Worker) error {
	l, err := attach(r)
	if err != nil {
		return err
	}
	st := l.statsOf(w)
	st.pid.Store(uint32(os.Getpid()))
	st.state.Store(stateRunning)
	if err := l.ctl.mutex.Lock(nil, 0); err != nil {
		return err
	}
	return syscall.Kill(os.Getpid(), syscall.SIGKILL)
}

// helperLauncher starts each worker as this test binary in a helper mode
// that mode chooses per worker.
func helperLauncher(mode func(Worker) string) Launcher {
	return func(ctx context.Context, w Worker, region *shm.Region) (func(context.Context) error, error) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(),
			// Under -race a child otherwise lingers a second at exit.
			"GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0",
			"PRODCONS_HELPER="+mode(w),
			"PRODCONS_ROLE="+string(w.Role),
			"PRODCONS_INDEX="+strconv.Itoa(w.Index))
		cmd.ExtraFiles = []*os.File{region.File()}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		return func(ctx context.Context) error {
			var err error
			select {
			case err = <-exited:
			case <-ctx.Done():
				cmd.Process.Kill()
				err = <-exited
			}
			if err != nil {
				return fmt.Errorf("%w: %s", err, strings.TrimSpace(stderr.String()))
			}
			return nil
		}, nil
	}
}

func workers(Worker) string { return "worker" }

// mode runs a configuration one way: as threads or as processes.
type mode struct {
	name string
	run  func(context.Context, Config) (Result, error)
}

var modes = []mode{
	{"threads", Run},
	{"processes", func(ctx context.Context, c Config) (Result, error) {
		return RunProcesses(ctx, c, helperLauncher(workers))
	}},
}

// checkInvariants fails t unless res shows every item of cfg produced and
// consumed exactly once, with the occupancy kept in range.
func checkInvariants(t *testing.T, cfg Config, res Result) {
	t.Helper()
	if !res.OK || res.Produced != cfg.Items || res.Consumed != cfg.Items || res.Lost != 0 ||
		res.Duplicates != 0 || res.Overflow != 0 {
		t.Fatalf("result %+v breaks the invariants for %d items", res, cfg.Items)
	}
	if res.MaxOccupancy < 1 || res.MaxOccupancy > cfg.Buffer {
		t.Errorf("max occupancy %d outside [1, %d]", res.MaxOccupancy, cfg.Buffer)
	}
	sum := 0
	for p, n := range res.PerProducer {
		want := cfg.Items / cfg.Producers
		if p < cfg.Items%cfg.Producers {
			want++
		}
		if n != want {
			t.Errorf("producer %d made %d items, want %d", p, n, want)
		}
		sum += n
	}
	if sum != cfg.Items || len(res.PerProducer) != cfg.Producers {
		t.Errorf("per producer %v, want %d producers summing to %d", res.PerProducer, cfg.Producers, cfg.Items)
	}
	sum = 0
	for _, n := range res.PerConsumer {
		sum += n
	}
	if sum != cfg.Items || len(res.PerConsumer) != cfg.Consumers {
		t.Errorf("per consumer %v, want %d consumers summing to %d", res.PerConsumer, cfg.Consumers, cfg.Items)
	}
	if res.Duration <= 0 || res.Throughput <= 0 {
		t.Errorf("duration %v, throughput %v", res.Duration, res.Throughput)
	}
}

var shapes = []struct {
	name string
	cfg  Config
}{
	{"1p1c", Config{Producers: 1, Consumers: 1, Buffer: 5, Items: 1000}},
	{"4p4c", Config{Producers: 4, Consumers: 4, Buffer: 8, Items: 2000}},
	{"8p2c", Config{Producers: 8, Consumers: 2, Buffer: 4, Items: 2000}},
	{"buffer1", Config{Producers: 3, Consumers: 3, Buffer: 1, Items: 600}},
	{"buffer1000", Config{Producers: 2, Consumers: 2, Buffer: 1000, Items: 5000}},
	{"remainder", Config{Producers: 3, Consumers: 5, Buffer: 2, Items: 7}},
	{"fewer-items-than-workers", Config{Producers: 4, Consumers: 4, Buffer: 2, Items: 2}},
	{"jitter", Config{Producers: 2, Consumers: 2, Buffer: 2, Items: 40,
		ProduceTime: 100 * time.Microsecond, Jitter: 300 * time.Microsecond, Seed: 1}},
}

func TestInvariantsHold(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		for _, s := range shapes {
			t.Run(m.name+"/"+s.name, func(t *testing.T) {
				res, err := m.run(t.Context(), s.cfg)
				if err != nil {
					t.Fatal(err)
				}
				checkInvariants(t, s.cfg, res)
			})
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	res, err := Run(t.Context(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, Config{Producers: 1, Consumers: 1, Buffer: 5, Items: 10}, res)
}

func TestTraceSeesEachItemOnce(t *testing.T) {
	t.Parallel()
	cfg := Config{Producers: 3, Consumers: 2, Buffer: 3, Items: 300, Trace: true}
	var mu sync.Mutex
	produced, consumed := map[Item]int{}, map[Item]int{}
	cfg.OnEvent = func(e Event) {
		mu.Lock()
		defer mu.Unlock()
		if e.Occupancy < 0 || e.Occupancy > cfg.Buffer || e.Time.IsZero() {
			t.Errorf("event %+v: occupancy or time out of range", e)
		}
		switch {
		case e.Kind == ItemProduced && e.Worker.Role == Producer && e.Worker.Index == e.Item.Producer:
			produced[e.Item]++
		case e.Kind == ItemConsumed && e.Worker.Role == Consumer:
			consumed[e.Item]++
		default:
			t.Errorf("unexpected event %+v", e)
		}
	}
	res, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, cfg, res)
	mu.Lock()
	defer mu.Unlock()
	if len(produced) != cfg.Items || len(consumed) != cfg.Items {
		t.Fatalf("%d items seen produced, %d consumed, want %d each", len(produced), len(consumed), cfg.Items)
	}
	for it, n := range produced {
		if n != 1 || consumed[it] != 1 || it.Seq < 0 || it.Seq >= cfg.Items/cfg.Producers {
			t.Errorf("item %+v produced %d times, consumed %d", it, n, consumed[it])
		}
	}
}

func TestNoTraceWithoutTraceFlag(t *testing.T) {
	t.Parallel()
	called := false
	_, err := Run(t.Context(), Config{Items: 20, OnEvent: func(Event) { called = true }})
	if err != nil {
		t.Fatal(err)
	}
	if called {
		t.Error("OnEvent called although Trace is false")
	}
}

// TestSyncNoneShowsTheRace: without the guards, some run of a few shows a
// lost or duplicated item or an occupancy out of range. Every run must end.
func TestSyncNoneShowsTheRace(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg := Config{Producers: 2, Consumers: 2, Buffer: 4, Items: 2000, Sync: SyncNone}
			const runs = 5
			for i := range runs {
				res, err := m.run(t.Context(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("run %d: ok=%v produced=%d consumed=%d lost=%d duplicates=%d overflow=%d",
					i, res.OK, res.Produced, res.Consumed, res.Lost, res.Duplicates, res.Overflow)
				if !res.OK {
					if res.Lost+res.Duplicates+res.Overflow == 0 && res.Produced == cfg.Items {
						t.Fatalf("run not ok but no violation counted: %+v", res)
					}
					return
				}
			}
			t.Fatalf("sync none: no violation in %d runs", runs)
		})
	}
}

// TestKilledWorkerFailsTheRun: a worker killed inside the critical section
// fails the run with an error naming it; nobody hangs on the mutex.
func TestKilledWorkerFailsTheRun(t *testing.T) {
	t.Parallel()
	victim := Worker{Role: Producer, Index: 0}
	launch := helperLauncher(func(w Worker) string {
		if w == victim {
			return "die-holding-mutex"
		}
		return "worker"
	})
	cfg := Config{Producers: 2, Consumers: 2, Buffer: 2, Items: 1000}
	res, err := RunProcesses(t.Context(), cfg, launch)
	if !errors.Is(err, sem.ErrOwnerDead) {
		t.Fatalf("RunProcesses = %v, want ErrOwnerDead", err)
	}
	if !strings.Contains(err.Error(), "producer 0 (pid") || !strings.Contains(err.Error(), "died holding the mutex") {
		t.Errorf("error %q does not name the dead producer 0", err)
	}
	if !strings.Contains(err.Error(), "prodcons: producer 0: signal: killed") {
		t.Errorf("error %q does not say how producer 0 died", err)
	}
	if res.OK {
		t.Errorf("result ok after a worker died: %+v", res)
	}
}

// TestFailedLaunchStopsTheStarted: when a worker cannot be started, the
// ones already running are stopped and the error names the one that failed.
func TestFailedLaunchStopsTheStarted(t *testing.T) {
	t.Parallel()
	bad := Worker{Role: Producer, Index: 1}
	good := helperLauncher(workers)
	launch := func(ctx context.Context, w Worker, r *shm.Region) (func(context.Context) error, error) {
		if w == bad {
			return nil, errors.New("no such agent")
		}
		return good(ctx, w, r)
	}
	_, err := RunProcesses(t.Context(), Config{Producers: 2, Consumers: 2, Items: 100}, launch)
	if err == nil || !strings.Contains(err.Error(), "start producer 1: no such agent") {
		t.Fatalf("RunProcesses = %v, want the failed start of producer 1", err)
	}
}

func TestContextStopsTheRun(t *testing.T) {
	t.Parallel()
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			cause := errors.New("scenario timed out")
			cfg := Config{Producers: 2, Consumers: 2, Items: 100, ProduceTime: time.Hour}
			go func() {
				time.Sleep(20 * time.Millisecond)
				cancel(cause)
			}()
			res, err := m.run(ctx, cfg)
			if !errors.Is(err, cause) {
				t.Fatalf("run = %v, want the context's cause", err)
			}
			if res.OK || res.Consumed != 0 {
				t.Errorf("stopped run reports %+v", res)
			}
		})
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
	}{
		{"negative producers", Config{Producers: -1}},
		{"too many consumers", Config{Consumers: MaxWorkers + 1}},
		{"negative buffer", Config{Buffer: -3}},
		{"too many items", Config{Items: MaxItems + 1}},
		{"negative time", Config{ProduceTime: -time.Second}},
		{"unknown sync", Config{Sync: "mutexes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(t.Context(), tt.cfg); !errors.Is(err, ErrConfig) {
				t.Errorf("Run = %v, want ErrConfig", err)
			}
		})
	}
	if _, err := RunProcesses(t.Context(), Config{}, nil); !errors.Is(err, ErrConfig) {
		t.Errorf("RunProcesses without launcher = %v, want ErrConfig", err)
	}
}

func TestRunWorkerRejectsBadInput(t *testing.T) {
	t.Parallel()
	cfg, _ := Config{Producers: 2, Consumers: 1}.withDefaults()
	l, err := newLayout(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer l.region.Close()
	for _, w := range []Worker{{"janitor", 0}, {Producer, 2}, {Consumer, -1}} {
		if err := RunWorker(l.region, w, nil, nil); err == nil {
			t.Errorf("RunWorker(%v) succeeded", w)
		}
	}
	l.ctl.abort.Store(1) // so the first run of producer 0 ends at once
	if err := RunWorker(l.region, Worker{Producer, 0}, nil, nil); !errors.Is(err, sem.ErrCancelled) {
		t.Errorf("aborted RunWorker = %v, want ErrCancelled", err)
	}
	if err := RunWorker(l.region, Worker{Producer, 0}, nil, nil); err == nil || !strings.Contains(err.Error(), "already ran") {
		t.Errorf("second RunWorker of producer 0 = %v, want an error", err)
	}
	other, err := shm.Create("not-prodcons", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := RunWorker(other, Worker{Producer, 0}, nil, nil); err == nil {
		t.Error("RunWorker on a foreign region succeeded")
	}
}

func TestItemNumbering(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ p, items int }{{1, 10}, {3, 10}, {4, 2}, {5, 100}, {7, 7}} {
		cfg, _ := Config{Producers: c.p, Items: c.items}.withDefaults()
		l, err := newLayout(cfg)
		if err != nil {
			t.Fatal(err)
		}
		next := 0
		for p := range c.p {
			first, n := l.share(p)
			if first != next {
				t.Errorf("%d producers, %d items: producer %d starts at %d, want %d", c.p, c.items, p, first, next)
			}
			for k := range n {
				if got := l.itemOf(first + k); got != (Item{p, k}) {
					t.Errorf("itemOf(%d) = %+v, want {%d %d}", first+k, got, p, k)
				}
			}
			next += n
		}
		if next != c.items {
			t.Errorf("%d producers share %d items, want %d", c.p, next, c.items)
		}
		l.region.Close()
	}
}

func TestSeedRepeatsDelays(t *testing.T) {
	t.Parallel()
	draws := func(seed int64, w Worker) []int64 {
		cfg, _ := Config{Producers: 2, Consumers: 2, Seed: seed, Jitter: time.Second}.withDefaults()
		l, err := newLayout(cfg)
		if err != nil {
			t.Fatal(err)
		}
		defer l.region.Close()
		wk := newWorker(l, w, nil, nil)
		var out []int64
		for range 5 {
			out = append(out, int64(wk.extra.Next()))
		}
		return out
	}
	p0 := Worker{Producer, 0}
	if a, b := draws(7, p0), draws(7, p0); fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different delays: %v vs %v", a, b)
	}
	if a, b := draws(7, p0), draws(8, p0); fmt.Sprint(a) == fmt.Sprint(b) {
		t.Errorf("different seeds, same delays: %v", a)
	}
	if a, b := draws(7, p0), draws(7, Worker{Consumer, 0}); fmt.Sprint(a) == fmt.Sprint(b) {
		t.Errorf("producer 0 and consumer 0 share delays: %v", a)
	}
}

// TestRunsLeaveNothingBehind: after a run in either mode the process has the
// descriptors and threads it had before: the region is closed, the worker
// threads are gone and the worker processes reaped.
func TestRunsLeaveNothingBehind(t *testing.T) {
	count := func(dir string) int {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			cfg := Config{Producers: 3, Consumers: 3, Items: 300}
			if _, err := m.run(t.Context(), cfg); err != nil { // warm up the runtime's own threads
				t.Fatal(err)
			}
			fds, tasks := count("/proc/self/fd"), count("/proc/self/task")
			if _, err := m.run(t.Context(), cfg); err != nil {
				t.Fatal(err)
			}
			if got := count("/proc/self/fd"); got != fds {
				t.Errorf("fds: %d before the run, %d after", fds, got)
			}
			// The runtime may start an M or two of its own meanwhile; six
			// worker threads left over would be a leak.
			if got := count("/proc/self/task"); got > tasks+2 {
				t.Errorf("threads: %d before the run, %d after", tasks, got)
			}
		})
	}
}
