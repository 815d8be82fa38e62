package report_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/report"
)

// traceDoc is the part of a Chrome trace file the tests read.
type traceDoc struct {
	OtherData struct {
		LeftOut int `json:"left_out"`
	} `json:"otherData"`
	TraceEvents []struct {
		Name string         `json:"name"`
		Cat  string         `json:"cat"`
		Ph   string         `json:"ph"`
		Ts   float64        `json:"ts"`
		Dur  *float64       `json:"dur"`
		Pid  int            `json:"pid"`
		Tid  int            `json:"tid"`
		Args map[string]any `json:"args"`
	} `json:"traceEvents"`
}

// feed returns a function that records an event of scenario s, ms
// milliseconds after a fixed start.
func feed(tl *report.Timeline) func(ms int, kv ...any) {
	t0 := time.Now()
	return func(ms int, kv ...any) {
		tl.Record(t0.Add(time.Duration(ms)*time.Millisecond), hclog.Info, "m", append([]any{"run_id", "r", "scenario", "s"}, kv...))
	}
}

func decodeTrace(t *testing.T, tl *report.Timeline) traceDoc {
	t.Helper()
	var b bytes.Buffer
	if err := tl.WriteTrace(&b); err != nil {
		t.Fatal(err)
	}
	var doc traceDoc
	if err := json.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("trace is not JSON: %v\n%s", err, b.String())
	}
	return doc
}

// trackNames maps each (pid, tid) of the trace to its thread_name.
func (d traceDoc) trackNames() map[[2]int]string {
	names := map[[2]int]string{}
	for _, e := range d.TraceEvents {
		if e.Ph == "M" && e.Name == "thread_name" {
			names[[2]int{e.Pid, e.Tid}] = e.Args["name"].(string)
		}
	}
	return names
}

// checkLanes fails if two spans on one track overlap without nesting: a
// trace viewer could not draw them, and the report would draw one over
// the other.
func (d traceDoc) checkLanes(t *testing.T) {
	t.Helper()
	type iv struct{ from, to float64 }
	byTrack := map[[2]int][]iv{}
	for _, e := range d.TraceEvents {
		if e.Ph != "X" {
			continue
		}
		if e.Dur == nil || *e.Dur < 0 {
			t.Errorf("span %q has no duration or a negative one", e.Name)
			continue
		}
		key := [2]int{e.Pid, e.Tid}
		for _, o := range byTrack[key] {
			if e.Ts < o.to && o.from < e.Ts+*e.Dur {
				t.Errorf("span %q [%v, +%v] overlaps another on its track", e.Name, e.Ts, *e.Dur)
			}
		}
		byTrack[key] = append(byTrack[key], iv{e.Ts, e.Ts + *e.Dur})
	}
}

func TestTimelineTrace(t *testing.T) {
	tl := report.NewTimeline(actions.Registry(), 0, nil)
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	at := func(ms float64) time.Time { return t0.Add(time.Duration(ms * float64(time.Millisecond))) }
	ev := func(ms float64, level hclog.Level, msg string, kv ...any) {
		tl.Record(at(ms), level, msg, append([]any{"run_id", "r1", "scenario", "s"}, kv...))
	}
	ev(0, hclog.Info, "run started", "event", "run_start") // before any scenario: ignored
	ev(0, hclog.Info, "scenario started", "event", "scenario_start", "file", "s.yaml", "seed", uint64(7))
	ev(1, hclog.Info, "step started", "event", "step_start", "step", 0, "action", "send", "step_id", "flood")
	ev(2, hclog.Info, "step started", "event", "step_start", "step", 1, "action", "spawn")
	ev(2.5, hclog.Info, "process started", "event", "process_start", "process", "p", "pid", 42, "cmd", []string{"sleep", "1"})
	ev(3, hclog.Info, "step ok", "event", "step_end", "step", 1, "action", "spawn", "status", "ok", "duration_ms", 1.0)
	ev(4, hclog.Info, "thread started", "event", "thread_start", "thread", "t", "tid", 43, "pid", 41, "process", "runner", "run", "idle")
	ev(5, hclog.Info, "message sent", "event", "message_sent", "channel", "jobs", "bytes", 64, "count", 1, "sender", "runner")
	ev(6, hclog.Info, "item produced", "event", "item_produced", "worker", "producer-0", "item", "p0#0", "occupancy", 1)
	ev(7, hclog.Info, "thread ended", "event", "thread_end", "thread", "t", "tid", 43, "process", "runner", "state", "cancelled", "latency_us", 12.5)
	ev(8, hclog.Info, "process exited", "event", "process_exit", "process", "p", "pid", 42, "exit_code", -1, "signal", "SIGTERM")
	ev(9, hclog.Error, "assertion failed", "event", "assert_failed", "step", 2, "expression", "1 > 2")
	ev(10, hclog.Error, "step failed", "event", "step_end", "step", 0, "action", "send", "status", "failed", "error", "boom")
	ev(11, hclog.Info, "thread started", "event", "thread_start", "thread", "u", "tid", 44, "process", "runner", "run", "idle")
	ev(12, hclog.Info, "scenario failed", "event", "scenario_end", "status", "failed")

	doc := decodeTrace(t, tl)
	doc.checkLanes(t)
	names := doc.trackNames()
	spans := map[string]struct {
		ts, dur float64
		track   string
		args    map[string]any
	}{}
	var marks []string
	for _, e := range doc.TraceEvents {
		switch e.Ph {
		case "X":
			spans[e.Name] = struct {
				ts, dur float64
				track   string
				args    map[string]any
			}{e.Ts, *e.Dur, names[[2]int{e.Pid, e.Tid}], e.Args}
		case "i":
			marks = append(marks, names[[2]int{e.Pid, e.Tid}]+": "+e.Name)
		}
	}
	want := []struct {
		name, track, status string
		ts, dur             float64
	}{
		{"#0 flood (send)", "steps", "failed", 1000, 9000},
		{"#1 spawn", "steps (2)", "ok", 2000, 1000}, // beside the background step
		{"[sleep 1]", "process p (pid 42)", "SIGTERM", 2500, 5500},
		{"t idle", "thread t in runner (tid 43)", "cancelled", 4000, 3000},
		{"u idle", "thread u in runner (tid 44)", "still running", 11000, 1000},
	}
	for _, w := range want {
		s, ok := spans[w.name]
		if !ok {
			t.Errorf("no span %q in %v", w.name, spans)
			continue
		}
		if s.track != w.track || s.args["status"] != w.status || s.ts != w.ts || s.dur != w.dur {
			t.Errorf("span %q: track %q status %v at %v for %v; want %q %q at %v for %v",
				w.name, s.track, s.args["status"], s.ts, s.dur, w.track, w.status, w.ts, w.dur)
		}
	}
	if len(spans) != len(want) {
		t.Errorf("%d spans, want %d: %v", len(spans), len(want), spans)
	}
	if e := spans["#0 flood (send)"].args["error"]; e != "boom" {
		t.Errorf("failed step's error = %v, want boom", e)
	}
	wantMarks := []string{
		"steps: assertion failed: 1 > 2",
		"channel jobs: sent 64 bytes (runner)",
		"prodcons producer-0: produced p0#0 (occupancy 1)",
	}
	if strings.Join(marks, "\n") != strings.Join(wantMarks, "\n") {
		t.Errorf("marks:\n%s\nwant:\n%s", strings.Join(marks, "\n"), strings.Join(wantMarks, "\n"))
	}
	for _, e := range doc.TraceEvents {
		if e.Ph == "M" && e.Name == "process_name" && e.Args["name"] != "s (s.yaml), seed 7, failed" {
			t.Errorf("scenario run named %q", e.Args["name"])
		}
	}
}

func TestTimelineLimit(t *testing.T) {
	tl := report.NewTimeline(actions.Registry(), 3, nil)
	now := time.Now()
	tl.Record(now, hclog.Info, "", []any{"event", "scenario_start", "scenario", "s"})
	for i := range 5 {
		tl.Record(now, hclog.Info, "", []any{"event", "message_sent", "channel", "c", "bytes", i})
	}
	tl.Record(now, hclog.Info, "", []any{"event", "scenario_end", "status", "passed"})
	doc := decodeTrace(t, tl)
	n := 0
	for _, e := range doc.TraceEvents {
		if e.Ph == "i" {
			n++
		}
	}
	if n != 3 || doc.OtherData.LeftOut != 2 {
		t.Errorf("kept %d marks and left out %d, want 3 and 2", n, doc.OtherData.LeftOut)
	}
}
