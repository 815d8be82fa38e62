package actions_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/lang"
)

// TestProgramFreeRuns runs testdata/program.yaml: correct programs pass on
// free threads, broken ones give their verdict as a result (not a failed
// step), and the events say what every run and every traced step did.
func TestProgramFreeRuns(t *testing.T) {
	t.Parallel()
	r := runTestdata(t, "program.yaml")
	mustPass(t, r)

	lost := r.step(t, "lost").Result
	if lost["ok"] != false || lost["verdict"] != "expect" || intField(t, lost, "failures") == 0 {
		t.Fatalf("lost update: %v", lost)
	}
	sched := lost["schedule"].(string)
	if !strings.HasPrefix(sched, "pmrun1:lost:") {
		t.Errorf("schedule %q", sched)
	}
	if want := "pmrun run program.yaml --seed 42 --replay " + sched; lost["replay"] != want {
		t.Errorf("replay %q, want %q", lost["replay"], want)
	}
	if f := lost["failure"].(string); !strings.HasPrefix(f, "program.yaml:8:13: expect count == 2 failed: count = 1") {
		t.Errorf("failure %q", f)
	}
	if il := lost["interleaving"].(string); !strings.Contains(il, "count = count + 1 (read)") || !strings.HasSuffix(il, "expect count == 2 failed: count = 1\n") {
		t.Errorf("interleaving:\n%s", il)
	}

	found := r.events(t, "schedule_found")
	if len(found) != 3 { // lost, opposite, misuse
		t.Fatalf("%d schedule_found events, want one a failing step: %v", len(found), found)
	}
	if found[0]["schedule"] != sched || found[0]["verdict"] != "expect" {
		t.Errorf("schedule_found %v, want the result's schedule %s", found[0], sched)
	}

	// A program_start and a program_end a run, the end with its verdict.
	for _, id := range []string{"lost", "fixed"} {
		var starts, ends int
		for _, ev := range r.events(t, "program_start", "program_end") {
			if ev["step_id"] != id {
				continue
			}
			if ev["event"] == "program_start" {
				starts++
			} else if ends++; id == "fixed" && ev["verdict"] != "pass" {
				t.Errorf("fixed: run ended %v", ev)
			}
		}
		if runs := intField(t, r.step(t, id).Result, "runs"); starts != runs || ends != runs {
			t.Errorf("%s: %d program_start, %d program_end for %d runs", id, starts, ends, runs)
		}
	}

	// With trace, a program_step per step of the shown run, in its order.
	var order []string
	for _, ev := range r.events(t, "program_step", "program_enter", "program_leave") {
		if ev["step_id"] == "fixed" && intField(t, ev, "run") == 0 {
			order = append(order, ev["worker"].(string))
			if ev["tid"] == nil || ev["line"] == nil || ev["op"] == nil {
				t.Errorf("program_step without its thread, line or op: %v", ev)
			}
		}
	}
	if fixed := r.step(t, "fixed").Result; len(order) != intField(t, fixed, "steps") {
		t.Errorf("%d traced steps in run 0 of fixed, the result says %d", len(order), intField(t, fixed, "steps"))
	}

	dl := r.step(t, "opposite").Result
	if dl["verdict"] != "deadlock" || dl["deadlock"] != true {
		t.Fatalf("opposite: %v", dl)
	}
	ex := dl["explanation"].(string)
	for _, want := range []string{"A waits for mutex m2", "held by B", "B waits for mutex m1", "held by A", "cycle: A → m2 → B → m1 → A"} {
		if !strings.Contains(ex, want) {
			t.Errorf("explanation does not say %q:\n%s", want, ex)
		}
	}
	if !slices.Equal(dl["cycle"].([]string), []string{"A", "m2", "B", "m1", "A"}) {
		t.Errorf("cycle %v", dl["cycle"])
	}
	if got := r.events(t, "deadlock_detected"); len(got) != 1 || got[0]["program"] != "opposite" {
		t.Errorf("deadlock_detected events: %v", got)
	}
	if m := r.step(t, "misuse").Result; m["verdict"] != "misuse" || !strings.Contains(m["failure"].(string), "unlock m by A") {
		t.Errorf("misuse: %v", m)
	}
}

// TestProgramStepTimeoutLeavesNoThread: a step timeout while one program
// thread works for an hour and the other sleeps on a futex word fails the
// step, and neither thread is left in the process.
func TestProgramStepTimeoutLeavesNoThread(t *testing.T) {
	t.Parallel()
	r := runScenario(t, `name: timeout
programs:
  long:
    semaphores: {s: 0}
    threads:
      slow_worker: [work: 1h, signal: s]
      waiter: [wait: s]
steps:
  - program: {run: long, scheduler: os, trace: true}
    timeout: 300ms
`)
	if r.Status != lang.StatusFailed || !strings.Contains(r.Err.Error(), "timed out after 300ms") {
		t.Fatalf("status %s, err %v; want the step's timeout", r.Status, r.Err)
	}
	tids := map[string]int{}
	for _, ev := range r.events(t, "program_step", "program_wait") {
		tids[ev["worker"].(string)] = intField(t, ev, "tid")
	}
	if len(tids) != 2 {
		t.Fatalf("threads seen in the events: %v", tids)
	}
	for name, tid := range tids {
		if comm, err := taskComm(os.Getpid(), tid); err == nil && comm == name {
			t.Errorf("thread %s (tid %d) is still in /proc/self/task", name, tid)
		}
	}
}

func TestProgramLoadErrors(t *testing.T) {
	t.Parallel()
	head := "name: p\nprograms:\n  p:\n    threads:\n      A: [yield]\nsteps:\n  - "
	for src, want := range map[string]string{
		"program: {run: q}":                            `run: no program named "q", did you mean "p"?`,
		"program: {scheduler: os}":                     `missing required parameter "run"`,
		"program: {run: p, scheduler: fair}":           `scheduler: "fair" is not one of os, random, pct, bounded, exhaustive`,
		"program: {run: p, runs: 0}":                   "runs: 0 is below the minimum 1",
		"program: {run: p, scheduler: pct, work: 1ms}": "work: applies to scheduler: os only",
		"program: {run: p, replay: x}":                 `replay: schedule "x": not a pmrun schedule`,
	} {
		err := loadError("p.yaml", head+src+"\n")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want it to say %q", src, err, want)
		}
	}
}

// TestFreeRunReplaysUnderControl: the schedule a failing free run recorded
// (its steps in the order the ticket gave them) replays under the
// controlled scheduler, on real threads, to the same verdict, failure,
// steps and final values.
func TestFreeRunReplaysUnderControl(t *testing.T) {
	t.Parallel()
	r := runTestdata(t, "program_replay.yaml")
	mustPass(t, r)
	for _, name := range []string{"lost", "unguarded", "opposite", "flag"} {
		free, again := r.step(t, name+"_free").Result, r.step(t, name+"_replay").Result
		if free["ok"] != false {
			t.Errorf("%s: no free run failed: %v", name, free)
			continue
		}
		for _, field := range []string{"verdict", "failure", "schedule", "steps", "switches", "final", "explanation"} {
			if fmt.Sprint(free[field]) != fmt.Sprint(again[field]) {
				t.Errorf("%s: %s is %v on free threads, %v replayed under control", name, field, free[field], again[field])
			}
		}
		if again["note"] != "" {
			t.Errorf("%s: the replay went past its schedule: %v", name, again["note"])
		}
	}
}

// TestProgramControlledTrace: under a controlled scheduler, with trace, the
// run the result shows (the failure, shrunk and replayed on the real
// threads) is logged step by step, marked as shown, and its steps are the
// result's.
func TestProgramControlledTrace(t *testing.T) {
	t.Parallel()
	r := runScenario(t, `name: traced
programs:
  lost:
    vars: {count: 0}
    threads:
      A: &inc [set: count = count + 1]
      B: *inc
    expect: count == 2
steps:
  - id: pct
    program: {run: lost, scheduler: pct, runs: 20, trace: true}
`)
	mustPass(t, r)
	res := r.step(t, "pct").Result
	if res["verdict"] != "expect" {
		t.Fatalf("pct: %v", res)
	}
	var shown []map[string]any
	inShown := false
	for _, ev := range r.events(t, "program_start", "program_step", "program_end") {
		switch ev["event"] {
		case "program_start":
			inShown = ev["shown"] == true
		case "program_step":
			if inShown {
				shown = append(shown, ev)
			}
		}
	}
	if len(shown) != intField(t, res, "steps") {
		t.Fatalf("%d steps traced in the shown run, the result has %d", len(shown), intField(t, res, "steps"))
	}
	var letters string
	for _, ev := range shown {
		letters += strings.ToLower(ev["worker"].(string))
	}
	if sched := res["schedule"].(string); !strings.HasSuffix(sched, compress(letters)) {
		t.Errorf("shown steps %s, schedule %s", letters, sched)
	}
}

// compress writes thread letters as a schedule does: a run of one letter
// as the letter and its count.
func compress(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] == s[i] {
			j++
		}
		b.WriteByte(s[i])
		if j-i > 1 {
			fmt.Fprint(&b, j-i)
		}
		i = j
	}
	return b.String()
}

// TestProgramIncompleteIsNoPass: an exhaustive search cut by max_states or
// by max_memory that found no failure is verdict incomplete, ok false, and fails
// its step, saying why, how many states, and what would let it finish;
// allow_incomplete lets it pass as incomplete. A cut search that finds its
// failure is a find, and a complete one a proof.
func TestProgramIncompleteIsNoPass(t *testing.T) {
	t.Parallel()
	r := runTestdata(t, "program_incomplete.yaml")
	for id, want := range map[string][]string{
		"states": {"program fixed: not a pass: the search stopped at max_states, 50 states, before it explored every state: raise max_states, search with bitstate (which covers more states in the same memory, but proves nothing), or make the program smaller", "verdict incomplete", "allow_incomplete: true"},
		"memory": {"program fixed: not a pass: the search stopped at max_memory (1MiB), ", "states, before it explored every state: raise max_memory, search with bitstate"},
	} {
		s := r.step(t, id)
		if s.Status != lang.StatusFailed || s.Err == nil {
			t.Errorf("%s: status %s, want failed", id, s.Status)
			continue
		}
		for _, w := range want {
			if !strings.Contains(s.Err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", id, s.Err, w)
			}
		}
		if res := s.Result; res["ok"] != false || res["verdict"] != "incomplete" || res["complete"] != false {
			t.Errorf("%s: ok %v verdict %v complete %v; want false, incomplete, false", id, res["ok"], res["verdict"], res["complete"])
		}
	}
	for _, id := range []string{"allowed", "find", "proof"} {
		if s := r.step(t, id); s.Status != lang.StatusOK {
			t.Errorf("%s: %s: %v", id, s.Status, s.Err)
		}
	}
	for _, s := range r.Steps {
		if s.Step.Action == "assert" && s.Status != lang.StatusOK {
			t.Errorf("line %d: %v", s.Step.Pos.Line, s.Err)
		}
	}
}

// TestProgramLogIsBounded: a search of thousands of runs or states logs
// the first runs and the run shown, not every run, with its progress and
// its numbers; trace: true still logs every run. (A search once wrote an
// event a path: 568 MB for one exhaustive search.)
func TestProgramLogIsBounded(t *testing.T) {
	t.Parallel()
	const loggedRuns = 100 // the runs of a step that log their start and end
	r := runTestdata(t, "program_log_bounded.yaml")
	mustPass(t, r)
	ends := map[string]int{}
	for _, ev := range r.events(t, "program_end") {
		ends[fmt.Sprint(ev["scheduler"])]++
	}
	searched := map[string]map[string]any{}
	for _, ev := range r.events(t, "program_searched") {
		searched[fmt.Sprint(ev["scheduler"])+fmt.Sprint(ev["runs"])] = ev
	}
	// random: the first runs and the shown one, then the traced search's
	// 20 runs and its shown one.
	if n := ends["random"]; n != loggedRuns+1+20+1 {
		t.Errorf("%d program_end of random searches, want %d", n, loggedRuns+1+20+1)
	}
	if n := ends["exhaustive"]; n != 1 {
		t.Errorf("%d program_end of the exhaustive search, want 1 (the run shown)", n)
	}
	if ev := searched["random3000"]; ev == nil || ev["failures"] == 0.0 {
		t.Errorf("no program_searched of 3000 random runs with failures: %v", searched)
	}
	var states float64
	for _, ev := range searched {
		if ev["scheduler"] == "exhaustive" {
			states, _ = ev["states"].(float64)
		}
	}
	if states < 1000 {
		t.Errorf("the exhaustive search's program_searched says %v states", states)
	}
	var unlogged float64
	for _, ev := range r.events(t, "program_progress") {
		unlogged += ev["runs"].(float64)
	}
	if unlogged != 3000-loggedRuns {
		t.Errorf("program_progress counts %v runs not logged one by one, want %d", unlogged, 3000-loggedRuns)
	}
	if size := r.log.b.Len(); size > 400<<10 {
		t.Errorf("the log takes %d bytes", size)
	}
}

// TestProgramBounded: scheduler bounded through the program action finds
// a lost update that needs one preemption and says its bound; a pass says
// the bound it covered; a search stopped by its runs limit before its
// bound fails its step, incomplete, saying how far it got.
func TestProgramBounded(t *testing.T) {
	t.Parallel()
	r := runTestdata(t, "program_bounded.yaml")
	for _, s := range r.Steps {
		if s.Step.Action == "assert" && s.Status != lang.StatusOK {
			t.Errorf("line %d: %v", s.Step.Pos.Line, s.Err)
		}
	}
	s := r.step(t, "cut")
	if s.Status != lang.StatusFailed || s.Err == nil {
		t.Fatalf("cut: status %s, want failed", s.Status)
	}
	for _, w := range []string{"stopped at its runs limit (3) after 3 runs", "raise runs, or lower preemptions", "verdict incomplete"} {
		if !strings.Contains(s.Err.Error(), w) {
			t.Errorf("cut: error %q does not say %q", s.Err, w)
		}
	}
	if res := s.Result; res["verdict"] != "incomplete" || res["complete"] != false || res["bound"] != 0 {
		t.Errorf("cut: verdict %v complete %v bound %v; want incomplete, false, 0", res["verdict"], res["complete"], res["bound"])
	}
}

// TestProgramShrunkSaysSo: a failure shown shrunk names the run that
// found it and says it was shrunk, wherever its (shrunk) values are
// shown: the result, the console's note, the shown run's end event.
func TestProgramShrunkSaysSo(t *testing.T) {
	t.Parallel()
	r := runScenario(t, `
name: shrunk
seed: 3
programs:
  lost:
    vars: {count: 0}
    threads:
      A: &b
        - repeat: 5
          do: [set: count = count + 1]
      B: *b
      C: *b
    expect: count == 15
steps:
  - id: find
    program: {run: lost, scheduler: random, runs: 20}
`)
	mustPass(t, r)
	res := r.step(t, "find").Result
	steps, switches := intField(t, res, "steps"), intField(t, res, "switches")
	origSteps, origSwitches := intField(t, res, "original_steps"), intField(t, res, "original_switches")
	if origSwitches <= switches || origSteps < steps {
		t.Fatalf("steps %d switches %d, original %d %d: want a failure shrunk", steps, switches, origSteps, origSwitches)
	}
	spec, _ := actions.Registry().Lookup("program")
	note := strings.Join(spec.Note(res), "\n")
	if want := fmt.Sprintf("in run %v (", res["run"]); !strings.Contains(note, want) || !strings.Contains(note, fmt.Sprintf("shrunk from %d switches to %d", origSwitches, switches)) {
		t.Errorf("note %q: want the run that found it and how it was shrunk", note)
	}
	var shown map[string]any
	for _, ev := range r.events(t, "program_end") {
		if ev["shown"] == true {
			shown = ev
		}
	}
	if shown == nil || fmt.Sprint(shown["original_switches"]) != fmt.Sprint(origSwitches) || fmt.Sprint(shown["switches"]) != fmt.Sprint(switches) {
		t.Errorf("the shown run's end %v: want its switches and the original run's", shown)
	}
}
