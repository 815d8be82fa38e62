package report_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

// tally is an action registered only in these tests, in a registry of
// its own, which declares two events of its own: nothing outside this
// file knows them, so the timeline, the report and the console can show
// them only from the declaration.
var (
	tallyRow     = contract.Row{Kind: contract.WorkerRow, Key: []string{"counter"}, Label: contract.Text("counter {counter}")}
	tallyWaiting = &contract.Style{Name: "tally_wait", Color: "#123456", Legend: "waiting for a tick"}
	tallyEvents  = []*contract.Event{
		{
			Name:   "tally_wait",
			Row:    tallyRow,
			Starts: []contract.Start{{Style: tallyWaiting, Label: contract.Text("waits for {what}")}},
		},
		{
			Name: "tally_tick",
			Row:  tallyRow,
			Mark: &contract.Mark{Label: contract.Text("tick {n}"), Color: "#654321", Legend: "a tick", Failed: contract.IsTrue("wrong")},
			Ends: []contract.End{{Style: tallyWaiting, Status: contract.Text("ticked")}},
			Console: func(o contract.Occurrence) string {
				return fmt.Sprintf("%s counted %s", o.Fields.Str("counter"), o.Fields.Str("n"))
			},
		},
	}
)

// tallyRegistry holds tally alone: the loader, the runner and the
// presentation need nothing of package actions.
var tallyRegistry = func() *contract.Registry {
	r := contract.NewRegistry()
	r.Register(&contract.Spec{
		Name:    "tally",
		Summary: "test action with events of its own",
		Events:  tallyEvents,
		New:     func(contract.Args) (contract.Action, error) { return tally{}, nil },
	})
	return r
}()

type tally struct{}

func (tally) Run(ctx context.Context, env *contract.Env) (contract.Result, error) {
	env.Event("tally_wait", "waiting", "counter", "c-0", "what", "a tick")
	env.Event("tally_tick", "tick", "counter", "c-0", "n", 1)
	env.Event("tally_wait", "waiting", "counter", "c-0", "what", "another")
	env.Event("tally_tick", "tick", "counter", "c-0", "n", 2, "wrong", true)
	return contract.Result{}, nil
}

// TestDeclaredEventsShown: an action's own events, declared in its Spec,
// are drawn on the timeline (a row, spans in their style, marks with
// their labels), listed in the run's legend and coloured in the report,
// and printed on the console with -v.
func TestDeclaredEventsShown(t *testing.T) {
	sc := mustParseIn(t, tallyRegistry, "name: tally\nsteps:\n  - tally: {}\n")
	var console bytes.Buffer
	con := report.NewConsoleWith(&console, report.ConsoleOptions{Registry: tallyRegistry})
	tl := report.NewTimeline(tallyRegistry, 0, []*lang.Scenario{sc})
	log := runner.NewEventLog(io.Discard, hclog.Info)
	log.CheckDeclared(tallyRegistry, func(name string) { t.Errorf("event %q is logged but not declared", name) })
	log.Tee(tl.Record)
	log.Tee(con.Event)
	o := runner.Run(t.Context(), sc, runner.Options{RunID: "r1", Log: log, Reporter: con})
	if o.Status != lang.StatusPassed {
		t.Fatalf("%s: %v", o.Status, o.Err)
	}

	doc := decodeTrace(t, tl)
	doc.checkLanes(t)
	names := doc.trackNames()
	var got []string
	for _, e := range doc.TraceEvents {
		track := names[[2]int{e.Pid, e.Tid}]
		switch {
		case e.Ph == "X" && e.Cat == "worker":
			got = append(got, fmt.Sprintf("%s: span %q %v", track, e.Name, e.Args["status"]))
		case e.Ph == "i":
			got = append(got, fmt.Sprintf("%s: mark %q %s", track, e.Name, e.Cat))
		}
	}
	want := []string{
		`counter c-0: span "waits for a tick" ticked`,
		`counter c-0: span "waits for another" ticked`,
		`counter c-0: mark "tick 1" tally_tick`,
		`counter c-0: mark "tick 2" tally_tick`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("trace:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	var page bytes.Buffer
	if err := report.WriteHTML(&page, []*lang.Outcome{o}, tl); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{
		"svg rect.worker.tally_wait { fill: #123456; }",
		"svg line.tally_tick { stroke: #654321; }",
		`<span><i style="background:#123456"></i>waiting for a tick</span>`,
		`<span><i style="background:#654321"></i>a tick</span>`,
		`<span><i style="background:#d9534f"></i>failed</span>`, // the wrong tick
		`<rect class="worker tally_wait"`,
		`<line class="tally_tick"`,
		`<line class="tally_tick failed"`,
		"<text x=\"4\" y=\"", ">counter c-0</text>",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Contains(html, "fork taken") {
		t.Error("the report's legend lists a fork, which this run never drew")
	}

	for _, want := range []string{"      │ c-0 counted 1\n", "      │ c-0 counted 2\n"} {
		if !strings.Contains(console.String(), want) {
			t.Errorf("console lacks %q:\n%s", want, console.String())
		}
	}
	if strings.Contains(console.String(), "tally_wait") {
		t.Errorf("console prints tally_wait, which declares no console line:\n%s", console.String())
	}
}
