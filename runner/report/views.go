package report

import (
	_ "embed"
	"encoding/json"
	"fmt"
	htmltemplate "html/template"

	"github.com/pmrun/pmrun/actions/contract/view"
)

// The runs of threads a step shows (a program's failing interleaving, a
// replay, a game: package view), drawn below the step in the HTML report
// by view's script from their JSON, and the report's own script: zoom for
// the timeline.

var (
	//go:embed report.tmpl
	reportSource string
	//go:embed report.js
	reportScript string
)

// viewLimit bounds the views kept for one scenario run, for those that
// passed and for those that found a failure apart, so that a scenario
// that runs a program ten thousand times still gives a page a browser
// opens, with its failures.
const viewLimit = 100

// stepView is one view and the step it belongs to.
type stepView struct {
	step int
	run  *view.Run
}

// keepView keeps the view an event carries in its field, if there is room.
func (r *runLine) keepView(f fields, field string) {
	v, _ := f.Get(field).(*view.Run)
	if v == nil {
		return
	}
	step, _ := intField(f, "step")
	n := 0
	for _, sv := range r.views {
		if (sv.run.Verdict == "pass") == (v.Verdict == "pass") {
			n++
		}
	}
	if n >= viewLimit {
		r.viewsLeft++
		return
	}
	r.views = append(r.views, stepView{step: step, run: v})
}

// reportView is a view as the page holds it: a place to draw it and its
// data.
type reportView struct {
	ID      string
	Data    htmltemplate.JS // JSON, with <, > and & escaped: safe inside a script element
	Summary string          // what it shows, for a page read without scripts
}

// viewsOf returns the views of run number n (from 1), by step.
func viewsOf(n int, r *runLine) map[int][]reportView {
	out := map[int][]reportView{}
	for i, sv := range r.views {
		data, err := json.Marshal(sv.run)
		if err != nil {
			continue
		}
		sum := fmt.Sprintf("program %s: %s", sv.run.Program, sv.run.Verdict)
		if sv.run.Failure != "" {
			sum += ": " + sv.run.Failure
		}
		out[sv.step] = append(out[sv.step], reportView{ID: fmt.Sprintf("view-%d-%d", n, i+1), Data: htmltemplate.JS(data), Summary: sum})
	}
	return out
}

// pageScripts is the script every report holds: view's, then the
// report's.
func pageScripts() htmltemplate.JS {
	return htmltemplate.JS(view.Script + "\n" + reportScript)
}
