package report_test

import (
	"bytes"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

// TestReportForPeople: the page a person reads after a run of one
// scenario twice — an index of the runs at the top, each run headed by a
// name of its own, its steps' bars labelled, a failure that
// continue_on_error allows drawn and listed as allowed (and no plain
// failure in its legend), the buffer's occupancy drawn as a line within
// its row, scaled to the buffer, in the legend and in the trace as a
// counter.
func TestReportForPeople(t *testing.T) {
	t.Parallel()
	sc := mustParse(t, `name: people
steps:
  - id: pc
    prodcons: {producers: 2, consumers: 1, buffer: 3, items: 60, trace: true}
  - id: maybe
    assert: "false"
    continue_on_error: true
`)
	tl := report.NewTimeline(actions.Registry(), 0, []*lang.Scenario{sc})
	log := runner.NewEventLog(io.Discard, hclog.Info)
	log.CheckDeclared(actions.Registry(), func(name string) { t.Errorf("event %q is logged but not declared", name) })
	log.Tee(tl.Record)
	var outcomes []*lang.Outcome
	for range 2 {
		o := runner.Run(t.Context(), sc, runner.Options{Log: log})
		if o.Status != lang.StatusPassed {
			t.Fatalf("%s: %v", o.Status, o.Err)
		}
		outcomes = append(outcomes, o)
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page, outcomes, tl); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for want, n := range map[string]int{
		`<table class="index">`:                                                      1,
		`<a href="#run-1">people (run 1 of 2)</a>`:                                   1,
		`<a href="#run-2">people (run 2 of 2)</a>`:                                   1,
		`<h2 id="run-1">people (run 1 of 2) <span class="passed">passed</span></h2>`: 1,
		`<h2 id="run-2">people (run 2 of 2) <span class="passed">passed</span></h2>`: 1,
		`>#0 pc (prodcons)</text>`:                                                   2, // each run's bar, labelled
		`<td>failed (allowed)</td>`:                                                  2,
		`<span class="allowed">1 allowed</span>`:                                     2,
		`failed, allowed (continue_on_error)</span>`:                                 2, // each run's legend
		`items in the buffer</span>`:                                                 2,
		`>buffer occupancy (step #0)</text>`:                                         2,
	} {
		if got := strings.Count(html, want); got != n {
			t.Errorf("report has %q %d times, want %d", want, got, n)
		}
	}
	if strings.Contains(html, `failed</span>`) {
		t.Error("the legend lists a plain failure, though the only one was allowed")
	}
	runs := strings.Split(html, `<h2 id="run-`)[1:]
	if len(runs) != 2 {
		t.Fatalf("%d runs on the page", len(runs))
	}
	row := regexp.MustCompile(`<rect class="lane" x="0" y="(\d+)" width="\d+" height="(\d+)"[^>]*/><text x="4" y="\d+">buffer occupancy \(step #0\)</text>\n<text class="scale"[^>]*>(\d+)</text><text class="scale"[^>]*>0</text><path class="gauge" d="([^"]+)" stroke="#[0-9a-f]+">`)
	for i, run := range runs {
		if !strings.Contains(run, `<rect class="step allowed"`) || !strings.Contains(run, `<line class="assert_failed allowed"`) {
			t.Errorf("run %d: the allowed failure is not drawn as allowed", i+1)
		}
		m := row.FindStringSubmatch(run)
		if m == nil {
			t.Fatalf("run %d: no occupancy line:\n%s", i+1, run)
		}
		top, bottom := atoi(t, m[1]), atoi(t, m[1])+atoi(t, m[2])
		if m[3] != "3" {
			t.Errorf("run %d: the scale's top is %s, want the buffer's 3", i+1, m[3])
		}
		ys := regexp.MustCompile(`[MV][0-9.]+ ?([0-9.]*)`).FindAllStringSubmatch(m[4], -1)
		if len(ys) < 10 {
			t.Errorf("run %d: a line of %d points for 120 items: %s", i+1, len(ys), m[4])
		}
		for _, c := range regexp.MustCompile(`V([0-9.]+)`).FindAllStringSubmatch(m[4], -1) {
			if y, _ := strconv.ParseFloat(c[1], 64); y < float64(top) || y > float64(bottom) {
				t.Errorf("run %d: the line leaves its row [%d, %d] at y=%v", i+1, top, bottom, y)
			}
		}
	}

	doc := decodeTrace(t, tl)
	counters := 0
	for _, e := range doc.TraceEvents {
		if e.Ph == "C" && e.Name == "buffer occupancy (step #0)" {
			if v, ok := e.Args["occupancy"].(float64); !ok || v < 0 || v > 3 {
				t.Fatalf("counter %v", e.Args)
			}
			counters++
		}
	}
	if counters != 2*120 {
		t.Errorf("%d occupancy counters in the trace, want one an item, 240", counters)
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
