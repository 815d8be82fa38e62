package actions_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/lang"
)

const manualLock = `
name: manual
programs:
  flag_lock:
    vars: {flag: false, count: 0}
    threads:
      A: &body
        - while: flag
        - atomic_set: flag = true
        - critical:
            - set: count = count + 1
        - atomic_set: flag = false
      B: *body
    expect: count == 2
steps:
  - id: play
    program: {run: flag_lock, scheduler: manual, trace: true}
`

// TestProgramManual: a program step with scheduler: manual plays a game
// on the run's terminal; its result is the game's run (the win, its
// schedule), and with trace on the final run's steps are the events.
func TestProgramManual(t *testing.T) {
	t.Parallel()
	var screen bytes.Buffer
	keys := "a b\na b u b\nab\na\nb\n" // the second line: a, b, then B's step undone and taken again
	r := runNamed(t, t.Context(), "manual.yaml", []byte(manualLock), withPrograms(&actions.ProgramOptions{
		Terminal: actions.NewTerminal(strings.NewReader(keys), &screen, true),
	}))
	mustPass(t, r)
	res := r.step(t, "play").Result
	if res["ok"] != false || res["verdict"] != "mutual_exclusion" || res["complete"] != true || !strings.HasSuffix(res["schedule"].(string), ":ababab") {
		t.Errorf("result %v: want the win by mutual exclusion, schedule …:ababab", res)
	}
	if !strings.Contains(screen.String(), "You broke it! mutual_exclusion at manual.yaml:") {
		t.Errorf("the screen did not show the win:\n%s", screen.String())
	}
	var steps []string
	for _, ev := range r.events(t, "program_step", "program_enter") {
		steps = append(steps, ev["worker"].(string))
	}
	if strings.Join(steps, "") != "ABABAB" {
		t.Errorf("traced steps by %v, want the game's final run, ABABAB (undone steps are not the run)", steps)
	}
}

// TestProgramManualNeedsTerminal: without a person at a terminal (a run
// with no Terminal), a manual step fails and says so.
func TestProgramManualNeedsTerminal(t *testing.T) {
	t.Parallel()
	r := runScenario(t, manualLock)
	if r.Status != lang.StatusFailed || r.Err == nil || !strings.Contains(r.Err.Error(), "scheduler: manual needs a person at a terminal") {
		t.Errorf("status %s, error %v: want the step failed, saying it needs a terminal", r.Status, r.Err)
	}
}

// TestProgramManualStopped: a game the player stops before the run ends
// (here at once: no input) broke nothing and proved nothing, so it does
// not read as a pass: verdict incomplete, ok false, and the step fails
// saying so, as a search that stops early does.
func TestProgramManualStopped(t *testing.T) {
	t.Parallel()
	for _, keys := range []string{"", "a\nq\n"} {
		var screen bytes.Buffer
		r := runNamed(t, t.Context(), "manual.yaml", []byte(manualLock), withPrograms(&actions.ProgramOptions{
			Terminal: actions.NewTerminal(strings.NewReader(keys), &screen, true),
		}))
		o := r.Outcome
		res := r.step(t, "play").Result
		if res["ok"] != false || res["verdict"] != "incomplete" || res["complete"] != false {
			t.Errorf("keys %q: result %v: want ok false, verdict incomplete", keys, res)
		}
		if o.Status != lang.StatusFailed || o.Err == nil || !strings.Contains(o.Err.Error(), "not a pass: the game was stopped after") {
			t.Errorf("keys %q: status %s, error %v: want the step failed, not a pass", keys, o.Status, o.Err)
		}
	}
}
