package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
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
	tl := report.NewTimeline(0, nil)
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
	tl := report.NewTimeline(3, nil)
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

// TestReportOfRun runs a scenario with the timeline fed from its event
// log, as pmrun run --report --trace does, and checks what both files
// show of it.
func TestReportOfRun(t *testing.T) {
	sc := mustParse(t, `name: report <me>
steps:
  - spawn: {name: kid, cmd: [sh, -c, "echo hi; exit 3"]}
  - id: kid
    wait: {process: kid}
  - thread: {name: worker}
  - terminate: {thread: worker}
  - send: {message: ping}
  - receive: {}
  - id: check
    assert: {that: 'steps.kid.exit_code == 4', message: "exit code <3>"}
    continue_on_error: true
`)
	tl := report.NewTimeline(0, []*lang.Scenario{sc})
	log := runner.NewEventLog(io.Discard, hclog.Info)
	log.Tee(tl.Record)
	o := runner.Run(context.Background(), sc, runner.Options{RunID: "r1", Log: log})
	if o.Status != lang.StatusPassed {
		t.Fatalf("scenario %s: %v", o.Status, o.Err)
	}
	pid := int(o.Steps[0].Result["pid"].(int))

	doc := decodeTrace(t, tl)
	doc.checkLanes(t)
	names := doc.trackNames()
	steps, tracks := 0, map[string]bool{}
	for _, e := range doc.TraceEvents {
		if e.Ph == "X" && e.Cat == "step" {
			steps++
		}
		if e.Ph != "M" {
			tracks[names[[2]int{e.Pid, e.Tid}]] = true
		}
	}
	if steps != len(sc.Steps) {
		t.Errorf("%d step spans, want %d", steps, len(sc.Steps))
	}
	for _, want := range []string{"steps", fmt.Sprintf("process kid (pid %d)", pid), "channel default"} {
		if !tracks[want] {
			t.Errorf("no track %q in %v", want, tracks)
		}
	}
	threadTrack := false
	for name := range tracks {
		threadTrack = threadTrack || regexp.MustCompile(`^thread worker in runner \(tid \d+\)$`).MatchString(name)
	}
	if !threadTrack {
		t.Errorf("no track for thread worker in %v", tracks)
	}

	var page bytes.Buffer
	if err := report.WriteHTML(&page, []*lang.Outcome{o}, tl); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{
		"<h2>report &lt;me&gt; <span class=\"passed\">passed</span></h2>", // names escaped
		"exit code &lt;3&gt;", // the failed assertion's message, escaped
		`<tr class="failed">`,
		fmt.Sprintf("process kid (pid %d)", pid),
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	svg := regexp.MustCompile(`(?s)<svg.*?</svg>`).FindString(html)
	var chart struct {
		Rects []struct {
			Class string `xml:"class,attr"`
		} `xml:"rect"`
		Lines []struct {
			Class string `xml:"class,attr"`
		} `xml:"line"`
	}
	if err := xml.Unmarshal([]byte(svg), &chart); err != nil {
		t.Fatalf("the chart is not well-formed SVG: %v", err)
	}
	count := map[string]int{}
	for _, r := range chart.Rects {
		count[r.Class]++
	}
	for _, l := range chart.Lines {
		count[l.Class]++
	}
	// Every step a bar (one failed), the process's life a bar, its output
	// and the messages marks.
	if count["step ok"] != len(sc.Steps)-1 || count["step failed"] != 1 || count["process failed"] != 1 ||
		count["thread ok"] != 1 || count["process_output"] != 1 || count["message_sent"] != 1 || count["message_received"] != 1 {
		t.Errorf("chart elements %v", count)
	}
}

func TestReportFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.html")
	if err := report.WriteHTMLFile(path, nil, nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), "</html>") {
		t.Fatalf("report: %v %q", err, b)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left beside the report: %v", entries)
	}

	// A symbolic link is written through and stays a link; a FIFO is
	// written into, not replaced.
	real := filepath.Join(dir, "real.html")
	link := filepath.Join(dir, "link.html")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTMLFile(link, nil, nil); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link was replaced: %v %v", fi, err)
	}
	if b, err := os.ReadFile(real); err != nil || !strings.Contains(string(b), "</html>") {
		t.Errorf("nothing written through the link: %v", err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	got := make(chan string)
	go func() {
		b, _ := os.ReadFile(fifo)
		got <- string(b)
	}()
	if err := report.WriteHTMLFile(fifo, nil, nil); err != nil {
		t.Fatal(err)
	}
	if s := <-got; !strings.Contains(s, "</html>") {
		t.Errorf("the FIFO's reader got %d bytes", len(s))
	}
	if fi, err := os.Lstat(fifo); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi, err)
	}

	// One of pmrun's own descriptors, named as /dev/fd/N or /proc/self/fd/N,
	// is written through: a file opened for appending keeps what it had.
	logPath := filepath.Join(dir, "out.txt")
	if err := os.WriteFile(logPath, []byte("PREVIOUS\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for _, name := range []string{"/dev/fd/%d", "/proc/self/fd/%d"} {
		fdPath := fmt.Sprintf(name, out.Fd())
		if err := report.CheckOutputPath(fdPath); err != nil {
			t.Fatalf("%s: %v", fdPath, err)
		}
		if err := report.WriteHTMLFile(fdPath, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(logPath); !strings.HasPrefix(string(b), "PREVIOUS\n<!DOCTYPE html>") || strings.Count(string(b), "</html>") != 2 {
		t.Errorf("the descriptor's file holds %q…", b[:min(len(b), 40)])
	}
	if fi, _ := os.Stat(logPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("the descriptor's file changed mode to %v", fi.Mode())
	}
	if err := report.CheckOutputPath("/dev/fd/999"); err == nil {
		t.Error("a descriptor that is not open was accepted")
	}

	// A report replacing a file keeps the file's mode.
	private := filepath.Join(dir, "private.html")
	if err := os.WriteFile(private, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTMLFile(private, nil, nil); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(private); fi.Mode().Perm() != 0o600 {
		t.Errorf("a 0600 report became %v", fi.Mode())
	}

	if err := report.CheckOutputPath(filepath.Join(dir, "no", "r.html")); err == nil {
		t.Error("a report in a missing folder was accepted")
	}
	if err := report.CheckOutputPath(dir); err == nil {
		t.Error("a folder was accepted as a report file")
	}
}

// TestReportLimits checks that a long run still gives a page of bounded
// size that lists every failure.
func TestReportLimits(t *testing.T) {
	sc := &lang.Scenario{Name: "long", File: "long.yaml"}
	o := &lang.Outcome{Scenario: sc, Status: lang.StatusFailed}
	for i := range 2500 {
		st := &lang.Step{Index: i, Name: fmt.Sprintf("step-%d", i), Action: "log"}
		r := &lang.StepResult{Step: st, Status: lang.StatusOK}
		if i == 2400 {
			r.Status, r.Err = lang.StatusFailed, fmt.Errorf("the late failure")
		}
		o.Steps = append(o.Steps, r)
	}
	tl := report.NewTimeline(0, nil)
	now := time.Now()
	tl.Record(now, hclog.Info, "", []any{"event", "scenario_start", "scenario", "long"})
	for i := range 12_000 {
		tl.Record(now.Add(time.Duration(i)), hclog.Info, "", []any{"event", "item_produced", "worker", "p", "item", "x", "occupancy", 1})
	}
	tl.Record(now.Add(time.Second), hclog.Info, "", []any{"event", "scenario_end", "status", "failed"})
	var page bytes.Buffer
	if err := report.WriteHTML(&page, []*lang.Outcome{o}, tl); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if n := strings.Count(html, "<line class=\"item_produced\""); n != 10_000 {
		t.Errorf("%d marks drawn, want the limit, 10000", n)
	}
	for _, want := range []string{
		"2000 more bars and marks are not drawn",
		"step-1999", "the late failure", // the last listed, and the failure past the limit
		"499 more steps are not listed",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, "step-2000<") {
		t.Error("steps past the limit are listed")
	}
}

// TestTimelinePhilosopher: a philosopher's wait for a fork and its meal
// are spans on its track, the forks marks, and a deadlock a failure mark
// on the steps' row.
func TestTimelinePhilosopher(t *testing.T) {
	tl := report.NewTimeline(0, nil)
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
	tl := report.NewTimeline(0, nil)
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
	tl := report.NewTimeline(0, nil)
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
	tl := report.NewTimeline(0, nil)
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
