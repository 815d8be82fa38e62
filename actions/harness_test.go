package actions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
)

// The one harness of this package's scenario tests: a scenario, inline or
// a file under testdata/, is loaded and run in this process, as pmrun run
// would run it, so that the runner's threads and children are the test's
// own (/proc/self/task shows them), with seed 42 and its events kept.

// scenarioRun is a finished run: its outcome and the events it logged.
type scenarioRun struct {
	*lang.Outcome
	log *eventLog
}

// eventLog collects a run's JSON events; workers log concurrently.
type eventLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *eventLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// runWith changes how the harness loads or runs a scenario.
type runWith func(*runConfig)

// runConfig is how a scenario is loaded and run: against pmrun's actions,
// with seed 42, the program steps given nothing from a command line.
type runConfig struct {
	reg      *contract.Registry
	seed     uint64
	programs *actions.ProgramOptions
}

// withRegistry loads the scenario against reg.
func withRegistry(reg *contract.Registry) runWith { return func(c *runConfig) { c.reg = reg } }

// withSeed runs the scenario with seed.
func withSeed(seed uint64) runWith { return func(c *runConfig) { c.seed = seed } }

// withPrograms gives the program steps what a command line would (a
// terminal for scheduler: manual).
func withPrograms(o *actions.ProgramOptions) runWith {
	return func(c *runConfig) { c.programs = o }
}

// runScenario loads src and runs it with t's context.
func runScenario(t *testing.T, src string, with ...runWith) scenarioRun {
	t.Helper()
	return runScenarioCtx(t, t.Context(), src, with...)
}

// runScenarioCtx loads src and runs it with ctx.
func runScenarioCtx(t *testing.T, ctx context.Context, src string, with ...runWith) scenarioRun {
	t.Helper()
	name := strings.ReplaceAll(t.Name(), "/", "_") + ".yaml"
	return runNamed(t, ctx, name, []byte(src), with...)
}

// runTestdata loads testdata/name and runs it with t's context.
func runTestdata(t *testing.T, name string, with ...runWith) scenarioRun {
	t.Helper()
	src, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return runNamed(t, t.Context(), name, src, with...)
}

// runNamed loads src as the file name and runs it with ctx; an event
// logged but not declared fails the test.
func runNamed(t *testing.T, ctx context.Context, name string, src []byte, with ...runWith) scenarioRun {
	t.Helper()
	c := runConfig{reg: actions.Registry(), seed: 42}
	for _, w := range with {
		w(&c)
	}
	sc, err := lang.Parse(name, src, lang.LoadOptions{Registry: c.reg})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	log := &eventLog{}
	events := runner.NewEventLog(log, hclog.Info)
	events.CheckDeclared(c.reg, func(name string) { t.Errorf("event %q is logged but not declared", name) })
	opt := runner.Options{RunID: "test", Log: events, Seed: &c.seed, Grace: time.Second}
	if c.programs != nil {
		opt.SectionOptions = map[string]any{actions.ProgramsKey: c.programs}
	}
	return scenarioRun{Outcome: runner.Run(ctx, sc, opt), log: log}
}

// loadError is the error of loading src as the file name: nil when it
// loads.
func loadError(name, src string) error {
	_, err := lang.Parse(name, []byte(src), lang.LoadOptions{Registry: actions.Registry()})
	return err
}

// mustPass fails the test unless the scenario passed.
func mustPass(t *testing.T, r scenarioRun) {
	t.Helper()
	if r.Status != lang.StatusPassed {
		t.Fatalf("scenario %s: %v", r.Status, r.Err)
	}
}

// step returns the result of the step with id.
func (r scenarioRun) step(t *testing.T, id string) *lang.StepResult {
	t.Helper()
	for _, s := range r.Steps {
		if s.Step.ID == id {
			return s
		}
	}
	t.Fatalf("no step %q in the outcome (%s: %v)", id, r.Status, r.Err)
	return nil
}

// events returns the logged events of the given kinds (all without
// kinds), decoded, in the order they were logged.
func (r scenarioRun) events(t *testing.T, kinds ...string) []map[string]any {
	t.Helper()
	r.log.mu.Lock()
	defer r.log.mu.Unlock()
	var out []map[string]any
	for _, line := range bytes.Split(bytes.TrimSpace(r.log.b.Bytes()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var ev map[string]any
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		if kind, _ := ev["event"].(string); len(kinds) == 0 || slices.Contains(kinds, kind) {
			out = append(out, ev)
		}
	}
	return out
}

// eventsOf returns the events called name about thread.
func (r scenarioRun) eventsOf(t *testing.T, name, thread string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, ev := range r.events(t, name) {
		if ev["thread"] == thread {
			out = append(out, ev)
		}
	}
	return out
}

// intField returns a number of a result or an event.
func intField(t *testing.T, r map[string]any, key string) int {
	t.Helper()
	switch v := r[key].(type) {
	case int:
		return v
	case float64: // from JSON
		return int(v)
	}
	t.Fatalf("field %s = %#v, want a number", key, r[key])
	return 0
}

// countTasks is how many threads this process has.
func countTasks(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// taskComm reads the kernel's name of thread tid of process pid.
func taskComm(pid, tid int) (string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/comm", pid, tid))
	return strings.TrimSuffix(string(b), "\n"), err
}
