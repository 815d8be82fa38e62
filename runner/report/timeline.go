package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

// Timeline keeps what a run did as spans and marks on tracks (rows): a
// span for every step, from its start to its end, and the spans and marks
// that the other events' declarations ask for (see [contract.Event]): a
// process's or a thread's life, a message sent, a lab worker's wait, a
// failed assertion. --trace writes it in Chrome's trace event format (see
// [Timeline.WriteTrace]) and --report draws it in an HTML page (see
// [WriteHTML]). Feed it the run's events with runner.EventLog.Tee and
// [Timeline.Record].
type Timeline struct {
	mu     sync.Mutex
	limit  int
	kept   int // spans and marks, over all runs
	labels map[string]*lang.Scenario
	reg    *contract.Registry

	runs    []*runLine
	dropped int // spans and marks left out past the limit
}

// DefaultTimelineLimit is how many spans and marks a [Timeline] keeps;
// the events past it are counted, not kept, so that a run of a million
// traced prodcons items does not hold them all in memory.
const DefaultTimelineLimit = 100_000

// NewTimeline returns a Timeline that draws events as reg declares them
// and keeps up to limit spans and marks (0: [DefaultTimelineLimit]).
// scenarios, if given, name the steps by their labels (see
// [lang.Step.Label]) rather than by their actions.
func NewTimeline(reg *contract.Registry, limit int, scenarios []*lang.Scenario) *Timeline {
	if reg == nil {
		panic("report: NewTimeline without a registry of events")
	}
	if limit <= 0 {
		limit = DefaultTimelineLimit
	}
	t := &Timeline{limit: limit, labels: make(map[string]*lang.Scenario), reg: reg}
	for _, sc := range scenarios {
		t.labels[sc.File+"\x00"+sc.Name] = sc
	}
	return t
}

// runLine is one scenario run, from its scenario_start event.
type runLine struct {
	scenario, file string
	seed           any
	status         string
	start, end     time.Time
	sc             *lang.Scenario // for step labels; nil if unknown

	tracks []*track
	byKey  map[string]*track
	open   map[string]*span // started and not yet ended
	steps  []*track         // lanes of steps: overlapping steps (background) go to the next
	gauges []*gaugeLine     // values drawn as lines, in the order they appeared
	views  []stepView       // runs of threads to draw below their steps
	// viewsLeft counts the views not kept (see viewLimit).
	viewsLeft int
}

// gaugeLine is one step's values of a gauge (see [contract.Gauge]): a
// buffer's occupancy, item by item.
type gaugeLine struct {
	decl   *contract.Gauge
	step   int
	label  string
	top    int // the scale's top: the declared maximum, or the highest value
	points []gaugePoint
}

type gaugePoint struct {
	at time.Time
	v  int
}

// A track is one row of the timeline: a lane of steps, a process, a
// thread, a channel or a lab's worker.
type track struct {
	kind  contract.RowKind // the order tracks are shown in
	label string
	key   contract.Fields // the fields that name the row, which its marks leave out
	spans []*span
	marks []mark
}

// A span is something with a start and an end: a step, a process's life,
// a thread's, what a lab's worker is doing.
type span struct {
	name       string
	start, end time.Time
	ended      bool
	status     string          // how it ended: ok, failed, skipped, exit 0, SIGKILL, cancelled…
	failed     bool            // drawn as a failure
	allowed    bool            // a failed step that continue_on_error allows
	style      *contract.Style // how it is drawn; nil for a step
	// step is the index of the step a worker's span belongs to; the
	// span ends with the step at the latest. nil for other spans.
	step any
	args fields // the start event's, then the end event's
}

// A mark is something that happened at one moment. It keeps the event's
// own fields and makes its label only when it is written out: a run can
// trace a hundred thousand items.
type mark struct {
	at      time.Time
	event   *contract.Event
	msg     string
	level   hclog.Level
	failed  bool
	allowed bool   // a failure in a step that continue_on_error allows
	args    fields // what is not the same for every mark of the track
}

// fields are an event's key/value pairs, as the log passes them on.
type fields = contract.Fields

// stillRunning is the status of a span whose end was not seen by the
// end of its scenario run.
const stillRunning = "still running"

// Record takes one event, as runner.EventLog.Tee passes it on. The events of
// a scenario run and its steps make the run and its lanes of steps; any
// other is drawn as its declaration says (see [contract.Event]), and one
// without a declaration is left out.
func (t *Timeline) Record(at time.Time, level hclog.Level, msg string, args []any) {
	f := fields(args)
	event := f.Str("event")
	t.mu.Lock()
	defer t.mu.Unlock()
	if event == contract.ScenarioStart {
		t.startRun(at, f)
		return
	}
	if len(t.runs) == 0 {
		return // run_start, or events from outside a scenario
	}
	r := t.runs[len(t.runs)-1]
	switch event {
	case contract.ScenarioEnd:
		r.end = at
		r.status = f.Str("status")
		for _, s := range r.open {
			t.close(s, at, stillRunning, false, nil)
		}
		clear(r.open)
	case contract.StepStart:
		t.stepStart(r, at, f)
	case contract.StepEnd:
		key := stepKey(f)
		if s := r.open[key]; s != nil {
			delete(r.open, key)
			status := f.Str("status")
			t.close(s, at, status, status == lang.StatusFailed, f)
			if i, ok := f.Get("step").(int); ok && s.failed && r.sc != nil {
				st := r.sc.StepAt(i)
				s.allowed = st != nil && st.ContinueOnError
			}
		}
		// A worker waiting when its step ended (a jammed barrier, a
		// deadlocked table) was stopped with it.
		for k, s := range r.open {
			if s.step != nil && s.step == f.Get("step") {
				delete(r.open, k)
				t.close(s, at, "stopped with its step", false, nil)
			}
		}
	default:
		if ev, ok := t.reg.LookupEvent(event); ok {
			if ev.View != "" {
				r.keepView(f, ev.View)
			}
			t.draw(r, ev, at, contract.Occurrence{Level: level, Message: msg, Fields: f})
		}
	}
}

// draw records an event as its declaration says: its mark, then the end
// of the span open on its row, then the start of the next.
func (t *Timeline) draw(r *runLine, ev *contract.Event, at time.Time, o contract.Occurrence) {
	if ev.Gauge != nil {
		t.gauge(r, ev.Gauge, at, o.Fields)
	}
	key := rowKey(ev.Row, o.Fields)
	if ev.Mark == nil && len(ev.Starts) == 0 {
		// Only an end: it draws nothing new, so it adds no row.
		t.end(r, ev, key, at, o)
		return
	}
	tr := r.row(ev.Row, key, o)
	if m := ev.Mark; m != nil && (m.If == nil || m.If(o)) {
		t.mark(tr, ev, at, m.Failed != nil && m.Failed(o), o)
	}
	t.end(r, ev, key, at, o)
	for _, s := range ev.Starts {
		if s.If == nil || s.If(o) {
			name := ev.Name
			if s.Label != nil {
				name = s.Label(o)
			}
			t.open(r, tr, key, at, name, o.Fields)
			if sp := r.open[key]; sp != nil {
				sp.style = s.Style
			}
			break
		}
	}
}

// gauge adds an event's value to its step's line of gauge g.
func (t *Timeline) gauge(r *runLine, g *contract.Gauge, at time.Time, f fields) {
	v, ok := intField(f, g.Field)
	if !ok {
		return
	}
	step, _ := intField(f, "step") // an agent's is a JSON number
	var gl *gaugeLine
	for _, l := range r.gauges {
		if l.decl == g && l.step == step {
			gl = l
			break
		}
	}
	if gl == nil {
		gl = &gaugeLine{decl: g, step: step, label: fmt.Sprintf("%s (step #%d)", g.Label, step)}
		r.gauges = append(r.gauges, gl)
	}
	if top, ok := intField(f, g.Max); ok && g.Max != "" {
		gl.top = max(gl.top, top)
	}
	gl.top = max(gl.top, v)
	if t.room() {
		gl.points = append(gl.points, gaugePoint{at: at, v: v})
	}
}

// intField returns a whole-number field, as a runner's own events carry
// it (int) or an agent's (decoded from JSON).
func intField(f fields, key string) (int, bool) {
	switch v := f.Get(key).(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case uint64:
		return int(v), true
	case float64:
		return int(v), v == float64(int(v))
	}
	return 0, false
}

// end ends the span open on the event's row with the first of its Ends
// that fits it.
func (t *Timeline) end(r *runLine, ev *contract.Event, key string, at time.Time, o contract.Occurrence) {
	s := r.open[key]
	if s == nil {
		return
	}
	for _, e := range ev.Ends {
		if e.Style == nil || e.Style == s.style {
			delete(r.open, key)
			var status string
			if e.Status != nil {
				status = e.Status(o)
			}
			var end fields
			if e.KeepFields {
				end = o.Fields
			}
			t.close(s, at, status, e.Failed != nil && e.Failed(o), end)
			return
		}
	}
}

// rowKey is the key of the row an event is drawn on: its kind and the
// values of the row's key fields.
func rowKey(row contract.Row, f fields) string {
	key := row.Kind.String()
	for _, k := range row.Key {
		key += "/" + f.Str(k)
	}
	return key
}

// row returns the track an event is drawn on, the steps' first lane for
// the steps' row.
func (r *runLine) row(row contract.Row, key string, o contract.Occurrence) *track {
	if row.Kind == contract.StepsRow {
		return r.stepLane(0)
	}
	label := key
	if row.Label != nil {
		label = row.Label(o)
	}
	tr := r.track(row.Kind, key, label)
	if tr.key == nil && len(row.Key) > 0 {
		tr.key = make(fields, 0, 2*len(row.Key))
		for _, k := range row.Key {
			tr.key = append(tr.key, k, o.Fields.Get(k))
		}
	}
	return tr
}

// markLabel says what a mark stands for, in a few words.
func (tr *track) markLabel(m *mark) string {
	if m.event.Mark == nil || m.event.Mark.Label == nil {
		return m.msg
	}
	f := m.args
	if len(tr.key) > 0 {
		f = append(tr.key[:len(tr.key):len(tr.key)], m.args...)
	}
	return m.event.Mark.Label(contract.Occurrence{Level: m.level, Message: m.msg, Fields: f})
}

func (t *Timeline) startRun(at time.Time, f fields) {
	r := &runLine{
		scenario: f.Str("scenario"), file: f.Str("file"), seed: f.Get("seed"),
		start: at, byKey: make(map[string]*track), open: make(map[string]*span),
	}
	r.sc = t.labels[r.file+"\x00"+r.scenario]
	t.runs = append(t.runs, r)
}

func (t *Timeline) stepStart(r *runLine, at time.Time, f fields) {
	i, _ := f.Get("step").(int)
	name := f.Str("action")
	if id := f.Str("step_id"); id != "" {
		name = id + " (" + name + ")"
	}
	if r.sc != nil {
		if st := r.sc.StepAt(i); st != nil {
			name = st.Label()
		}
	}
	// The first lane that is free: a background step runs beside the
	// steps that follow it.
	lane := 0
	for ; lane < len(r.steps); lane++ {
		tr := r.steps[lane]
		if n := len(tr.spans); n == 0 || tr.spans[n-1].ended {
			break
		}
	}
	t.open(r, r.stepLane(lane), stepKey(f), at, fmt.Sprintf("#%d %s", i, name), f)
}

func stepKey(f fields) string { return fmt.Sprint("step/", f.Get("step")) }

// stepLane returns lane i of the steps, adding lanes up to it.
func (r *runLine) stepLane(i int) *track {
	for len(r.steps) <= i {
		label := "steps"
		if n := len(r.steps); n > 0 {
			label = fmt.Sprintf("steps (%d)", n+1)
		}
		r.steps = append(r.steps, r.track(contract.StepsRow, fmt.Sprint("steps/", len(r.steps)), label))
	}
	return r.steps[i]
}

// track returns the track called key, adding it if it is new.
func (r *runLine) track(kind contract.RowKind, key, label string) *track {
	if tr := r.byKey[key]; tr != nil {
		if strings.HasPrefix(label, tr.label+" (") {
			tr.label = label // now with its pid or tid
		}
		return tr
	}
	tr := &track{kind: kind, label: label}
	r.byKey[key] = tr
	r.tracks = append(r.tracks, tr)
	return tr
}

// room reports whether one more span or mark may be kept, counting it
// as dropped if not.
func (t *Timeline) room() bool {
	if t.kept >= t.limit {
		t.dropped++
		return false
	}
	t.kept++
	return true
}

func (t *Timeline) open(r *runLine, tr *track, key string, at time.Time, name string, f fields) {
	if !t.room() {
		return
	}
	if old := r.open[key]; old != nil {
		// Started again before its end was seen: a worker's next thing
		// after a retried step's stopped attempt.
		t.close(old, at, "stopped", false, nil)
	}
	s := &span{name: name, start: at, args: f}
	if tr.kind == contract.WorkerRow {
		s.step = f.Get("step")
	}
	tr.spans = append(tr.spans, s)
	r.open[key] = s
}

// close ends span s with status; end, if not nil, are the fields of the
// event that ended it.
func (t *Timeline) close(s *span, at time.Time, status string, failed bool, end fields) {
	s.end, s.ended, s.status, s.failed = at, true, status, failed
	s.args = append(s.args[:len(s.args):len(s.args)], end...)
}

func (t *Timeline) mark(tr *track, ev *contract.Event, at time.Time, failed bool, o contract.Occurrence) {
	if !t.room() {
		return
	}
	m := mark{at: at, event: ev, msg: o.Message, level: o.Level, failed: failed, args: trim(o.Fields, tr.key)}
	if failed {
		m.allowed = t.allowedStep(o.Fields)
	}
	tr.marks = append(tr.marks, m)
}

// allowedStep reports whether the step an event belongs to may fail
// (continue_on_error), so that a failure it shows is drawn as allowed.
func (t *Timeline) allowedStep(f fields) bool {
	if len(t.runs) == 0 {
		return false
	}
	r := t.runs[len(t.runs)-1]
	i, ok := intField(f, "step")
	if !ok || r.sc == nil {
		return false
	}
	st := r.sc.StepAt(i)
	return st != nil && st.ContinueOnError
}

// trim returns a copy of a mark's fields without those its run, step and
// track already say, so that a mark holds little more than what it shows.
func trim(f, key fields) fields {
	n := 0
	for i := 0; i+1 < len(f); i += 2 {
		if !shared(f[i], key) {
			n += 2
		}
	}
	out := make(fields, 0, n)
	for i := 0; i+1 < len(f); i += 2 {
		if !shared(f[i], key) {
			out = append(out, f[i], f[i+1])
		}
	}
	return out
}

// shared reports whether a field is one every mark of a track has alike:
// the run's, the step's, the agent's an event came from (process), or one
// of the row's key fields.
func shared(k any, key fields) bool {
	switch k {
	case "run_id", "scenario", "event", "step", "action", "step_id", "process":
		return true
	}
	for i := 0; i < len(key); i += 2 {
		if key[i] == k {
			return true
		}
	}
	return false
}

// sortedTracks returns the run's tracks in the order they are shown:
// steps, processes, threads and channels, each kind in the order it
// appeared, then the labs' workers by name, numbers in order (producer-2
// before producer-10).
func (r *runLine) sortedTracks() []*track {
	out := append([]*track(nil), r.tracks...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.kind == contract.WorkerRow && naturalLess(a.label, b.label)
	})
	return out
}

// naturalLess orders names that end in a number by the name, then the
// number.
func naturalLess(a, b string) bool {
	pa, na := splitNumber(a)
	pb, nb := splitNumber(b)
	if pa != pb || na < 0 || nb < 0 {
		return a < b
	}
	return na < nb
}

// splitNumber splits "phil-12" into "phil-" and 12; -1 if s does not end
// in a number.
func splitNumber(s string) (string, int) {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	n, err := strconv.Atoi(s[i:])
	if err != nil {
		return s, -1
	}
	return s[:i], n
}

// traceArgs returns the fields worth showing beside a span or mark in a
// trace, as values that encode to JSON as they print; a later value of a
// key wins, so a span shows how it ended.
func traceArgs(f fields) map[string]any {
	out := make(map[string]any, len(f)/2)
	for i := 0; i+1 < len(f); i += 2 {
		k, _ := f[i].(string)
		switch k {
		case "", "event", "run_id", "scenario":
			continue
		}
		switch v := f[i+1].(type) {
		case string, bool, int, int64, uint64, float64, []string:
			out[k] = v
		case nil:
		default:
			out[k] = fmt.Sprint(v)
		}
	}
	return out
}
