package report_test

// The labs' events on the timeline, drawn from their declarations in
// package actions.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/report"
)

// TestTimelinePhilosopher: a philosopher's wait for a fork and its meal
// are spans on its track, the forks marks, and a deadlock a failure mark
// on the steps' row.
func TestTimelinePhilosopher(t *testing.T) {
	tl := report.NewTimeline(actions.Registry(), 0, nil)
	ev := feed(tl)
	ev(0, "event", "scenario_start")
	ev(1, "event", "fork_taken", "worker", "phil-0", "fork", 0)
	ev(2, "event", "fork_wait", "worker", "phil-0", "fork", 1, "held_by", "phil-1")
	ev(5, "event", "fork_taken", "worker", "phil-0", "fork", 1)
	ev(5, "event", "meal", "worker", "phil-0", "meal", 1)
	ev(8, "event", "fork_released", "worker", "phil-0", "fork", 1)
	ev(8, "event", "fork_released", "worker", "phil-0", "fork", 0)
	ev(9, "event", "fork_wait", "worker", "phil-0", "fork", 0, "held_by", "phil-4")
	ev(20, "event", "deadlock_detected", "explanation", "deadlock, a circular wait")
	ev(21, "event", "fork_released", "worker", "phil-0", "fork", 1)
	ev(22, "event", "scenario_end", "status", "passed")

	doc := decodeTrace(t, tl)
	doc.checkLanes(t)
	names := doc.trackNames()
	var got []string
	for _, e := range doc.TraceEvents {
		switch e.Ph {
		case "X":
			got = append(got, fmt.Sprintf("%s: span %q %v+%v %v", names[[2]int{e.Pid, e.Tid}], e.Name, e.Ts, *e.Dur, e.Args["status"]))
		case "i":
			got = append(got, fmt.Sprintf("%s: mark %q %v", names[[2]int{e.Pid, e.Tid}], e.Name, e.Ts))
		}
	}
	want := []string{
		`steps: mark "deadlock, a circular wait" 20000`,
		`philosopher phil-0: span "waits for fork 1, held by phil-1" 2000+3000 got it`,
		`philosopher phil-0: span "eats (meal 1)" 5000+3000 done`,
		`philosopher phil-0: span "waits for fork 0, held by phil-4" 9000+12000 gave up`,
		`philosopher phil-0: mark "took fork 0" 1000`,
		`philosopher phil-0: mark "took fork 1" 5000`,
		`philosopher phil-0: mark "put down fork 1" 8000`,
		`philosopher phil-0: mark "put down fork 0" 8000`,
		`philosopher phil-0: mark "put down fork 1" 21000`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTimelineRoomVisits: a readers-writers worker's wait and its stay in
// the room are spans on its row, a writer's marked as alone.
func TestTimelineRoomVisits(t *testing.T) {
	tl := report.NewTimeline(actions.Registry(), 0, nil)
	ev := feed(tl)
	ev(0, "event", "scenario_start")
	ev(1, "event", "rw_wait", "worker", "reader-0", "role", "reader")
	ev(1, "event", "rw_enter", "worker", "reader-0", "role", "reader", "readers", 1)
	ev(2, "event", "rw_wait", "worker", "writer-0", "role", "writer")
	ev(3, "event", "rw_enter", "worker", "reader-1", "role", "reader", "readers", 2)
	ev(5, "event", "rw_leave", "worker", "reader-0", "role", "reader")
	ev(6, "event", "rw_leave", "worker", "reader-1", "role", "reader")
	ev(6, "event", "rw_enter", "worker", "writer-0", "role", "writer", "readers", 0)
	ev(9, "event", "rw_leave", "worker", "writer-0", "role", "writer")
	ev(9, "event", "rw_enter", "worker", "writer-1", "role", "writer", "readers", 1, "broke_rule", true)
	ev(10, "event", "scenario_end", "status", "passed")

	doc := decodeTrace(t, tl)
	doc.checkLanes(t)
	names := doc.trackNames()
	var got []string
	for _, e := range doc.TraceEvents {
		if e.Ph == "X" {
			got = append(got, fmt.Sprintf("%s: %q %v+%v", names[[2]int{e.Pid, e.Tid}], e.Name, e.Ts, *e.Dur))
		}
	}
	var marks []string
	for _, e := range doc.TraceEvents {
		if e.Ph == "i" {
			marks = append(marks, names[[2]int{e.Pid, e.Tid}]+": "+e.Name)
		}
	}
	if strings.Join(marks, ",") != "writer-1: came in to write while others were in" {
		t.Errorf("marks %v, want the rule broken by writer-1", marks)
	}
	want := []string{
		`reader-0: "waits to come in" 1000+0`, // let in at once
		`reader-0: "reads" 1000+4000`,
		`reader-1: "reads (2 readers in)" 3000+3000`,
		`writer-0: "waits to come in" 2000+4000`,
		`writer-0: "writes (alone)" 6000+3000`,
		`writer-1: "writes (not alone)" 9000+1000`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("spans:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTimelineBarrier: a worker's round is a span, its wait at the
// barrier another; an early departure is a failure mark; a wait that the
// step's end cut short ends with the step.
func TestTimelineBarrier(t *testing.T) {
	tl := report.NewTimeline(actions.Registry(), 0, nil)
	ev := feed(tl)
	ev(0, "event", "scenario_start")
	ev(0, "event", "step_start", "step", 0, "action", "barrier")
	ev(1, "event", "barrier_work", "step", 0, "worker", "worker-0", "round", 1)
	ev(3, "event", "barrier_arrive", "step", 0, "worker", "worker-0", "round", 1)
	ev(4, "event", "barrier_leave", "step", 0, "worker", "worker-0", "round", 1, "early", true)
	ev(4, "event", "barrier_work", "step", 0, "worker", "worker-0", "round", 2)
	ev(5, "event", "barrier_arrive", "step", 0, "worker", "worker-0", "round", 2)
	ev(9, "event", "step_end", "step", 0, "action", "barrier", "status", "ok")
	ev(10, "event", "scenario_end", "status", "passed")

	doc := decodeTrace(t, tl)
	doc.checkLanes(t)
	names := doc.trackNames()
	var got []string
	for _, e := range doc.TraceEvents {
		switch {
		case e.Ph == "X" && e.Cat == "worker":
			got = append(got, fmt.Sprintf("%s: %q %v+%v %v", names[[2]int{e.Pid, e.Tid}], e.Name, e.Ts, *e.Dur, e.Args["status"]))
		case e.Ph == "i":
			got = append(got, fmt.Sprintf("%s: mark %q", names[[2]int{e.Pid, e.Tid}], e.Name))
		}
	}
	want := []string{
		`worker-0: "round 1" 1000+2000 done`,
		`worker-0: "waits at barrier 1" 3000+1000 left early`,
		`worker-0: "round 2" 4000+1000 done`,
		`worker-0: "waits at barrier 2" 5000+4000 stopped with its step`,
		`worker-0: mark "left barrier 1 before everyone had arrived"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTimelineWorkerRows: workers' rows come in name order with their
// numbers in order, and a span started again under the same key (a
// retried step's worker) ends the first one instead of leaving it open.
func TestTimelineWorkerRows(t *testing.T) {
	tl := report.NewTimeline(actions.Registry(), 0, nil)
	ev := feed(tl)
	ev(0, "event", "scenario_start")
	for _, w := range []string{"worker-10", "worker-2", "worker-1"} {
		ev(1, "event", "barrier_work", "step", 0, "worker", w, "round", 1)
	}
	ev(2, "event", "barrier_arrive", "step", 0, "worker", "worker-1", "round", 1)
	// The attempt is stopped without an end; the retry starts over.
	ev(5, "event", "barrier_work", "step", 0, "worker", "worker-1", "round", 1)
	ev(6, "event", "barrier_arrive", "step", 0, "worker", "worker-1", "round", 1)
	ev(7, "event", "barrier_leave", "step", 0, "worker", "worker-1", "round", 1)
	ev(8, "event", "scenario_end", "status", "passed")

	doc := decodeTrace(t, tl)
	doc.checkLanes(t)
	var rows []string
	for _, e := range doc.TraceEvents {
		if e.Ph == "M" && e.Name == "thread_name" {
			rows = append(rows, e.Args["name"].(string))
		}
	}
	if strings.Join(rows, ",") != "worker-1,worker-2,worker-10" {
		t.Errorf("rows %v", rows)
	}
	names := doc.trackNames()
	var spans []string
	for _, e := range doc.TraceEvents {
		if e.Ph == "X" && names[[2]int{e.Pid, e.Tid}] == "worker-1" {
			spans = append(spans, fmt.Sprintf("%q %v+%v %v", e.Name, e.Ts, *e.Dur, e.Args["status"]))
		}
	}
	want := []string{
		`"round 1" 1000+1000 done`,
		`"waits at barrier 1" 2000+3000 stopped`, // ended when the worker started over
		`"round 1" 5000+1000 done`,
		`"waits at barrier 1" 6000+1000 through`,
	}
	if strings.Join(spans, "\n") != strings.Join(want, "\n") {
		t.Errorf("worker-1's spans:\n%s\nwant:\n%s", strings.Join(spans, "\n"), strings.Join(want, "\n"))
	}
}

// TestTimelineProgram: a program's runs are spans on its row, red when the
// run failed; each thread's steps are marks on its row, blue while it
// runs, grey while it waits, green while inside a critical region; a
// found failure is a red mark on the steps' row. The runs of a search
// are not drawn, but for the one it shows.
func TestTimelineProgram(t *testing.T) {
	tl := report.NewTimeline(actions.Registry(), 0, nil)
	ev := feed(tl)
	p := []any{"program", "lost", "run", 0}
	step := func(at int, event, worker, op string, more ...any) {
		ev(at, append(append([]any{"event", event}, p...), append([]any{"worker", worker, "op", op, "line", 7}, more...)...)...)
	}
	ev(0, "event", "scenario_start")
	searched := []any{"program", "lost", "run", 3, "scheduler", "random"}
	ev(1, append([]any{"event", "program_start"}, searched...)...)
	ev(1, append([]any{"event", "program_end", "verdict", "misuse", "steps", 6, "failure", "p.yaml:7:9: unlock m by B"}, searched...)...)
	ev(1, append([]any{"event", "program_start", "scheduler", "os", "free", true}, p...)...)
	step(2, "program_step", "A", "lock m", "resumed", true)
	step(3, "program_enter", "A", "enter critical", "region", "critical", "resumed", false)
	step(4, "program_step", "A", "count = count + 1 (write)", "resumed", false, "changed", "count: 0 → 1")
	ev(4, append([]any{"event", "program_wait", "worker", "B", "waiting", "mutex m"}, p...)...)
	step(5, "program_leave", "A", "leave critical", "region", "critical", "resumed", false)
	step(6, "program_step", "A", "unlock m", "resumed", false)
	ev(6, append([]any{"event", "program_done", "worker", "A", "state", "finished"}, p...)...)
	step(7, "program_step", "B", "lock m", "resumed", true)
	step(8, "program_step", "B", "unlock m", "resumed", false, "failed", true)
	ev(9, append([]any{"event", "program_end", "scheduler", "os", "free", true, "verdict", "misuse", "steps", 6, "failure", "p.yaml:7:9: unlock m by B"}, p...)...)
	ev(9, append([]any{"event", "schedule_found", "verdict", "misuse", "schedule", "pmrun1:lost:0123456789abcdef:a5b2"}, p...)...)
	ev(10, "event", "scenario_end", "status", "passed")

	doc := decodeTrace(t, tl)
	doc.checkLanes(t)
	names := doc.trackNames()
	var got []string
	for _, e := range doc.TraceEvents {
		switch e.Ph {
		case "X":
			got = append(got, fmt.Sprintf("%s: span %q %v+%v %v", names[[2]int{e.Pid, e.Tid}], e.Name, e.Ts, *e.Dur, e.Args["status"]))
		case "i":
			got = append(got, fmt.Sprintf("%s: mark %q %v", names[[2]int{e.Pid, e.Tid}], e.Name, e.Ts))
		}
	}
	want := []string{
		`steps: mark "misuse in run 0: pmrun1:lost:0123456789abcdef:a5b2" 9000`,
		`program lost: span "run 0 (os)" 1000+8000 misuse after 6 steps`,
		`program lost: mark "run 0: p.yaml:7:9: unlock m by B" 9000`,
		`program lost: thread A: span "runs" 2000+1000 stopped`,
		`program lost: thread A: span "inside critical" 3000+2000 left`,
		`program lost: thread A: span "runs" 5000+1000 finished`,
		`program lost: thread A: mark "lock m (line 7)" 2000`,
		`program lost: thread A: mark "enter critical (line 7)" 3000`,
		`program lost: thread A: mark "count = count + 1 (write) (line 7): count: 0 → 1" 4000`,
		`program lost: thread A: mark "leave critical (line 7)" 5000`,
		`program lost: thread A: mark "unlock m (line 7)" 6000`,
		`program lost: thread B: span "waits for mutex m" 4000+3000 woken`,
		`program lost: thread B: span "runs" 7000+3000 still running`,
		`program lost: thread B: mark "lock m (line 7)" 7000`,
		`program lost: thread B: mark "unlock m (line 7)" 8000`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
