package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

const flagLab = `name: flags
programs:
  flag_lock:
    vars: {flag: false, count: 0}
    threads:
      A: &body
        - repeat: 2
          do:
            - while: flag           # </script><b>not markup</b>
            - atomic_set: flag = true
            - critical:
                - set: count = count + 1
            - atomic_set: flag = false
      B: *body
    expect: count == 4
  mutex:
    vars: {count: 0}
    semaphores: {m: 1}
    threads:
      A: &mbody [wait: m, critical: [set: count = count + 1], signal: m]
      B: *mbody
    expect: count == 2
steps:
  - id: find
    program: {run: flag_lock, scheduler: exhaustive}
  - id: proof
    program: {run: mutex, scheduler: exhaustive}
`

// TestReportDrawsProgramRuns: below a program step the report holds the
// run it shows as data for view's script: the failure a search found, with
// the code of each thread from the file, the steps and the search's
// numbers; the step reads "ok, found mutual_exclusion", not a plain ok. A
// search that passed shows its numbers. Text from the file stays text.
func TestReportDrawsProgramRuns(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "flags.yaml")
	if err := os.WriteFile(path, []byte(flagLab), 0o600); err != nil {
		t.Fatal(err)
	}
	sc, err := lang.Parse(path, []byte(flagLab), lang.LoadOptions{Registry: actions.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	tl := report.NewTimeline(actions.Registry(), 0, []*lang.Scenario{sc})
	log := runner.NewEventLog(io.Discard, hclog.Info)
	log.Tee(tl.Record)
	o := runner.Run(context.Background(), sc, runner.Options{RunID: "r1", Log: log})
	if o.Status != lang.StatusPassed {
		t.Fatalf("scenario %s: %v", o.Status, o.Err)
	}
	var page bytes.Buffer
	if err := report.WriteHTML(&page, []*lang.Outcome{o}, tl); err != nil {
		t.Fatal(err)
	}
	doc := page.String()
	if !strings.Contains(doc, `<tr class="ok found"><td class="num">0</td><td>find (program)</td><td>program</td><td>ok, found mutual_exclusion</td>`) {
		t.Error("the find step does not read as having found mutual_exclusion")
	}
	if strings.Contains(doc, "</script><b>") {
		t.Error("the file's text closed a script element")
	}
	if strings.Count(doc, "global.PmrunView = ") != 1 {
		t.Error("the page does not hold view's script once")
	}
	blocks := regexp.MustCompile(`<script type="application/json" class="pmrun-run" data-into="(view-1-\d+)">(.*?)</script>`).FindAllStringSubmatch(doc, -1)
	if len(blocks) != 2 {
		t.Fatalf("%d views, want 2", len(blocks))
	}
	var find, proof view.Run
	for i, into := range []*view.Run{&find, &proof} {
		if !strings.Contains(doc, `<div id="`+blocks[i][1]+`" class="view">`) {
			t.Errorf("no place to draw %s", blocks[i][1])
		}
		if err := json.Unmarshal([]byte(blocks[i][2]), into); err != nil {
			t.Fatalf("view %d: %v", i, err)
		}
	}
	if find.Kind != "search" || find.Verdict != "mutual_exclusion" || len(find.Steps) < 5 || !find.Steps[len(find.Steps)-1].Failed ||
		!strings.HasPrefix(find.Replay, "pmrun run "+path+" --seed ") || !strings.HasSuffix(find.Replay, " --replay "+find.Schedule) || find.Search == nil || find.Search.Scheduler != "exhaustive" ||
		!find.Search.Complete || find.Search.Failures == 0 || find.Search.States == 0 {
		t.Errorf("the find step's view: %+v", find)
	}
	if len(find.Threads) != 2 || len(find.Threads[1].Code) != 7 ||
		find.Threads[1].Code[2].Text != "    - while: flag           # </script><b>not markup</b>" {
		t.Errorf("threads %+v", find.Threads)
	}
	if proof.Verdict != "pass" || proof.Search == nil || !proof.Search.Complete || proof.Search.Failures != 0 || proof.Replay != "" {
		t.Errorf("the proof's view: %+v", proof)
	}
	if !strings.Contains(doc, html.EscapeString("program flag_lock: mutual_exclusion: "+path+":")) {
		t.Error("no summary for a page read without scripts")
	}
}
