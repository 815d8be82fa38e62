package actions_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var pcModes = []string{"threads", "processes"}

func prodconsStep(id string, params map[string]any) string {
	var kv []string
	for _, k := range []string{"producers", "consumers", "buffer", "items", "mode", "produce_time", "consume_time", "jitter", "sync", "trace"} {
		if v, ok := params[k]; ok {
			kv = append(kv, fmt.Sprintf("%s: %v", k, v))
		}
	}
	return fmt.Sprintf("  - id: %s\n    prodcons: {%s}\n", id, strings.Join(kv, ", "))
}

func TestProdconsInvariants(t *testing.T) {
	t.Parallel()
	shapes := []struct {
		name                         string
		producers, consumers, buf, n int
	}{
		{"1p1c", 1, 1, 5, 2000},
		{"4p4c", 4, 4, 8, 4000},
		{"8p2c", 8, 2, 4, 4000},
		{"buffer1", 3, 3, 1, 1000},
		{"buffer1000", 2, 2, 1000, 10000},
		{"remainder", 3, 5, 2, 7},
	}
	for _, mode := range pcModes {
		for _, s := range shapes {
			t.Run(mode+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				src := "name: invariants\nsteps:\n" + prodconsStep("pc", map[string]any{
					"producers": s.producers, "consumers": s.consumers, "buffer": s.buf, "items": s.n, "mode": mode})
				o := runScenario(t, src)
				r := o.step(t, "pc")
				if o.Status != "passed" || r.Status != "ok" {
					t.Fatalf("scenario %s, step %s: %v", o.Status, r.Status, r.Err)
				}
				res := r.Result
				if res["ok"] != true || res["produced"] != s.n || res["consumed"] != s.n || res["lost"] != 0 ||
					res["duplicates"] != 0 || res["overflow"] != 0 {
					t.Fatalf("result breaks the invariants for %d items: %v", s.n, res)
				}
				if occ := res["max_occupancy"].(int); occ < 1 || occ > s.buf {
					t.Errorf("max_occupancy %d outside [1, %d]", occ, s.buf)
				}
				perP, perC := res["per_producer"].([]int), res["per_consumer"].([]int)
				if len(perP) != s.producers || len(perC) != s.consumers {
					t.Fatalf("per_producer %v, per_consumer %v: want %d and %d entries", perP, perC, s.producers, s.consumers)
				}
				sum := 0
				for p, n := range perP {
					want := s.n / s.producers
					if p < s.n%s.producers {
						want++
					}
					if n != want {
						t.Errorf("producer %d made %d items, want %d", p, n, want)
					}
				}
				for _, n := range perC {
					sum += n
				}
				if sum != s.n {
					t.Errorf("consumers took %v, %d in all, want %d", perC, sum, s.n)
				}
				if res["throughput"].(float64) <= 0 || res["runtime"].(time.Duration) <= 0 {
					t.Errorf("throughput %v, runtime %v", res["throughput"], res["runtime"])
				}
				workers := res["workers"].([]string)
				if len(workers) != s.producers+s.consumers || !strings.HasSuffix(workers[0], "producer-0") ||
					!strings.HasSuffix(workers[len(workers)-1], fmt.Sprintf("consumer-%d", s.consumers-1)) {
					t.Errorf("workers %v", workers)
				}
				if mode == "processes" && !strings.HasPrefix(workers[0], "pc.") {
					t.Errorf("agent names %v do not start with the step id", workers)
				}
			})
		}
	}
}

// TestProdconsRaceIsDetected: with sync none the step succeeds and reports
// the violation (the lab asserts on it); a race depends on timing, so the
// step is retried as the lab does.
func TestProdconsRaceIsDetected(t *testing.T) {
	t.Parallel()
	for _, mode := range pcModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			src := `name: race
steps:
  - id: race
    prodcons: {producers: 2, consumers: 2, buffer: 4, items: 2000, sync: none, mode: ` + mode + `}
    retry: {until: 'result.status == "ok" && !result.ok', attempts: 20, interval: 1ms}
  - assert: steps.race.lost + steps.race.duplicates + steps.race.overflow > 0
`
			o := runScenario(t, src)
			r := o.step(t, "race")
			if o.Status != "passed" {
				t.Fatalf("scenario %s: %v; race result %v", o.Status, o.Err, r.Result)
			}
			if r.Result["ok"] != false || r.Status != "ok" {
				t.Errorf("race step: status %s, ok %v; want a successful step reporting ok false", r.Status, r.Result["ok"])
			}
		})
	}
}

// TestProdconsTrace: trace logs each item once as produced and once as
// consumed, with the worker, the occupancy and the buffer's size.
func TestProdconsTrace(t *testing.T) {
	t.Parallel()
	const items, buffer = 300, 3
	for _, mode := range pcModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			src := "name: trace\nsteps:\n" + prodconsStep("pc", map[string]any{
				"producers": 3, "consumers": 2, "buffer": buffer, "items": items, "mode": mode, "trace": true})
			o := runScenario(t, src)
			mustPass(t, o)
			for _, kind := range []string{"item_produced", "item_consumed"} {
				role := "producer-"
				if kind == "item_consumed" {
					role = "consumer-"
				}
				seen := map[string]int{}
				for _, ev := range o.events(t, kind) {
					worker, _ := ev["worker"].(string)
					item, _ := ev["item"].(string)
					occ, ok := ev["occupancy"].(float64)
					if !strings.HasPrefix(worker, role) || !strings.HasPrefix(item, "p") || !ok || occ < 0 || occ > buffer || ev["buffer"] != float64(buffer) ||
						ev["step_id"] != "pc" || ev["step"] != 0.0 || ev["action"] != "prodcons" {
						t.Fatalf("bad %s event %v", kind, ev)
					}
					if proc, _ := ev["process"].(string); mode == "processes" && proc != "pc."+worker {
						t.Errorf("%s event of %s from process %q", kind, worker, proc)
					}
					if kind == "item_produced" && !strings.HasPrefix(item, "p"+strings.TrimPrefix(worker, role)+"#") {
						t.Errorf("%s made item %s of another producer", worker, item)
					}
					seen[item]++
				}
				if len(seen) != items {
					t.Errorf("%d distinct items in %s events, want %d", len(seen), kind, items)
				}
				for item, n := range seen {
					if n != 1 {
						t.Errorf("item %s in %d %s events", item, n, kind)
					}
				}
			}
		})
	}
}

// TestProdconsStepTimeout: a step timeout stops the workers wherever they
// wait and the step fails saying so; nothing of the run is left.
func TestProdconsStepTimeout(t *testing.T) {
	t.Parallel()
	for _, mode := range pcModes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			src := `name: timeout
steps:
  - id: pc
    timeout: 200ms
    prodcons: {producers: 2, consumers: 2, items: 100, produce_time: 1h, mode: ` + mode + `}
`
			o := runScenario(t, src)
			r := o.step(t, "pc")
			if r.Status != "failed" || r.Err == nil || !strings.Contains(r.Err.Error(), "200ms") {
				t.Fatalf("step %s, error %v: want a failure naming the timeout", r.Status, r.Err)
			}
			if r.Result["ok"] != false || r.Result["consumed"] != 0 {
				t.Errorf("stopped run reports %v", r.Result)
			}
		})
	}
}

// TestProdconsLoadErrors: out-of-range numbers and unknown pcModes are
// rejected when the file is loaded, at the parameter's position.
func TestProdconsLoadErrors(t *testing.T) {
	t.Parallel()
	// The value of key sits at column 18+len(key) of "  - prodcons: {key: value}".
	at := func(key string) string { return fmt.Sprintf("bad.yaml:3:%d: %s: ", 18+len(key), key) }
	tests := []struct{ params, want string }{
		{"producers: 0", at("producers") + "0 is below the minimum 1"},
		{"consumers: 1025", at("consumers") + "1025 is above the maximum 1024"},
		{"buffer: 0", at("buffer") + "0 is below the minimum 1"},
		{"items: 0", at("items") + "0 is below the minimum 1"},
		{"items: 100000001", at("items") + "100000001 is above the maximum 100000000"},
		{"mode: thread", at("mode") + `"thread" is not one of threads, processes, did you mean "threads"?`},
		{"sync: mutex", at("sync") + `"mutex" is not one of semaphores, none`},
		{"jitter: fast", at("jitter") + "bad duration"},
		{"trace: maybe", at("trace") + "expected true or false"},
		{"consumer: 2", `bad.yaml:3:16: unknown key "consumer" in prodcons, did you mean "consumers"?`},
	}
	for _, tt := range tests {
		t.Run(tt.params, func(t *testing.T) {
			t.Parallel()
			src := "name: bad\nsteps:\n  - prodcons: {" + tt.params + "}\n"
			err := loadError("bad.yaml", src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("load error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestProdconsDefaults: a step without parameters runs the documented
// defaults. (That its result fields are the documented ones is
// TestResultsAreDocumented's, for every action.)
func TestProdconsDefaults(t *testing.T) {
	t.Parallel()
	o := runScenario(t, "name: defaults\nsteps:\n  - id: pc\n    prodcons: {}\n")
	r := o.step(t, "pc")
	if r.Status != "ok" {
		t.Fatalf("default prodcons: %v", r.Err)
	}
	if r.Result["produced"] != 10 || r.Result["per_producer"].([]int)[0] != 10 {
		t.Errorf("defaults: %v, want 10 items by 1 producer", r.Result)
	}
}

// TestProdconsKilledWorker: an agent worker killed in the middle of the run
// fails the step with an error naming the worker, and nothing hangs. The
// victim is often inside its critical section (there is no delay outside
// it); the package prodcons tests kill a worker exactly there. Not
// parallel: it finds the agents by their threads' names among this process's
// children, which must all be its own.
func TestProdconsKilledWorker(t *testing.T) {
	src := `name: killed
steps:
  - id: pc
    prodcons: {producers: 2, consumers: 2, buffer: 2, items: 10000000, mode: processes}
`
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	done := make(chan scenarioRun, 1)
	go func() {
		o := runScenarioCtx(t, ctx, src)
		done <- o
	}()
	var victim int
	for victim == 0 {
		select {
		case o := <-done:
			r := o.step(t, "pc")
			t.Fatalf("run ended before a worker could be killed: %s %v", r.Status, r.Err)
		case <-time.After(5 * time.Millisecond):
			victim = pcChildWithThread(t, "producer-0")
		}
	}
	time.Sleep(50 * time.Millisecond) // let it run into the thick of it
	if err := syscall.Kill(victim, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	o := <-done
	if ctx.Err() != nil {
		t.Fatal("the run hung after a worker was killed")
	}
	r := o.step(t, "pc")
	// Killed inside its critical section, the victim is also reported as
	// the dead holder of the mutex.
	want := fmt.Sprintf("prodcons: producer 0: agent pc.producer-0 (pid %d) killed by SIGKILL", victim)
	if r.Status != "failed" || r.Err == nil || !strings.Contains(r.Err.Error(), want) {
		t.Fatalf("step %s, error %v: want a failure saying %q", r.Status, r.Err, want)
	}
	if holder := fmt.Sprintf("producer 0 (pid %d, tid", victim); strings.Contains(r.Err.Error(), "holding the mutex") &&
		!strings.Contains(r.Err.Error(), holder) {
		t.Errorf("error %q blames another worker for the mutex", r.Err)
	}
	if r.Result["ok"] != false {
		t.Errorf("result ok after a worker was killed: %v", r.Result)
	}
	if pid := pcChildWithThread(t, "consumer-0"); pid != 0 {
		t.Errorf("worker agent %d still running after the step", pid)
	}
}

// pcChildWithThread returns the pid of a child of this process with a thread
// called name, or 0.
func pcChildWithThread(t *testing.T, name string) int {
	t.Helper()
	me := strconv.Itoa(os.Getpid())
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		status, err := os.ReadFile(filepath.Join(dir, "status"))
		if err != nil || !bytes.Contains(status, []byte("\nPPid:\t"+me+"\n")) {
			continue
		}
		comms, _ := filepath.Glob(filepath.Join(dir, "task", "*", "comm"))
		for _, c := range comms {
			if b, err := os.ReadFile(c); err == nil && strings.TrimSpace(string(b)) == name {
				pid, _ := strconv.Atoi(filepath.Base(dir))
				return pid
			}
		}
	}
	return 0
}

// TestProdconsGOMAXPROCS: a threads-mode run raises GOMAXPROCS while it
// runs, so that every worker thread can hold a P, and the setting is back
// once the last of several overlapping runs has ended; a run with more
// workers than get a P each leaves it alone. Not parallel: GOMAXPROCS is
// the whole process's.
func TestProdconsGOMAXPROCS(t *testing.T) {
	before := runtime.GOMAXPROCS(0)
	// highest runs src and returns the highest GOMAXPROCS seen meanwhile.
	highest := func(src string) int {
		done := make(chan scenarioRun, 1)
		go func() {
			o := runScenario(t, src)
			done <- o
		}()
		most := 0
		for {
			most = max(most, runtime.GOMAXPROCS(0))
			select {
			case o := <-done:
				if o.Status != "passed" {
					t.Fatalf("scenario %s: %v", o.Status, o.Err)
				}
				if after := runtime.GOMAXPROCS(0); after != before {
					t.Errorf("GOMAXPROCS %d after the runs, %d before", after, before)
				}
				return most
			case <-time.After(time.Millisecond):
			}
		}
	}
	most := highest(`name: procs
steps:
  - id: a
    background: true
    prodcons: {producers: 2, consumers: 2, items: 20, produce_time: 10ms}
  - id: b
    background: true
    prodcons: {producers: 1, consumers: 1, items: 10, produce_time: 10ms}
`)
	if most < before+4 {
		t.Errorf("GOMAXPROCS went up to %d during the runs, from %d: want a P for each worker", most, before)
	}
	// The cap, max(16, 8 × CPUs) workers, plus one.
	side := max(16, 8*runtime.NumCPU())/2 + 1
	most = highest(fmt.Sprintf(`name: crowd
steps:
  - prodcons: {producers: %d, consumers: %d, items: %d, produce_time: 1ms}
`, side, side, 2*side))
	if most != before {
		t.Errorf("GOMAXPROCS went up to %d during a run of %d workers, from %d: want it left alone", most, 2*side, before)
	}
}

// TestProdconsLeavesNothingBehind: after a run the process has the
// descriptors and threads it had before. Not parallel: it counts the
// process's threads.
func TestProdconsLeavesNothingBehind(t *testing.T) {
	count := func(dir string) int {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	src := "name: leak\nsteps:\n" + prodconsStep("pc", map[string]any{"producers": 4, "consumers": 4, "items": 4000})
	runScenario(t, src) // warm up the runtime's own threads
	fds := count("/proc/self/fd")
	o := runScenario(t, src)
	if o.Status != "passed" {
		t.Fatalf("scenario %s: %v", o.Status, o.Err)
	}
	if got := count("/proc/self/fd"); got != fds {
		t.Errorf("fds: %d before the run, %d after", fds, got)
	}
	// The thread count may grow: while GOMAXPROCS is raised the runtime
	// may start Ms, which it keeps idle afterwards. What must be gone are
	// the workers' own threads.
	comms, _ := filepath.Glob("/proc/self/task/*/comm")
	for _, c := range comms {
		if b, err := os.ReadFile(c); err == nil && (bytes.HasPrefix(b, []byte("producer-")) || bytes.HasPrefix(b, []byte("consumer-"))) {
			t.Errorf("thread %s still there", bytes.TrimSpace(b))
		}
	}
}

// TestStressProdcons runs 10,000,000 items in each mode; only with
// PMRUN_STRESS set (make stress).
func TestStressProdcons(t *testing.T) {
	if os.Getenv("PMRUN_STRESS") == "" {
		t.Skip("set PMRUN_STRESS=1 (make stress)")
	}
	for _, shape := range []string{
		"{producers: 1, consumers: 1, buffer: 16, items: 10000000, mode: threads}",
		"{producers: 4, consumers: 4, buffer: 16, items: 10000000, mode: threads}",
		"{producers: 1, consumers: 1, buffer: 16, items: 10000000, mode: processes}",
		"{producers: 4, consumers: 4, buffer: 16, items: 10000000, mode: processes}",
	} {
		t.Run(shape, func(t *testing.T) {
			o := runScenario(t, "name: stress\nsteps:\n  - id: pc\n    prodcons: "+shape+"\n")
			r := o.step(t, "pc")
			if o.Status != "passed" || r.Result["ok"] != true || r.Result["consumed"] != 10000000 {
				t.Fatalf("scenario %s: %v; result %v", o.Status, o.Err, r.Result)
			}
			t.Logf("%s: %.0f items/s", shape, r.Result["throughput"])
		})
	}
}
