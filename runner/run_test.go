package runner_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

func mustParse(t *testing.T, src string) *lang.Scenario {
	t.Helper()
	sc, err := lang.Parse("t.yaml", []byte(src), lang.LoadOptions{Registry: probe.Registry()})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return sc
}

// syncBuffer is a log output that tests read while background steps write.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// has reports whether the log so far holds text.
func (s *syncBuffer) has(text string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Contains(s.b.String(), text)
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// events returns the logged events, decoded.
func (s *syncBuffer) events(t *testing.T) []map[string]any {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("log line is not JSON: %q: %v", line, err)
		}
		out = append(out, ev)
	}
	return out
}

func run(t *testing.T, ctx context.Context, src string) (*lang.Outcome, *syncBuffer) {
	t.Helper()
	return runInto(t, ctx, src, &syncBuffer{})
}

// runInto runs src with its events logged into buf.
func runInto(t *testing.T, ctx context.Context, src string, buf *syncBuffer) (*lang.Outcome, *syncBuffer) {
	t.Helper()
	log := runner.NewEventLog(buf, hclog.Debug)
	log.CheckDeclared(probe.Registry(), func(name string) { t.Errorf("event %q is logged but not declared", name) })
	o := runner.Run(ctx, mustParse(t, src), runner.Options{RunID: "r1", Log: log})
	return o, buf
}

func statuses(o *lang.Outcome) string {
	var s []string
	for _, r := range o.Steps {
		s = append(s, r.Status)
	}
	return strings.Join(s, " ")
}

func TestRunSteps(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		yaml     string
		status   string // of the scenario
		steps    string // statuses of the steps in the order they ended
		errorHas string // in the scenario's error
	}{
		{"if skips", `
name: s
vars: {on: false}
steps:
  - id: a
    log: x
    if: vars.on
  - assert: steps.a.status == "skipped" && last.status == "skipped"
`, "passed", "skipped ok", ""},
		{"if runs", `
name: s
steps:
  - log: x
    if: 1 < 2
  - assert: last.status == "ok"
`, "passed", "ok ok", ""},
		{"failure stops the scenario and finally runs", `
name: s
steps:
  - probe: {fail: boom}
  - log: never
finally:
  - log: cleanup
`, "failed", "failed ok", "boom"},
		{"continue on error", `
name: s
steps:
  - id: f
    probe: {fail: boom}
    continue_on_error: true
  - assert: steps.f.status == "failed" && steps.f.error == "boom"
`, "passed", "failed ok", ""},
		{"retry until holds", `
name: s
steps:
  - id: r
    probe: {n: 2}
    retry: {until: "result.attempt == 3", attempts: 5, interval: 1ms}
  - assert: steps.r.status == "ok" && steps.r.n == 2
`, "passed", "ok ok", ""},
		{"retry gives up", `
name: s
steps:
  - probe: {n: 2}
    retry: {until: "result.n == 3", attempts: 2, interval: 1ms}
`, "failed", "failed", "result.n == 3 still false after 2 attempts"},
		{"retry without until retries failures", `
name: s
steps:
  - probe: {fail: flaky}
    retry: {attempts: 3, interval: 1ms}
`, "failed", "failed", "after 3 attempts: flaky"},
		{"step timeout", `
name: s
steps:
  - sleep: 10s
    timeout: 20ms
`, "failed", "failed", "step 0 (sleep) timed out after 20ms"},
		{"scenario timeout", `
name: s
timeout: 30ms
steps:
  - sleep: 10s
finally:
  - log: still runs
`, "failed", "failed ok", "scenario s timed out after 30ms"},
		{"background joined", `
name: s
steps:
  - id: bg
    sleep: 20ms
    background: true
  - log: meanwhile
  - id: w
    wait: {step: bg}
  - assert: steps.w.result.status == "ok" && steps.bg.slept >= duration("20ms")
`, "passed", "ok ok ok ok", ""},
		// A step named by a template that only the run can work out:
		// waiting for itself, or in a cycle, fails at once, not at the
		// scenario's timeout.
		{"background step waits for itself", `
name: s
timeout: 1m
steps:
  - id: who
    probe: {text: bg}
  - id: bg
    background: true
    wait: {step: "${{ steps.who.text }}"}
  - wait: {step: bg}
`, "failed", "ok failed failed", `step "bg" waits for itself: it would never end`},
		{"background steps wait for each other", `
name: s
timeout: 1m
steps:
  - id: who
    probe: {text: b}
  - id: a
    background: true
    wait: {step: "${{ steps.who.text }}"}
    retry: {attempts: 20, interval: 10ms}
  - id: b
    background: true
    wait: {step: a}
    retry: {attempts: 20, interval: 10ms}
`, "failed", "ok failed failed", `background steps wait for each other in a cycle`},
		{"background failure at its join", `
name: s
steps:
  - id: bg
    probe: {fail: bad}
    background: true
  - wait: {step: bg}
  - log: never
`, "failed", "failed failed", `background step "bg (probe)" failed: bad`},
		{"background failure unjoined fails at the end", `
name: s
steps:
  - probe: {fail: lost}
    background: true
  - sleep: 10ms
`, "failed", "failed ok", "lost"},
		{"background failure allowed by continue_on_error", `
name: s
steps:
  - probe: {fail: tolerated}
    background: true
    continue_on_error: true
  - sleep: 10ms
`, "passed", "failed ok", ""},
		{"background cancelled when the scenario fails", `
name: s
steps:
  - sleep: 10s
    background: true
  - probe: {fail: first}
`, "failed", "failed failed", "first"},
		{"false assertion shows values", `
name: s
vars: {want: 3}
steps:
  - id: x
    probe: {n: 2}
  - assert: steps.x.n == vars.want
`, "failed", "ok failed", "steps.x.n = 2"},
		{"assert message", `
name: s
steps:
  - assert: {that: "1 > 2", message: "one is not more than two"}
`, "failed", "failed", "assertion failed: one is not more than two (1 > 2)"},
		{"run and env names", `
name: s
seed: 42
steps:
  - assert: run.seed == 42 && run.scenario == "s" && env.PMRUN_TEST_UNSET == "" && env.PATH != ""
`, "passed", "ok", ""},
		{"expression error at run time", `
name: s
vars: {m: {}}
steps:
  - assert: vars.m.a.b == 1
`, "failed", "failed", "cannot fetch b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			o, _ := run(t, t.Context(), tt.yaml)
			if o.Status != tt.status {
				t.Errorf("status %s, want %s (err %v)", o.Status, tt.status, o.Err)
			}
			if got := statuses(o); got != tt.steps {
				t.Errorf("steps %q, want %q", got, tt.steps)
			}
			if tt.errorHas != "" && (o.Err == nil || !strings.Contains(o.Err.Error(), tt.errorHas)) {
				t.Errorf("error %v, want it to contain %q", o.Err, tt.errorHas)
			}
			if tt.errorHas == "" && o.Err != nil {
				t.Errorf("unexpected error %v", o.Err)
			}
		})
	}
}

func TestRunInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	// Interrupt once the sleep has started, however slow the machine.
	buf := &syncBuffer{}
	go func() {
		for !buf.has(`"action":"sleep"`) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		cancel(runner.ErrInterrupted)
	}()
	o, log := runInto(t, ctx, `
name: s
steps:
  - sleep: 1m
  - log: never
finally:
  - log: cleanup
`, buf)
	if o.Status != lang.StatusInterrupted || !errors.Is(o.Err, runner.ErrInterrupted) {
		t.Fatalf("status %s err %v, want interrupted", o.Status, o.Err)
	}
	if got := statuses(o); got != "failed ok" {
		t.Errorf("steps %q, want the sleep failed and finally ok", got)
	}
	evs := log.events(t)
	last := evs[len(evs)-1]
	if last["event"] != "scenario_end" || last["status"] != "interrupted" || last["interrupted"] != true {
		t.Errorf("last event %v, want scenario_end interrupted", last)
	}
}

func TestRunEvents(t *testing.T) {
	t.Parallel()
	o, log := run(t, t.Context(), `
name: ev
seed: 9
steps:
  - id: hello
    log: hi
  - assert: "1 == 2"
`)
	if o.Status != lang.StatusFailed {
		t.Fatalf("status %s", o.Status)
	}
	var names []string
	for _, ev := range log.events(t) {
		names = append(names, ev["event"].(string))
		if ev["run_id"] != "r1" || ev["scenario"] != "ev" {
			t.Errorf("event %v lacks run_id or scenario", ev)
		}
		for _, k := range []string{"@timestamp", "@level", "@message"} {
			if _, ok := ev[k]; !ok {
				t.Errorf("event %v lacks %s", ev, k)
			}
		}
		switch ev["event"] {
		case "step_end":
			if _, ok := ev["duration_ms"]; !ok || ev["status"] == nil || ev["action"] == nil {
				t.Errorf("step_end %v lacks duration_ms, status or action", ev)
			}
		case "scenario_start":
			if ev["seed"] != float64(9) {
				t.Errorf("scenario_start seed %v, want 9", ev["seed"])
			}
		case "assert_failed":
			if ev["expression"] != "1 == 2" || ev["step"] != float64(1) {
				t.Errorf("assert_failed %v", ev)
			}
		}
	}
	want := "scenario_start step_start log step_end step_start assert_failed step_end scenario_end"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("events\n got %s\nwant %s", got, want)
	}
}

func TestSeedRepeats(t *testing.T) {
	t.Parallel()
	sc := mustParse(t, "name: s\nsteps:\n  - log: x\n")
	seed := uint64(12345)
	a := runner.Run(t.Context(), sc, runner.Options{Seed: &seed})
	b := runner.Run(t.Context(), sc, runner.Options{Seed: &seed})
	c := runner.Run(t.Context(), sc, runner.Options{})
	if a.Seed != 12345 || b.Seed != 12345 {
		t.Errorf("seeds %d %d, want 12345", a.Seed, b.Seed)
	}
	if c.Seed == 12345 {
		t.Errorf("a random seed came out as the fixed one")
	}
}

func TestVarOverride(t *testing.T) {
	t.Parallel()
	src := "name: s\nvars: {items: 1, extra: y}\nsteps:\n  - assert: vars.items == 500 && vars.extra == \"x\"\n"
	sc, err := lang.Parse("t.yaml", []byte(src), lang.LoadOptions{Registry: probe.Registry(), Vars: map[string]string{"items": "500", "extra": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if o := runner.Run(t.Context(), sc, runner.Options{}); o.Status != lang.StatusPassed {
		t.Fatalf("status %s: %v", o.Status, o.Err)
	}
}

// TestParamErrorNotRetried: a parameter the action refuses when the step
// runs (its value from a step's result) is a mistake in the scenario: the
// step fails at once with a lang.ParamError, without the retries that
// would only repeat it.
func TestParamErrorNotRetried(t *testing.T) {
	t.Parallel()
	sc := mustParse(t, `name: s
steps:
  - id: a
    probe: {n: 2}
  - probe: {n: "${{ steps.a.n * 100 }}"}
    retry: {attempts: 10, interval: 1ms}
`)
	o := runner.Run(t.Context(), sc, runner.Options{})
	if o.Status != lang.StatusFailed {
		t.Fatalf("status %s", o.Status)
	}
	var pe *lang.ParamError
	if !errors.As(o.Err, &pe) || pe.ExitCode() != 2 {
		t.Fatalf("error %v (%T), want a lang.ParamError", o.Err, o.Err)
	}
	if msg := o.Err.Error(); !strings.Contains(msg, "n: 200 is above the maximum 10") || strings.Contains(msg, "attempts") {
		t.Errorf("error %q: want the parameter's error, tried once", msg)
	}
}
