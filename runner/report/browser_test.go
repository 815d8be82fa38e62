package report_test

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp/kb"
	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract/view/viewtest"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

// labReport runs a lab of the book with its timeline and writes its
// report; it returns the report's file.
func labReport(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join("..", "..", "scenarios", "labs", "book", name+".yaml")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return reportOf(t, name, path, src)
}

// reportOf runs the scenario src of file path and writes its report.
func reportOf(t *testing.T, name, path string, src []byte) string {
	t.Helper()
	sc, err := lang.Parse(path, src, lang.LoadOptions{Registry: actions.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	tl := report.NewTimeline(actions.Registry(), 0, []*lang.Scenario{sc})
	log := runner.NewEventLog(io.Discard, hclog.Info)
	log.Tee(tl.Record)
	o := runner.Run(context.Background(), sc, runner.Options{RunID: "r1", Log: log})
	if o.Status != lang.StatusPassed {
		t.Fatalf("%s %s: %v", name, o.Status, o.Err)
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page, []*lang.Outcome{o}, tl); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name+".html")
	if err := os.WriteFile(out, page.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReportInBrowser opens the reports of two labs in headless Chromium:
// the flag lock's race and the rendezvous' deadlock are drawn below their
// find steps (a lane per thread with its code and step numbers, the steps
// in a table, the broken rule, the wait-for graph); a click or an arrow
// key walks the steps; the copy button copies the replay line, and the
// pmrun play line beside it is the same with run changed to play; the
// timeline zooms, its labels kept.
func TestReportInBrowser(t *testing.T) {
	t.Parallel()
	b := viewtest.New(t)

	b.Open("file://"+labReport(t, "mutex"), ".pv")
	if n := b.Count("section.pv"); n != 3 {
		t.Errorf("%d runs drawn, want 3 (find, replay, proof)", n)
	}
	if n := b.Count("section.pv.pv-broke"); n != 2 {
		t.Errorf("%d runs drawn as broken, want 2", n)
	}
	first := "#view-1-1 "
	if got := b.Text(first + ".pv-rule-row"); !strings.Contains(got, "mutual_exclusion: ") {
		t.Errorf("the rule row says %q", got)
	}
	if n := b.Count(first + ".pv-lane"); n != 2 {
		t.Errorf("%d lanes", n)
	}
	if got := b.Text(first + ".pv-lane .pv-line .pv-src"); !strings.Contains(got, "repeat: 2") {
		t.Errorf("the first lane's code starts %q", got)
	}
	rows := b.Count(first+".pv-table tbody tr") - 2 // the start and the rule
	if rows < 4 || b.Count(first+".pv-table tr.pv-failed") != 1 {
		t.Errorf("%d steps, %d failed", rows, b.Count(first+".pv-table tr.pv-failed"))
	}
	if got := b.Text(first + ".pv-said"); !strings.HasPrefix(got, "step ") || !strings.Contains(got, "✗ mutual_exclusion") {
		t.Errorf("the player shows %q at first, not the failing step", got)
	}
	b.Click(first + ".pv-table tbody tr:nth-child(4)") // step 3
	if got := b.Text(first + ".pv-said"); !strings.HasPrefix(got, "step 3 of ") {
		t.Errorf("after a click on step 3: %q", got)
	}
	b.Key(kb.ArrowLeft)
	if got := b.Text(first + ".pv-said"); !strings.HasPrefix(got, "step 2 of ") {
		t.Errorf("after ←: %q", got)
	}
	if n := b.Count(first + ".pv-line.pv-sel"); n != 1 {
		t.Errorf("%d selected lines in the lanes", n)
	}
	b.Click(first + ".pv-copy")
	b.Wait(`document.querySelector("#view-1-1 .pv-copy").textContent !== "Copy"`)
	if got := b.Text(first + ".pv-copy"); got != "Copied" {
		t.Errorf("the copy button says %q", got)
	}
	replay, play := b.Text(first+".pv-replay:not(.pv-play) .pv-cmd"), b.Text(first+".pv-play .pv-cmd")
	if args, ok := strings.CutPrefix(replay, "pmrun run "); !ok || play != "pmrun play "+args {
		t.Errorf("the replay command %q and the play command %q", replay, play)
	}
	var width0, width1 float64
	b.Eval(`document.querySelector(".chart svg").width.baseVal.value`, &width0)
	b.Click(`.zoom button[data-zoom="in"]`)
	b.Eval(`document.querySelector(".chart svg").width.baseVal.value`, &width1)
	if width1 < width0+800 || b.Count(".chart svg g.labels text") < 3 {
		t.Errorf("zoomed in: width %v → %v, %d labels kept", width0, width1, b.Count(".chart svg g.labels text"))
	}
	b.Click(`.zoom button[data-zoom="fit"]`)
	b.Shot("report-mutex")

	b.Open("file://"+labReport(t, "rendezvous"), ".pv")
	if n := b.Count(first + ".pv-graph .pv-node"); n != 2 {
		t.Errorf("%d nodes in the wait-for graph", n)
	}
	if n := b.Count(first + ".pv-graph path.pv-edge.pv-cycle"); n != 2 {
		t.Errorf("%d edges of the cycle", n)
	}
	if n := b.Count(first + ".pv-line.pv-stuck"); n != 2 {
		t.Errorf("%d lines where a thread is stuck", n)
	}
	if got := b.Text(first + ".pv-explain"); !strings.Contains(got, "cycle: A → b_arrived → B → a_arrived → A") {
		t.Errorf("the explanation: %q", got)
	}
	b.Shot("report-rendezvous")
}

// edgeCases are runs the drawing must survive: a deadlock nobody can
// release (a graph without edges), a program without shared objects, a
// thread that never takes a step.
const edgeCases = `name: edges
programs:
  stuck:
    semaphores: {s: 0}
    threads:
      A: [wait: s]
  bare:
    threads:
      A: [yield]
      B: [yield]
      C: [while: "false"]
steps:
  - id: stuck
    program: {run: stuck, scheduler: exhaustive}
  - id: bare
    program: {run: bare, scheduler: exhaustive}
`

// TestReportEdgeCasesInBrowser: those runs are drawn without an error in
// the page's console.
func TestReportEdgeCasesInBrowser(t *testing.T) {
	t.Parallel()
	b := viewtest.New(t)
	path := filepath.Join(t.TempDir(), "edges.yaml")
	if err := os.WriteFile(path, []byte(edgeCases), 0o600); err != nil {
		t.Fatal(err)
	}
	b.Open("file://"+reportOf(t, "edges", path, []byte(edgeCases)), ".pv")
	if n := b.Count("section.pv"); n != 2 {
		t.Errorf("%d runs drawn, want 2", n)
	}
	if n, e := b.Count("#view-1-1 .pv-graph .pv-node"), b.Count("#view-1-1 .pv-graph path.pv-edge"); n != 1 || e != 0 {
		t.Errorf("the graph of a deadlock nobody can release: %d nodes, %d edges", n, e)
	}
	if got := b.Text("#view-1-1 .pv-explain"); !strings.Contains(got, "nobody signals it") {
		t.Errorf("the explanation: %q", got)
	}
	b.Shot("report-edges")
}
