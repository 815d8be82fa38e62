package actions_test

import (
	"strings"
	"testing"
)

// TestDiningScenario runs the deadlock lab's shape through the runner: the
// naive table's deadlock is a result (ok: false), not a failure, with its
// cycle, explanation and a deadlock_detected event; the ordered table eats
// every meal; every fork event names its philosopher.
func TestDiningScenario(t *testing.T) {
	r := runTestdata(t, "dining.yaml")
	mustPass(t, r)
	naive := r.step(t, "naive").Result
	cycle := naive["cycle"].([]string)
	if cycle[0] != "phil-0 holds fork 0 and waits for fork 1, held by phil-1" {
		t.Errorf("cycle %q", cycle)
	}
	if !strings.Contains(naive["explanation"].(string), "circular wait") {
		t.Errorf("explanation %q", naive["explanation"])
	}
	if got := r.events(t, "deadlock_detected"); len(got) == 0 || got[len(got)-1]["order"] != "naive" {
		t.Errorf("deadlock_detected events: %v", got)
	}
	meals := 0
	for _, ev := range r.events(t, "meal") {
		if w, _ := ev["worker"].(string); !strings.HasPrefix(w, "phil-") {
			t.Errorf("meal event without its philosopher: %v", ev)
		}
		if ev["step_id"] == "ordered" {
			meals++
		}
	}
	if meals != 6 {
		t.Errorf("%d meal events in the ordered run, want 6", meals)
	}
	if len(r.events(t, "fork_taken")) == 0 || len(r.events(t, "fork_released")) == 0 {
		t.Error("no fork events with trace: true")
	}
}

// TestDiningLongMealIsNoDeadlock: a philosopher eating for longer than
// detect while its neighbours wait for its forks is a chain of waits, not
// a cycle; the detector must not call it a deadlock (under order: ordered
// that would fail the step).
func TestDiningLongMealIsNoDeadlock(t *testing.T) {
	r := runScenario(t, `name: dining
steps:
  - id: slow
    dining: {philosophers: 4, meals: 1, order: ordered, eat_time: 150ms, detect: 20ms}
  - assert: steps.slow.ok && !steps.slow.deadlock
`)
	mustPass(t, r)
}

func TestDiningLoadErrors(t *testing.T) {
	for src, want := range map[string]string{
		"dining: {detect: 0s}":      "detect: must be more than 0",
		"dining: {pause: -1ms}":     "pause: duration -1ms is negative",
		"dining: {philosophers: 1}": "philosophers",
		"dining: {order: randomly}": "order",
		"dining: {meals: 0}":        "meals",
	} {
		err := loadError("d.yaml", "name: d\nsteps:\n  - "+src+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", src, err, want)
		}
	}
}
