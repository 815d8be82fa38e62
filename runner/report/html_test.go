package report_test

import (
	"bytes"
	"context"
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

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

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
	tl := report.NewTimeline(actions.Registry(), 0, []*lang.Scenario{sc})
	log := runner.NewEventLog(io.Discard, hclog.Info)
	log.CheckDeclared(actions.Registry(), func(name string) { t.Errorf("event %q is logged but not declared", name) })
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
		"<h2 id=\"run-1\">report &lt;me&gt; <span class=\"passed\">passed</span></h2>", // names escaped
		"exit code &lt;3&gt;",         // the failed assertion's message, escaped
		`<tr class="failed allowed">`, // continue_on_error
		"<td>failed (allowed)</td>",
		`<text class="bar" x="`, // the steps' bars are labelled (as much of the label as fits)
		fmt.Sprintf("process kid (pid %d)", pid),
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if !regexp.MustCompile(`<text class="bar" [^>]*>#\d+ [^<]+</text>`).MatchString(html) {
		t.Error("no bar carries its step's number and name")
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
	// Every step a bar (one failed, which is allowed), the process's life
	// a bar, its output and the messages marks.
	if count["step ok"] != len(sc.Steps)-1 || count["step allowed"] != 1 || count["step failed"] != 0 || count["process failed"] != 1 ||
		count["thread ok"] != 1 || count["process_output"] != 1 || count["message_sent"] != 1 || count["message_received"] != 1 {
		t.Errorf("chart elements %v", count)
	}
}

func TestReportFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.html")
	if err := report.WriteHTMLFile(t.Context(), path, nil, nil); err != nil {
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
	if err := report.WriteHTMLFile(t.Context(), link, nil, nil); err != nil {
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
	// Its reader is there first (pmrun opens a FIFO without waiting for
	// one); the page fits in the pipe, so it is read once written.
	reader, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	if err := report.WriteHTMLFile(t.Context(), fifo, nil, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(reader); !strings.Contains(string(b), "</html>") {
		t.Errorf("the FIFO's reader got %d bytes", len(b))
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
		if err := report.CheckOutputPath(fdPath, true); err != nil {
			t.Fatalf("%s: %v", fdPath, err)
		}
		if err := report.WriteHTMLFile(t.Context(), fdPath, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(logPath); !strings.HasPrefix(string(b), "PREVIOUS\n<!DOCTYPE html>") || strings.Count(string(b), "</html>") != 2 {
		t.Errorf("the descriptor's file holds %q…", b[:min(len(b), 40)])
	}
	if fi, _ := os.Stat(logPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("the descriptor's file changed mode to %v", fi.Mode())
	}
	if err := report.CheckOutputPath("/dev/fd/999", true); err == nil {
		t.Error("a descriptor that is not open was accepted")
	}

	// A report replacing a file keeps the file's mode.
	private := filepath.Join(dir, "private.html")
	if err := os.WriteFile(private, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTMLFile(t.Context(), private, nil, nil); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(private); fi.Mode().Perm() != 0o600 {
		t.Errorf("a 0600 report became %v", fi.Mode())
	}

	if err := report.CheckOutputPath(filepath.Join(dir, "no", "r.html"), true); err == nil {
		t.Error("a report in a missing folder was accepted")
	}
	if err := report.CheckOutputPath(dir, true); err == nil {
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
	tl := report.NewTimeline(actions.Registry(), 0, nil)
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
