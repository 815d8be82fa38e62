package place

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/prodcons"
	"github.com/pmrun/pmrun/actions/internal/sem"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

// These tests drive the agent side of a processes-mode run, runWorker,
// in this process: each "agent" is a goroutine handed its own descriptor of
// the region, as a real agent gets at spawn. The runner side through real
// agents is tested in prodcons_test.go.

// dupFile returns a new descriptor of f, as an agent receives it.
func dupFile(t *testing.T, f *os.File) *os.File {
	t.Helper()
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	return os.NewFile(uintptr(fd), "region")
}

// inProcessLauncher runs each worker with runWorker on a goroutine;
// callCtx, if set, gives a worker's call its context.
func inProcessLauncher(t *testing.T, emit Emitter, callCtx func(prodcons.Worker) context.Context) prodcons.Launcher {
	return func(ctx context.Context, w prodcons.Worker, region *shm.Region) (func(context.Context) error, error) {
		cctx := context.Background()
		if callCtx != nil {
			cctx = callCtx(w)
		}
		cctx, cancel := context.WithCancel(cctx)
		done := make(chan error, 1)
		files := []*os.File{dupFile(t, region.File())}
		go func() { done <- runWorker(cctx, files, WorkerArgs{Role: w.Role, Index: w.Index}, emit) }()
		return func(ctx context.Context) error {
			defer cancel()
			select {
			case err := <-done:
				return err
			case <-ctx.Done():
				cancel() // what the agent does when the runner gives up on the call
				return <-done
			}
		}, nil
	}
}

func TestAgentWorkerRunsEachRole(t *testing.T) {
	t.Parallel()
	for _, cfg := range []prodcons.Config{
		{Producers: 1, Consumers: 1, Buffer: 16, Items: 5000},
		{Producers: 4, Consumers: 4, Buffer: 8, Items: 4000},
		{Producers: 8, Consumers: 2, Buffer: 1, Items: 1000},
		{Producers: 2, Consumers: 2, Buffer: 1000, Items: 5000},
	} {
		t.Run("", func(t *testing.T) {
			t.Parallel()
			cfg.Trace = true
			var mu sync.Mutex
			events := map[string]map[string]int{}
			emit := func(event, msg string, kv ...any) {
				mu.Lock()
				defer mu.Unlock()
				fields := map[string]any{}
				for i := 0; i+1 < len(kv); i += 2 {
					fields[kv[i].(string)] = kv[i+1]
				}
				occ, _ := fields["occupancy"].(int)
				if fields["worker"] == nil || occ < 0 || occ > cfg.Buffer {
					t.Errorf("bad %s event %v", event, fields)
				}
				if events[event] == nil {
					events[event] = map[string]int{}
				}
				events[event][fields["item"].(string)]++
			}
			res, err := prodcons.RunProcesses(t.Context(), cfg, inProcessLauncher(t, emit, nil))
			if err != nil {
				t.Fatal(err)
			}
			if !res.OK || res.Consumed != cfg.Items || res.Produced != cfg.Items {
				t.Fatalf("result %+v for %d items", res, cfg.Items)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, kind := range []string{prodcons.ItemProduced, prodcons.ItemConsumed} {
				if len(events[kind]) != cfg.Items {
					t.Errorf("%d distinct items in %s events, want %d", len(events[kind]), kind, cfg.Items)
				}
				for item, n := range events[kind] {
					if n != 1 {
						t.Errorf("item %s in %d %s events", item, n, kind)
					}
				}
			}
		})
	}
}

// TestAgentWorkerCancelledCall: when the runner cancels the call, the
// worker stops at its next cancellation point, and the run ends naming it.
func TestAgentWorkerCancelledCall(t *testing.T) {
	t.Parallel()
	victim := prodcons.Worker{Role: prodcons.Producer, Index: 1}
	callCtx := func(w prodcons.Worker) context.Context {
		if w != victim {
			return context.Background()
		}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		return ctx
	}
	cfg := prodcons.Config{Producers: 2, Consumers: 2, Items: 100, ProduceTime: time.Hour}
	res, err := prodcons.RunProcesses(t.Context(), cfg, inProcessLauncher(t, nil, callCtx))
	if !errors.Is(err, sem.ErrCancelled) || !strings.Contains(err.Error(), "producer 1") {
		t.Fatalf("RunProcesses = %v, want producer 1 cancelled", err)
	}
	if res.OK || res.Consumed != 0 {
		t.Errorf("cancelled run reports %+v", res)
	}
}

func TestAgentWorkerBadInput(t *testing.T) {
	t.Parallel()
	foreign, err := shm.Create("not-prodcons", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer foreign.Close()
	tests := []struct {
		name  string
		files []*os.File
		args  string
		want  string
	}{
		{"no region", nil, `{"role":"producer","index":0}`, "without the shared region"},
		{"bad json", []*os.File{dupFile(t, foreign.File())}, `{"role":`, "bad arguments"},
		{"foreign region", []*os.File{dupFile(t, foreign.File())}, `{"role":"producer","index":0}`, "not a prodcons region"},
		{"not shared memory", []*os.File{dupFile(t, os.Stdin)}, `{"role":"consumer","index":0}`, "consumer 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range tt.files {
				defer f.Close() // already closed when the region was mapped
			}
			_, err := (&agentProcess{local: NewLocal("a", nil, nil), files: tt.files}).handlers()[opWorker.name](t.Context(), agent.Request{Args: json.RawMessage(tt.args)})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("prodcons.worker = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestAgentWorkerIsServed: agents serve the operation under the name the
// runner calls, in the one handler map Serve uses.
func TestAgentWorkerIsServed(t *testing.T) {
	t.Parallel()
	h, ok := (&agentProcess{local: NewLocal("a", nil, nil)}).handlers()[opWorker.name]
	if !ok {
		t.Fatalf("no agent operation %q", opWorker.name)
	}
	// Outside an agent there are no files: the handler says what is missing.
	if _, err := h(t.Context(), agent.Request{Args: json.RawMessage(`{"role":"producer","index":0}`)}); !errors.Is(err, errNoRegion) {
		t.Errorf("handler without files = %v, want errNoRegion", err)
	}
}
