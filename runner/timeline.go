package runner

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Timeline keeps what a run did as spans and marks on tracks: a span for
// every step, process and thread, from its start to its end, and a mark
// for every message sent or received, prodcons item, philosopher's fork
// or meal, failed assertion, deadlock, log step and line of process
// output. --trace writes it in Chrome's
// trace event format (see [Timeline.WriteTrace]) and --report draws it in
// an HTML page (see [WriteReport]). Feed it the run's events with
// [EventLog.Tee] and [Timeline.Record].
type Timeline struct {
	mu     sync.Mutex
	limit  int
	kept   int // spans and marks, over all runs
	labels map[string]*Scenario

	runs    []*runLine
	dropped int // spans and marks left out past the limit
}

// DefaultTimelineLimit is how many spans and marks a [Timeline] keeps;
// the events past it are counted, not kept, so that a run of a million
// traced prodcons items does not hold them all in memory.
const DefaultTimelineLimit = 100_000

// NewTimeline returns a Timeline that keeps up to limit spans and marks
// (0: [DefaultTimelineLimit]). scenarios, if given, name the steps by
// their labels (see [Step.Label]) rather than by their actions.
func NewTimeline(limit int, scenarios []*Scenario) *Timeline {
	if limit <= 0 {
		limit = DefaultTimelineLimit
	}
	t := &Timeline{limit: limit, labels: make(map[string]*Scenario)}
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
	sc             *Scenario // for step labels; nil if unknown

	tracks []*track
	byKey  map[string]*track
	open   map[string]*span // started and not yet ended
	steps  []*track         // lanes of steps: overlapping steps (background) go to the next
}

// A track is one row of the timeline: a lane of steps, a process, a
// thread, a channel or a prodcons worker.
type track struct {
	kind  string // step, process, thread, channel or worker; the order tracks are shown in
	label string
	spans []*span
	marks []mark
}

// A span is something with a start and an end: a step, a process's life,
// a thread's.
type span struct {
	name       string
	start, end time.Time
	ended      bool
	status     string // how it ended: ok, failed, skipped, exit 0, SIGKILL, cancelled…
	failed     bool   // drawn as a failure
	style      string // how a worker's span is drawn: wait, meal, read, write, work
	// step is the index of the step a worker's span belongs to; the
	// span ends with the step at the latest. nil for other spans.
	step any
	args fields // the start event's, then the end event's
}

// A mark is something that happened at one moment. It keeps the event's
// own fields and makes its label only when it is written out: a run can
// trace a hundred thousand items.
type mark struct {
	at     time.Time
	event  string
	msg    string // the event's message, kept for log steps only
	failed bool
	args   fields // what is not the same for every mark of the track
}

// fields are an event's key/value pairs, as the log passes them on.
type fields []any

// get returns the value of key, nil if the event has none.
func (f fields) get(key string) any {
	for i := 0; i+1 < len(f); i += 2 {
		if k, ok := f[i].(string); ok && k == key {
			return f[i+1]
		}
	}
	return nil
}

func (f fields) str(key string) string { return str(f.get(key)) }

// stillRunning is the status of a span whose end was not seen by the
// end of its scenario run.
const stillRunning = "still running"

var trackOrder = map[string]int{"step": 0, "process": 1, "thread": 2, "channel": 3, "worker": 4}

// Record takes one event, as [EventLog.Tee] passes it on.
func (t *Timeline) Record(at time.Time, level hclog.Level, msg string, args []any) {
	f := fields(args)
	event := f.str("event")
	t.mu.Lock()
	defer t.mu.Unlock()
	if event == "scenario_start" {
		t.startRun(at, f)
		return
	}
	if len(t.runs) == 0 {
		return // run_start, or events from outside a scenario
	}
	r := t.runs[len(t.runs)-1]
	switch event {
	case "scenario_end":
		r.end = at
		r.status = f.str("status")
		for _, s := range r.open {
			t.close(s, at, stillRunning, false, nil)
		}
		clear(r.open)
	case "step_start":
		t.stepStart(r, at, f)
	case "step_end":
		key := stepKey(f)
		if s := r.open[key]; s != nil {
			delete(r.open, key)
			status := f.str("status")
			t.close(s, at, status, status == StatusFailed, f)
		}
		// A worker waiting when its step ended (a jammed barrier, a
		// deadlocked table) was stopped with it.
		for k, s := range r.open {
			if s.step != nil && s.step == f.get("step") {
				delete(r.open, k)
				t.close(s, at, "stopped with its step", false, nil)
			}
		}
	case "process_start":
		name := f.str("process")
		tr := r.track("process", "process/"+name, fmt.Sprintf("process %s (pid %v)", name, f.get("pid")))
		t.open(r, tr, "process/"+name, at, strings.TrimSpace(fmt.Sprint(f.get("cmd"))), f)
	case "process_exit":
		key := "process/" + f.str("process")
		if s := r.open[key]; s != nil {
			delete(r.open, key)
			code := f.get("exit_code")
			status, failed := fmt.Sprintf("exit %v", code), code != 0
			if sig := f.str("signal"); sig != "" {
				status, failed = sig, true
			}
			t.close(s, at, status, failed, f)
		}
	case "process_output":
		name := f.str("process")
		t.mark(r.track("process", "process/"+name, "process "+name), at, msg, false, f)
	case "thread_start":
		key := "thread/" + f.str("process") + "/" + f.str("thread")
		tr := r.track("thread", key, fmt.Sprintf("thread %s in %s (tid %v)", f.str("thread"), f.str("process"), f.get("tid")))
		t.open(r, tr, key, at, f.str("thread")+" "+f.str("run"), f)
	case "thread_end":
		key := "thread/" + f.str("process") + "/" + f.str("thread")
		if s := r.open[key]; s != nil {
			delete(r.open, key)
			state := f.str("state")
			t.close(s, at, state, state == "failed", f)
		}
	case "message_sent", "message_received":
		ch := f.str("channel")
		t.mark(r.track("channel", "channel/"+ch, "channel "+ch), at, msg, false, f)
	case "item_produced", "item_consumed":
		w := f.str("worker")
		t.mark(r.track("worker", "worker/"+w, "prodcons "+w), at, msg, false, f)
	case "fork_taken", "fork_wait", "fork_released", "meal":
		t.philosopher(r, at, event, msg, f)
	case "rw_wait", "rw_enter", "rw_leave":
		t.roomVisit(r, at, event, msg, f)
	case "barrier_work", "barrier_arrive", "barrier_leave":
		t.barrierRound(r, at, event, msg, f)
	case "assert_failed", "deadlock_detected":
		t.mark(r.stepLane(0), at, msg, true, f)
	case "log":
		t.mark(r.stepLane(0), at, msg, level >= hclog.Warn, f)
	}
}

// label says what a mark stands for, in a few words.
func (m *mark) label() string {
	f := m.args
	switch event := m.event; event {
	case "process_output":
		return f.str("stream") + ": " + f.str("line")
	case "message_sent", "message_received":
		verb, who := "sent", "sender"
		if event == "message_received" {
			verb, who = "received", "receiver"
		}
		label := fmt.Sprintf("%s %v bytes", verb, f.get("bytes"))
		if n, ok := f.get("count").(int); ok && n != 1 {
			label = fmt.Sprintf("%s %d messages, %v bytes", verb, n, f.get("bytes"))
		}
		if w := f.str(who); w != "" {
			label += " (" + w + ")"
		}
		return label
	case "item_produced", "item_consumed":
		return fmt.Sprintf("%s %s (occupancy %v)", strings.TrimPrefix(event, "item_"), f.str("item"), f.get("occupancy"))
	case "barrier_leave":
		return fmt.Sprintf("left barrier %v before everyone had arrived", f.get("round"))
	case "rw_enter":
		if f.str("role") == "writer" {
			return "came in to write while others were in"
		}
		return "came in to read while a writer was in"
	case "fork_taken":
		return fmt.Sprintf("took fork %v", f.get("fork"))
	case "fork_released":
		return fmt.Sprintf("put down fork %v", f.get("fork"))
	case "assert_failed":
		return "assertion failed: " + f.str("expression")
	case "deadlock_detected":
		return f.str("explanation")
	}
	return m.msg
}

// A lab worker (a philosopher, a reader or writer, a barrier worker) does
// one thing at a time, so its row has at most one open span, under the
// key workerKey(w): starting the next thing ends the last.
func workerKey(w string) string { return "worker/" + w }

// workerStarts opens the span of what worker w does from at on, in the
// given style (wait, meal, read, write, work); whatever its row had open,
// and never saw the end of, ends as stopped.
func (t *Timeline) workerStarts(r *runLine, tr *track, w string, at time.Time, name, style string, f fields) {
	t.open(r, tr, workerKey(w), at, name, f)
	if s := r.open[workerKey(w)]; s != nil {
		s.style = style
	}
}

// workerEnds ends worker w's open span, if it is of one of the styles,
// with status.
func (t *Timeline) workerEnds(r *runLine, w string, at time.Time, status string, styles ...string) {
	if s := r.open[workerKey(w)]; s != nil && slices.Contains(styles, s.style) {
		delete(r.open, workerKey(w))
		t.close(s, at, status, false, nil)
	}
}

// philosopher records a dining philosopher's event: a waiting or eating
// span, from fork_wait to the fork taken and from meal to the first fork
// put down, and a mark for each fork taken or put down.
func (t *Timeline) philosopher(r *runLine, at time.Time, event, msg string, f fields) {
	w := f.str("worker")
	tr := r.track("worker", workerKey(w), "philosopher "+w)
	switch event {
	case "fork_wait":
		label := fmt.Sprintf("waits for fork %v", f.get("fork"))
		if h := f.str("held_by"); h != "" {
			label += ", held by " + h
		}
		t.workerStarts(r, tr, w, at, label, "wait", f)
		return
	case "fork_taken":
		t.workerEnds(r, w, at, "got it", "wait")
	case "meal":
		t.workerEnds(r, w, at, "got it", "wait")
		t.workerStarts(r, tr, w, at, fmt.Sprintf("eats (meal %v)", f.get("meal")), "meal", f)
		return
	case "fork_released":
		t.workerEnds(r, w, at, "done", "meal")
		t.workerEnds(r, w, at, "gave up", "wait")
	}
	t.mark(tr, at, msg, false, f)
}

// roomVisit records a readers-writers worker's event: a span while it
// waits to come in, and one while it is in, reading or writing; an entry
// that broke the rule is a failure mark.
func (t *Timeline) roomVisit(r *runLine, at time.Time, event, msg string, f fields) {
	w := f.str("worker")
	tr := r.track("worker", workerKey(w), w)
	switch event {
	case "rw_wait":
		t.workerStarts(r, tr, w, at, "waits to come in", "wait", f)
	case "rw_enter":
		broke, _ := f.get("broke_rule").(bool)
		if broke {
			t.mark(tr, at, msg, true, f)
		}
		t.workerEnds(r, w, at, "in", "wait")
		name, style := "reads", "read"
		if f.str("role") == "writer" {
			name, style = "writes (alone)", "write"
			if broke {
				name = "writes (not alone)"
			}
		} else if n, ok := f.get("readers").(int); ok && n > 1 {
			name = fmt.Sprintf("reads (%d readers in)", n)
		}
		t.workerStarts(r, tr, w, at, name, style, f)
	case "rw_leave":
		t.workerEnds(r, w, at, "out", "read", "write")
	}
}

// barrierRound records a barrier worker's event: a span while it works
// on a round and one while it waits at the round's barrier; a departure
// before everyone had arrived is a failure mark.
func (t *Timeline) barrierRound(r *runLine, at time.Time, event, msg string, f fields) {
	w := f.str("worker")
	tr := r.track("worker", workerKey(w), w)
	switch event {
	case "barrier_work":
		t.workerStarts(r, tr, w, at, fmt.Sprintf("round %v", f.get("round")), "work", f)
	case "barrier_arrive":
		t.workerEnds(r, w, at, "done", "work")
		t.workerStarts(r, tr, w, at, fmt.Sprintf("waits at barrier %v", f.get("round")), "wait", f)
	case "barrier_leave":
		if early, _ := f.get("early").(bool); early {
			t.workerEnds(r, w, at, "left early", "wait")
			t.mark(tr, at, msg, true, f)
		} else {
			t.workerEnds(r, w, at, "through", "wait")
		}
	}
}

func (t *Timeline) startRun(at time.Time, f fields) {
	r := &runLine{
		scenario: f.str("scenario"), file: f.str("file"), seed: f.get("seed"),
		start: at, byKey: make(map[string]*track), open: make(map[string]*span),
	}
	r.sc = t.labels[r.file+"\x00"+r.scenario]
	t.runs = append(t.runs, r)
}

func (t *Timeline) stepStart(r *runLine, at time.Time, f fields) {
	i, _ := f.get("step").(int)
	name := f.str("action")
	if id := f.str("step_id"); id != "" {
		name = id + " (" + name + ")"
	}
	if r.sc != nil {
		if st := r.sc.step(i); st != nil {
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

func stepKey(f fields) string { return fmt.Sprint("step/", f.get("step")) }

// step returns the step with index i, counting the finally steps after
// the steps.
func (sc *Scenario) step(i int) *Step {
	switch {
	case i < 0:
		return nil
	case i < len(sc.Steps):
		return sc.Steps[i]
	case i-len(sc.Steps) < len(sc.Finally):
		return sc.Finally[i-len(sc.Steps)]
	}
	return nil
}

// stepLane returns lane i of the steps, adding lanes up to it.
func (r *runLine) stepLane(i int) *track {
	for len(r.steps) <= i {
		label := "steps"
		if n := len(r.steps); n > 0 {
			label = fmt.Sprintf("steps (%d)", n+1)
		}
		r.steps = append(r.steps, r.track("step", fmt.Sprint("steps/", len(r.steps)), label))
	}
	return r.steps[i]
}

// track returns the track called key, adding it if it is new.
func (r *runLine) track(kind, key, label string) *track {
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
	if tr.kind == "worker" {
		s.step = f.get("step")
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

func (t *Timeline) mark(tr *track, at time.Time, msg string, failed bool, f fields) {
	if !t.room() {
		return
	}
	m := mark{at: at, event: f.str("event"), failed: failed, args: f.trim()}
	if m.event == "log" {
		m.msg = msg
	}
	tr.marks = append(tr.marks, m)
}

// trim returns a copy of a mark's fields without those its run, step and
// track already say, so that a mark holds little more than what it shows.
func (f fields) trim() fields {
	n := 0
	for i := 0; i+1 < len(f); i += 2 {
		if !sharedField(f[i]) {
			n += 2
		}
	}
	out := make(fields, 0, n)
	for i := 0; i+1 < len(f); i += 2 {
		if !sharedField(f[i]) {
			out = append(out, f[i], f[i+1])
		}
	}
	return out
}

func sharedField(key any) bool {
	switch key {
	case "run_id", "scenario", "event", "step", "action", "step_id", "worker", "channel", "process":
		return true
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
			return trackOrder[a.kind] < trackOrder[b.kind]
		}
		return a.kind == "worker" && naturalLess(a.label, b.label)
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
func (f fields) traceArgs() map[string]any {
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

func str(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	return fmt.Sprint(v)
}
