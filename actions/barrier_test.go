package actions_test

import (
	"strings"
	"testing"
)

// TestBarrierScenario runs the action through the runner: the two-phase
// barrier's events never show a round started before the last arrival at
// the one before; one turnstile's early departures and jam are a result,
// not a failure, and its early departures are marked in the events.
func TestBarrierScenario(t *testing.T) {
	r := runTestdata(t, "barrier.yaml")
	mustPass(t, r)
	arrived := map[float64]int{}
	early := 0
	for _, ev := range r.events(t, "barrier_arrive", "barrier_work", "barrier_leave") {
		round := ev["round"].(float64)
		switch {
		case ev["step_id"] != "good":
			if ev["event"] == "barrier_leave" && ev["early"] == true {
				early++
			}
		case ev["event"] == "barrier_arrive":
			arrived[round]++
		case ev["event"] == "barrier_work" && round > 1 && arrived[round-1] != 3:
			t.Errorf("%s started round %v with %d arrived at barrier %v", ev["worker"], round, arrived[round-1], round-1)
		case ev["event"] == "barrier_leave" && ev["early"] != nil:
			t.Errorf("an early departure from the two-phase barrier: %v", ev)
		}
	}
	if early == 0 {
		t.Error("no barrier_leave event of the one-turnstile run says early")
	}
	err := loadError("b.yaml", "name: b\nsteps:\n  - barrier: {work_time: 200ms, stall: 50ms}\n")
	if err == nil || !strings.Contains(err.Error(), "stall: 50ms is no longer than a round's work") {
		t.Errorf("a stall shorter than the work: err = %v", err)
	}
}
