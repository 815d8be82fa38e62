package actions_test

import (
	"strings"
	"testing"
)

// TestReadersWritersScenario runs the action through the runner: results,
// the trace events in the order the rule allows, policy none's violations
// as a result rather than a failure, and load-time checks.
func TestReadersWritersScenario(t *testing.T) {
	r := runTestdata(t, "readers_writers.yaml")
	mustPass(t, r)
	if got := r.step(t, "fair").Result["threads"].([]string); strings.Join(got, ",") != "reader-0,reader-1,reader-2,writer-0,writer-1" {
		t.Errorf("threads %v", got)
	}
	in := map[string]string{} // worker -> role, while in the room
	enters := 0
	for _, ev := range r.events(t, "rw_enter", "rw_leave") {
		w, role := ev["worker"].(string), ev["role"].(string)
		if ev["event"] == "rw_leave" {
			delete(in, w)
			continue
		}
		enters++
		for other, otherRole := range in {
			if role == "writer" || otherRole == "writer" {
				t.Errorf("%s (%s) came in with %s (%s)", w, role, other, otherRole)
			}
		}
		in[w] = role
	}
	if enters != 18 {
		t.Errorf("%d rw_enter events, want 18", enters)
	}
	for src, want := range map[string]string{
		"readers_writers: {readers: 0, writers: 0}": "nobody to run",
		"readers_writers: {policy: lottery}":        "policy",
	} {
		if err := loadError("rw.yaml", "name: rw\nsteps:\n  - "+src+"\n"); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to mention %q", src, err, want)
		}
	}
}
