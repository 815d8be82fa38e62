package report

import (
	"fmt"
	htmltemplate "html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/runner/lang"
)

// The report's chart: the track labels on the left, time running right.
const (
	chartLabelWidth = 280
	chartWidth      = 900
	chartRowHeight  = 20
	chartAxisHeight = 24
	// chartLimit bounds the bars and marks drawn for one scenario run,
	// and tableLimit the steps listed, so that a long run still gives a
	// page a browser opens; the trace (--trace) keeps them all.
	chartLimit = 10_000
	tableLimit = 2_000
)

type reportPage struct {
	Styles    htmltemplate.CSS // the declared styles' rules
	ViewStyle htmltemplate.CSS // how views of runs are drawn (package view)
	Script    htmltemplate.JS
	Title     string
	Generated string
	Passed    int
	Failed    int
	Dropped   int
	Runs      []reportRun
}

type reportRun struct {
	ID                                 string // the anchor the index links to
	Number                             int
	Name, File, Status, Seed, Duration string
	OK, Failed, Skipped, Allowed       int
	Err                                string // a failure outside any step
	Unlisted                           int    // steps left out of the table
	ViewsLeft                          int    // views of runs not drawn
	Chart                              *reportChart
	Steps                              []reportStep
}

type reportStep struct {
	Index                                  int
	Label, Action, Status, Duration, Error string
	Class                                  string // the row's: its status, and allowed
	Pos                                    string
	Message                                string // what a log step logged
	// Found is what a step that went well found wrong (see
	// [contract.Spec.Found]).
	Found string
	Views []reportView // the runs of threads it shows
}

type reportChart struct {
	Width, Height int
	// LabelWidth and PlotWidth are the widths of the labels' column and
	// of the time axis, Total the run's time in nanoseconds: the report's
	// script zooms with them.
	LabelWidth, PlotWidth int
	Total                 int64
	Rows                  []reportRow
	Axis                  []reportTick
	Hidden                int // bars and marks not drawn
	Legend                []legendEntry
}

// legendEntry is a colour of the chart and what it stands for.
type legendEntry struct {
	Color htmltemplate.CSS
	Text  string
}

type reportRow struct {
	Y, TextY, Height int
	Label            string
	Bars             []reportBar
	Marks            []reportMark
	Gauge            *reportGauge
}

type reportBar struct {
	X, W  float64
	Class string
	Title string
	Text  string // a label inside the bar, where it fits
}

// reportGauge is a gauge's line (see [contract.Gauge]) on its row.
type reportGauge struct {
	Path  string // SVG path data
	Color htmltemplate.CSS
	Top   int
	ZeroY int // where the scale's 0 is written
	Title string
}

type reportMark struct {
	X     float64
	Class string
	Title string
}

type reportTick struct {
	X     float64
	Label string
}

// WriteHTML writes one self-contained HTML page about the run: for each
// scenario run its outcome, a chart of its timeline (from tl, which may be
// nil) and a table of its steps with their errors.
func WriteHTML(w io.Writer, outcomes []*lang.Outcome, tl *Timeline) error {
	page := reportPage{Generated: time.Now().Format(time.RFC3339), ViewStyle: htmltemplate.CSS(view.Style), Script: pageScripts()}
	var runs []*runLine
	if tl != nil {
		page.Styles = declaredStyles(tl.reg)
		tl.mu.Lock()
		defer tl.mu.Unlock()
		runs = tl.runs
		page.Dropped = tl.dropped
	}
	names := suiteNames(outcomes) // "demo (run 2 of 3)" for a repeated scenario
	for i, o := range outcomes {
		if o.Status == lang.StatusPassed {
			page.Passed++
		} else {
			page.Failed++
		}
		ok, failed, skipped := o.Counts()
		rr := reportRun{
			ID: fmt.Sprintf("run-%d", i+1), Number: i + 1, Name: names[i], File: o.Scenario.File, Status: o.Status,
			Seed: fmt.Sprint(o.Seed), Duration: readable(o.Duration),
			OK: ok, Failed: failed, Skipped: skipped,
		}
		if o.Err != nil {
			if _, isStep := o.Err.(*lang.StepError); !isStep {
				rr.Err = o.Err.Error()
			}
		}
		var views map[int][]reportView
		if i < len(runs) && runs[i].scenario == o.Scenario.Name {
			views = viewsOf(i+1, runs[i])
			rr.ViewsLeft = runs[i].viewsLeft
		}
		listed := 0
		for _, s := range o.Steps {
			// Every failure is listed, and every step that shows a run;
			// the other steps that went well, up to a limit.
			if s.Status != lang.StatusFailed && len(views[s.Step.Index]) == 0 {
				if listed >= tableLimit {
					rr.Unlisted++
					continue
				}
				listed++
			}
			st := reportStep{
				Index: s.Step.Index, Label: s.Step.Label(), Action: s.Step.Action, Status: s.Status, Class: s.Status,
				Duration: readable(s.Duration), Pos: s.Step.Pos.String(),
			}
			if s.Status == lang.StatusFailed && s.Step.ContinueOnError {
				st.Status, st.Class = "failed (allowed)", "failed allowed"
				rr.Allowed++
			}
			if s.Err != nil {
				st.Error = s.Err.Error()
			}
			if msg, ok := s.Result["message"].(string); ok && s.Step.Action == "log" {
				st.Message = msg
			}
			if spec := s.Step.Spec(); spec != nil && spec.Found != nil && s.Status == lang.StatusOK {
				if st.Found = spec.Found(s.Result); st.Found != "" {
					st.Status, st.Class = "ok, found "+st.Found, "ok found"
				}
			}
			st.Views = views[s.Step.Index]
			rr.Steps = append(rr.Steps, st)
		}
		if i < len(runs) && runs[i].scenario == o.Scenario.Name {
			rr.Chart = chartOf(runs[i])
		}
		page.Runs = append(page.Runs, rr)
	}
	page.Title = fmt.Sprintf("pmrun report: %d scenario %s, %d passed, %d not", len(outcomes), plural(len(outcomes), "run", "runs"), page.Passed, page.Failed)
	return reportTemplate().Execute(w, page)
}

// chartOf lays out one run's tracks, the gauges' lines before the labs'
// workers.
func chartOf(r *runLine) *reportChart {
	end := r.endTime()
	total := end.Sub(r.start)
	if total <= 0 {
		total = time.Millisecond
	}
	x := func(at time.Time) float64 {
		f := float64(at.Sub(r.start)) / float64(total)
		return px(chartLabelWidth + math.Max(0, math.Min(1, f))*chartWidth)
	}
	c := &reportChart{Width: chartLabelWidth + chartWidth + 10, LabelWidth: chartLabelWidth, PlotWidth: chartWidth, Total: int64(total)}
	for _, tk := range ticks(total) {
		c.Axis = append(c.Axis, reportTick{X: x(r.start.Add(tk)), Label: tickLabel(tk)})
	}
	drawn := 0
	var legend legendMaker
	y := chartAxisHeight
	gaugesDrawn := false
	drawGauges := func() {
		gaugesDrawn = true
		for _, g := range r.gauges {
			c.Rows = append(c.Rows, gaugeRow(g, y, x, &legend))
			y += gaugeHeight
		}
	}
	for _, tr := range r.sortedTracks() {
		if tr.kind == contract.WorkerRow && !gaugesDrawn {
			drawGauges()
		}
		row := reportRow{Y: y, TextY: y + chartRowHeight - 6, Height: chartRowHeight, Label: tr.label}
		y += chartRowHeight
		for _, s := range tr.spans {
			if drawn >= chartLimit {
				c.Hidden++
				continue
			}
			drawn++
			stop := s.until(end)
			x0, x1 := x(s.start), x(stop)
			bar := reportBar{X: x0, W: px(math.Max(1, x1-x0)), Class: legend.span(tr, s), Title: spanTitle(r, s, stop)}
			if tr.kind == contract.StepsRow {
				bar.Text = fitText(s.name, bar.W)
			}
			row.Bars = append(row.Bars, bar)
		}
		for i := range tr.marks {
			m := &tr.marks[i]
			if drawn >= chartLimit {
				c.Hidden++
				continue
			}
			drawn++
			row.Marks = append(row.Marks, reportMark{X: x(m.at), Class: legend.mark(m),
				Title: fmt.Sprintf("%s at %s", tr.markLabel(m), readable(m.at.Sub(r.start)))})
		}
		c.Rows = append(c.Rows, row)
	}
	if !gaugesDrawn {
		drawGauges()
	}
	c.Legend = legend.entries()
	c.Height = y + 4
	return c
}

// gaugeHeight is the height of a gauge's row.
const gaugeHeight = 44

// gaugeRow draws a gauge as a line that steps from value to value, at
// most a few points to a pixel's column, so that a million items still
// make a small path.
func gaugeRow(g *gaugeLine, y int, x func(time.Time) float64, legend *legendMaker) reportRow {
	row := reportRow{Y: y, TextY: y + 14, Height: gaugeHeight, Label: g.label}
	pts := append([]gaugePoint(nil), g.points...)
	slices.SortStableFunc(pts, func(a, b gaugePoint) int { return a.at.Compare(b.at) })
	top := max(g.top, 1)
	const pad = 4
	yOf := func(v int) float64 {
		return px(float64(y+gaugeHeight-pad) - float64(v)/float64(top)*float64(gaugeHeight-2*pad))
	}
	var d strings.Builder
	lastX, lastV := -1.0, 0
	for i, p := range pts {
		px := x(p.at)
		switch {
		case i == 0:
			fmt.Fprintf(&d, "M%g %g", px, yOf(p.v))
		case px-lastX >= 0.5 || p.v == 0 || p.v == top:
			// A new column, or an extreme worth its own vertical.
			if px != lastX {
				fmt.Fprintf(&d, "H%g", px)
			}
			if p.v != lastV {
				fmt.Fprintf(&d, "V%g", yOf(p.v))
			}
		default:
			if p.v != lastV {
				fmt.Fprintf(&d, "V%g", yOf(p.v))
			}
		}
		lastX, lastV = px, p.v
	}
	color := g.decl.Color
	if color == "" {
		color = "#555"
	}
	legend.add(color, g.decl.Legend)
	row.Gauge = &reportGauge{Path: d.String(), Color: htmltemplate.CSS(color), Top: top, ZeroY: y + gaugeHeight - 2,
		Title: fmt.Sprintf("%s: %d values from 0 to %d, the scale's top", g.label, len(pts), top)}
	return row
}

// fitText returns as much of a bar's name as fits inside it, or "".
func fitText(name string, width float64) string {
	const charWidth = 6.2 // of the chart's 11px font, about
	n := int((width - 6) / charWidth)
	if n < 4 {
		return ""
	}
	return truncateWith(name, n, "…")
}

func spanTitle(r *runLine, s *span, stop time.Time) string {
	status := s.status
	if s.allowed {
		status += ", allowed (continue_on_error)"
	}
	title := fmt.Sprintf("%s: %s, %s at %s", s.name, status, readable(stop.Sub(s.start)), readable(s.start.Sub(r.start)))
	if e := s.args.Str("error"); e != "" {
		title += "\n" + e
	}
	return title
}

// px rounds a coordinate to a tenth of a pixel, which is as fine as a
// screen shows and keeps the page small.
func px(f float64) float64 { return math.Round(f*10) / 10 }

// ticks returns round times from 0 to total for the axis: at most about
// ten, at steps of 1, 2 or 5 times a power of ten.
func ticks(total time.Duration) []time.Duration {
	step := tickStep(total)
	var out []time.Duration
	for t := time.Duration(0); t <= total; t += step {
		out = append(out, t)
	}
	return out
}

func tickStep(total time.Duration) time.Duration {
	for step := time.Duration(1); ; step *= 10 {
		for _, m := range []time.Duration{1, 2, 5} {
			if total/(step*m) <= 10 {
				return step * m
			}
		}
	}
}

func tickLabel(d time.Duration) string {
	if d == 0 {
		return "0"
	}
	return d.String()
}

// readable writes a duration for people: three significant digits in
// the largest unit it reaches — 2.35s, 12.3ms, 456µs, 2.5s — and minutes
// and seconds past a minute.
func readable(d time.Duration) string {
	if d < 0 {
		return "-" + readable(-d)
	}
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	if d >= 1000 {
		digits := int(math.Floor(math.Log10(float64(d)))) + 1
		d = d.Round(time.Duration(math.Pow10(digits - 3)))
	}
	for _, u := range []struct {
		size time.Duration
		name string
	}{{time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "µs"}} {
		if d >= u.size {
			v := float64(d) / float64(u.size)
			text := strconv.FormatFloat(v, 'f', max(0, 2-int(math.Floor(math.Log10(v)))), 64)
			if strings.Contains(text, ".") {
				text = strings.TrimRight(strings.TrimRight(text, "0"), ".")
			}
			return text + u.name
		}
	}
	return fmt.Sprintf("%dns", d.Nanoseconds())
}

// reportTemplate is parsed on first use, not at start-up: every pmrun
// command would pay for it, and few write a report.
var reportTemplate = sync.OnceValue(func() *htmltemplate.Template {
	return htmltemplate.Must(htmltemplate.New("report").Parse(reportSource))
})
