package actions_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/place"
	"github.com/pmrun/pmrun/runner/lang"
)

// gone waits, a bounded time, for tid to leave process pid's task list.
func gone(t *testing.T, pid, tid int) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 5*time.Second; time.Sleep(time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d", pid, tid)); errors.Is(err, os.ErrNotExist) {
			return
		}
	}
	t.Errorf("thread %d still in /proc/%d/task", tid, pid)
}

// TestThreadsInRunner starts each kind of thread in the runner and checks
// the kernel's view of them: their TIDs under /proc/self/task, their names
// in comm (a long one cut to 15 bytes), list {threads}, then terminate and
// wait, the latency, the events, and that they are gone afterwards.
func TestThreadsInRunner(t *testing.T) {
	t.Parallel()
	r := runTestdata(t, "threads_in_runner.yaml")
	mustPass(t, r)
	pid := os.Getpid()
	comms := map[string]string{"idle": "pm-idle", "spin": "a-very-long-thr", "nap": "pm-nap"}
	tids := map[string]int{}
	for id := range comms {
		res := r.step(t, id).Result
		if intField(t, res, "pid") != pid || res["in"] != "runner" {
			t.Errorf("%s: pid %v in %v, want %d in runner", id, res["pid"], res["in"], pid)
		}
		tids[id] = intField(t, res, "tid")
		if tids[id] == pid {
			t.Errorf("%s runs on the main thread", id)
		}
	}
	// The list was taken while they ran: each is there, by TID, with its
	// full name, its kernel name, and marked as pmrun's.
	items := r.step(t, "ls").Result["items"].([]any)
	for id, tid := range tids {
		var found map[string]any
		for _, it := range items {
			if m := it.(map[string]any); m["tid"] == tid {
				found = m
			}
		}
		if found == nil {
			t.Errorf("list lacks %s (tid %d): %v", id, tid, items)
			continue
		}
		name := r.step(t, id).Result["name"]
		if found["name"] != name || found["comm"] != comms[id] || found["pmrun"] != true || found["state"] == "" {
			t.Errorf("list item of %s = %v, want name %v, comm %s, pmrun", id, found, name, comms[id])
		}
	}
	for _, it := range r.step(t, "after").Result["items"].([]any) {
		if m := it.(map[string]any); m["pmrun"] == true {
			t.Errorf("a pmrun thread is listed after every one was joined: %v", m)
		}
	}
	for _, id := range []string{"stop_idle", "stop_spin"} {
		res := r.step(t, id).Result
		if res["state"] != "cancelled" || res["latency"].(time.Duration) <= 0 || res["runtime"].(time.Duration) < res["latency"].(time.Duration) {
			t.Errorf("%s: %v, want cancelled with a latency within the runtime", id, res)
		}
	}
	if res := r.step(t, "join_nap").Result; res["state"] != "finished" || res["runtime"].(time.Duration) < 20*time.Millisecond {
		t.Errorf("wait for the sleeper: %v, want finished after 20ms", res)
	}
	for id, tid := range tids {
		gone(t, pid, tid)
		name := r.step(t, id).Result["name"].(string)
		start, end := r.eventsOf(t, "thread_start", name), r.eventsOf(t, "thread_end", name)
		if len(start) != 1 || len(end) != 1 {
			t.Errorf("%s: %d thread_start and %d thread_end events, want one each", name, len(start), len(end))
			continue
		}
		for _, ev := range []map[string]any{start[0], end[0]} {
			if intField(t, ev, "tid") != tid || intField(t, ev, "pid") != pid || ev["state"] == "" {
				t.Errorf("%s: event %v, want tid %d, pid %d and a state", name, ev, tid, pid)
			}
		}
	}
}

// TestThreadNameInKernel looks for the threads in /proc/self/task while
// the scenario that started them still runs: the kernel knows them by the
// names given (the first 15 bytes, cut in the middle of a character if need
// be) and under the TIDs the steps report.
func TestThreadNameInKernel(t *testing.T) {
	t.Parallel()
	names := []string{"kernel-name-1", "ünïcode-and-then-some"}
	src := `
name: kernel
steps:
  - id: a
    thread: {name: ` + names[0] + `}
  - id: b
    thread: {name: "` + names[1] + `"}
  - sleep: 1m
`
	ctx, stop := context.WithCancel(t.Context())
	defer stop()
	seen := map[string]int{} // comm -> tid
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer stop() // ends the sleep: the run cleans up
		for start := time.Now(); time.Since(start) < 30*time.Second; time.Sleep(time.Millisecond) {
			ents, _ := os.ReadDir("/proc/self/task")
			for _, e := range ents {
				tid, _ := strconv.Atoi(e.Name())
				if c, err := taskComm(os.Getpid(), tid); err == nil {
					seen[c] = tid
				}
			}
			if seen[names[0]] != 0 && seen["ünïcode-and-t"] != 0 {
				return
			}
		}
	}()
	o := runScenarioCtx(t, ctx, src)
	<-done
	for i, name := range names {
		c := string([]byte(name)[:min(15, len(name))])
		tid := o.Steps[i].Result["tid"]
		if seen[c] == 0 || seen[c] != tid {
			t.Errorf("thread %q: /proc/self/task shows comm %q at tid %d, the step reports tid %v", name, c, seen[c], tid)
		}
		if tid, ok := tid.(int); ok {
			gone(t, os.Getpid(), tid)
		}
	}
}

// TestThreadLoadErrors: mistakes the file itself shows are load errors,
// with their position.
func TestThreadLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"duplicate name", `
name: x
steps:
  - thread: {name: t1}
  - thread: {name: t1, run: spin}
`, `x.yaml:5:5: duplicate thread name "t1" (first at line 4)`},
		{"in is not an agent", `
name: x
steps:
  - spawn: {name: p, cmd: [sleep, "1"]}
  - thread: {name: t1, in: p}
`, `x.yaml:5:28: thread: in: process "p" is not an agent: spawn it with agent: true`},
		{"in names nothing", `
name: x
steps:
  - thread: {name: t1, in: nobody}
`, `x.yaml:4:28: thread: in: no agent named "nobody"`},
		{"terminate an unknown thread", `
name: x
steps:
  - thread: {name: t1}
  - terminate: {thread: t2}
`, `x.yaml:5:25: terminate: thread: no thread named "t2"`},
		{"wait for an unknown thread", `
name: x
steps:
  - wait: {thread: t1}
`, `x.yaml:4:20: wait: thread: no thread named "t1"`},
		{"idle with for", `
name: x
steps:
  - thread: {name: t1, for: 1s}
`, `x.yaml:4:29: thread: for: an idle thread runs until terminated`},
		{"bad body", `
name: x
steps:
  - thread: {name: t1, run: nap}
`, `x.yaml:4:29: run: "nap" is not one of idle, sleep, spin`},
		{"empty name", `
name: x
steps:
  - thread: {name: ""}
`, `thread: name: a thread needs a name`},
		{"signal for a thread", `
name: x
steps:
  - thread: {name: t1}
  - terminate: {thread: t1, signal: SIGKILL}
`, `signal and grace apply to processes`},
		{"list threads of a plain process", `
name: x
steps:
  - spawn: {name: p, cmd: [sleep, "1"]}
  - list: {threads: p}
`, `list: threads: process "p" is not an agent`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := loadError("x.yaml", tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("load error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

// TestThreadRunErrors: what only running can tell is a clear step error:
// names computed at run time, a thread that ended or was terminated
// already.
func TestThreadRunErrors(t *testing.T) {
	t.Parallel()
	r := runTestdata(t, "thread_run_errors.yaml")
	mustPass(t, r)
	errs := map[string]string{
		"dup":       `thread "t1" already exists in runner (tid`,
		"not_agent": `in: process "plain" is not an agent`,
		"no_agent":  `in: no agent named "plainx"`,
		"unknown":   `no thread named "t1x" in this run`,
		"second":    `thread "t1" was already terminated`,
		"finished":  `thread "quick" already ended (finished after`,
		"ran_out":   `thread "runs-out" already ended (finished after`,
		"timed_out": `thread "t1" (tid`,
	}
	for id, want := range errs {
		s := r.step(t, id)
		if s.Status != lang.StatusFailed || s.Err == nil || !strings.Contains(s.Err.Error(), want) {
			t.Errorf("%s: status %s, error %v; want failed with %q", id, s.Status, s.Err, want)
		}
	}
	if res := r.step(t, "waited").Result; res["state"] != "cancelled" {
		t.Errorf("wait after terminate: %v, want the cancelled end again", res)
	}
	if r.step(t, "reused").Status != lang.StatusOK {
		t.Errorf("a joined thread's name could not be used again: %v", r.step(t, "reused").Err)
	}
}

// TestThreadsInAgent runs threads inside an agent: their TIDs and names are
// the agent's (/proc/AGENT/task), list {threads: AGENT} marks them,
// terminate and wait reach them, alive() asks the agent, and the thread_end
// events come from the agent through the runner's log.
func TestThreadsInAgent(t *testing.T) {
	t.Parallel()
	r := runTestdata(t, "threads_in_agent.yaml")
	mustPass(t, r)
	apid := intField(t, r.step(t, "w").Result, "pid")
	for _, id := range []string{"a", "b", "c"} {
		res := r.step(t, id).Result
		if intField(t, res, "pid") != apid || res["in"] != "w" {
			t.Errorf("%s: %v, want pid %d in w", id, res, apid)
		}
	}
	tid := intField(t, r.step(t, "a").Result, "tid")
	var marked bool
	for _, it := range r.step(t, "ls").Result["items"].([]any) {
		m := it.(map[string]any)
		if intField(t, m, "tid") == tid {
			marked = m["pmrun"] == true && m["name"] == "agent-idle" && m["comm"] == "agent-idle"
		}
	}
	if !marked {
		t.Errorf("list {threads: w} does not mark tid %d as agent-idle: %v", tid, r.step(t, "ls").Result["items"])
	}
	if res := r.step(t, "stop").Result; res["state"] != "cancelled" || res["latency"].(time.Duration) <= 0 || intField(t, res, "tid") != tid {
		t.Errorf("terminate in the agent: %v", res)
	}
	if res := r.step(t, "nap").Result; res["state"] != "finished" {
		t.Errorf("wait in the agent: %v", res)
	}
	for id, want := range map[string]string{
		"again":     `agent w: thread "agent-idle" was already terminated`,
		"dup":       `thread "agent-spin" already exists in w`,
		"timed_out": `thread "agent-spin" in agent w: wait: thread agent-spin still running after 20ms`,
	} {
		if s := r.step(t, id); s.Err == nil || !strings.Contains(s.Err.Error(), want) {
			t.Errorf("%s: error %v, want %q", id, s.Err, want)
		}
	}
	for _, name := range []string{"agent-idle", "agent-nap", "agent-spin"} {
		ends := r.eventsOf(t, "thread_end", name)
		if len(ends) != 1 || ends[0]["process"] != "w" || intField(t, ends[0], "pid") != apid {
			t.Errorf("%s: thread_end events %v, want one from process w", name, ends)
		}
	}
	// agent-spin was left running: the run's cleanup cancelled it.
	if ends := r.eventsOf(t, "thread_end", "agent-spin"); len(ends) == 1 && ends[0]["state"] != "cancelled" {
		t.Errorf("agent-spin ended %v at cleanup, want cancelled", ends[0]["state"])
	}
	if err := syscall.Kill(apid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("agent %d still there after the run: %v", apid, err)
	}
}

// TestAgentDiesWithThreads: an agent killed while it hosts threads makes
// the steps that use them fail, saying so, and the run still cleans up.
func TestAgentDiesWithThreads(t *testing.T) {
	t.Parallel()
	r := runTestdata(t, "agent_dies_with_threads.yaml")
	mustPass(t, r)
	for id, want := range map[string]string{
		"term":  `thread "doomed-1" is lost: agent w died (signal SIGKILL)`,
		"wait":  `thread "doomed-2" is lost: agent w died (signal SIGKILL)`,
		"list":  `threads: agent w died (signal SIGKILL)`,
		"start": `thread "doomed-3" cannot start: agent w died (signal SIGKILL)`,
	} {
		if s := r.step(t, id); s.Status != lang.StatusFailed || s.Err == nil || !strings.Contains(s.Err.Error(), want) {
			t.Errorf("%s: %s, %v; want failed with %q", id, s.Status, s.Err, want)
		}
	}
	if ends := r.eventsOf(t, "thread_end", "safe"); len(ends) != 1 || ends[0]["state"] != "cancelled" {
		t.Errorf("the runner's thread at cleanup: %v, want one cancelled thread_end", ends)
	}
}

// TestThreadsCleanedUp: threads left running when a scenario fails are
// cancelled and joined by the run's cleanup, and leave /proc/self/task.
func TestThreadsCleanedUp(t *testing.T) {
	t.Parallel()
	r := runScenario(t, `
name: cleanup
steps:
  - id: a
    thread: {name: left-idle}
  - id: b
    thread: {name: left-spin, run: spin}
  - assert: "false"
`)
	if r.Status != lang.StatusFailed {
		t.Fatalf("status %s, want failed", r.Status)
	}
	for _, id := range []string{"a", "b"} {
		res := r.step(t, id).Result
		gone(t, os.Getpid(), res["tid"].(int))
		if ends := r.eventsOf(t, "thread_end", res["name"].(string)); len(ends) != 1 || ends[0]["state"] != "cancelled" {
			t.Errorf("%s: thread_end events %v, want one, cancelled", id, ends)
		}
	}
}

// TestThousandThreads creates and terminates 1,000 threads in one run, and
// checks that the process's thread count comes back to where it was. The
// count is not exact, because the Go runtime's own pool of OS threads
// moves: a new locked goroutine may take an idle one, and the runtime may
// start a few for itself meanwhile (see osthread's
// TestThousandThreadsLeaveNoThreads); a leak would be hundreds. Not
// parallel, so no other test's threads come and go meanwhile.
func TestThousandThreads(t *testing.T) {
	const n = 1000
	var src strings.Builder
	src.WriteString("name: thousand\nsteps:\n")
	for i := range n {
		fmt.Fprintf(&src, "  - thread: {name: bulk-%d}\n  - terminate: {thread: bulk-%d}\n", i, i)
	}
	src.WriteString("  - id: after\n    list: {threads: runner}\n")
	runScenario(t, "name: warm\nsteps:\n  - thread: {name: warm}\n  - terminate: {thread: warm}\n")
	before := countTasks(t)
	r := runScenario(t, src.String())
	mustPass(t, r)
	after := countTasks(t)
	t.Logf("threads: %d before, %d after %d created and terminated", before, after, n)
	if after > before+8 {
		t.Errorf("threads: %d before, %d after creating and terminating %d", before, after, n)
	}
	for _, it := range r.step(t, "after").Result["items"].([]any) {
		if m := it.(map[string]any); strings.HasPrefix(m["comm"].(string), "bulk-") {
			t.Errorf("a terminated thread is still listed: %v", m)
		}
	}
	if ends := 0; true {
		for _, ev := range r.events(t) {
			if ev["event"] == "thread_end" && ev["state"] == "cancelled" {
				ends++
			}
		}
		if ends != n {
			t.Errorf("%d cancelled thread_end events, want %d", ends, n)
		}
	}
}

// TestStressThreads starts and ends thousands of threads in the runner
// and in two agents, with bodies of every kind, ended every way —
// terminated from steps running in the background beside each other,
// joined after they finished, left for the run's cleanup — and checks that
// each ends exactly once and that the runner's thread count comes back.
// Only with PMRUN_STRESS set (make stress).
func TestStressThreads(t *testing.T) {
	if os.Getenv("PMRUN_STRESS") == "" {
		t.Skip("set PMRUN_STRESS=1 (make stress)")
	}
	const rounds, width = 200, 10
	places := []string{"runner", "a1", "a2"}
	var src strings.Builder
	src.WriteString("name: stress\ntimeout: 30m\nsteps:\n  - spawn: {name: a1, agent: true}\n  - spawn: {name: a2, agent: true}\n")
	for i := range rounds {
		for j := range width {
			for _, in := range places {
				name := fmt.Sprintf("%s-%d-%d", in, i, j)
				switch j % 3 {
				case 0:
					fmt.Fprintf(&src, "  - thread: {name: %s, in: %s}\n", name, in)
				case 1:
					fmt.Fprintf(&src, "  - thread: {name: %s, in: %s, run: spin, for: 1ms}\n", name, in)
				default:
					fmt.Fprintf(&src, "  - thread: {name: %s, in: %s, run: sleep, for: 1ms}\n", name, in)
				}
			}
		}
		for j := range width {
			for _, in := range places {
				name := fmt.Sprintf("%s-%d-%d", in, i, j)
				switch {
				case i == rounds-1:
					// left running or unjoined: the cleanup's
				case j%3 == 0:
					fmt.Fprintf(&src, "  - terminate: {thread: %s}\n    background: true\n", name)
				default:
					fmt.Fprintf(&src, "  - wait: {thread: %s}\n", name)
				}
			}
		}
	}
	before := countTasks(t)
	r := runScenario(t, src.String())
	mustPass(t, r)
	ends := map[string]int{}
	for _, ev := range r.events(t) {
		if ev["event"] == "thread_end" {
			ends[ev["thread"].(string)]++
		}
	}
	for name, n := range ends {
		if n != 1 {
			t.Errorf("thread %s ended %d times", name, n)
		}
	}
	if want := rounds * width * len(places); len(ends) != want {
		t.Errorf("%d threads ended, want %d", len(ends), want)
	}
	if after := countTasks(t); after > before+8 {
		t.Errorf("threads: %d before, %d after", before, after)
	}
}

// TestThreadErrorsKeepTheirKind: a step's error about a thread matches the
// same sentinel whether the thread lives in the runner or in an agent (its
// error crossed the control socket), so callers can tell them apart with
// errors.Is rather than by their text.
func TestThreadErrorsKeepTheirKind(t *testing.T) {
	t.Parallel()
	r := runScenario(t, `
name: kinds
vars: {late: late}
steps:
  - spawn: {name: w, agent: true}
  - thread: {name: here}
  - thread: {name: there, in: w}
  - terminate: {thread: here}
  - terminate: {thread: there}
  - id: here_again
    terminate: {thread: here}
    continue_on_error: true
  - id: there_again
    terminate: {thread: there}
    continue_on_error: true
  - id: nobody
    wait: {thread: "${{ vars.late }}"}
    continue_on_error: true
`)
	mustPass(t, r)
	for id, want := range map[string]error{
		"here_again":  place.ErrThreadEnded,
		"there_again": place.ErrThreadEnded,
		"nobody":      place.ErrNoSuchThread,
	} {
		if err := r.step(t, id).Err; !errors.Is(err, want) {
			t.Errorf("%s: error %v does not match %q", id, err, want)
		}
	}
	if err := r.step(t, "there_again").Err; errors.Is(err, place.ErrNoSuchThread) || !strings.Contains(err.Error(), "agent w: ") {
		t.Errorf("there_again: %v, want it to name the agent and match only its own kind", err)
	}
}
