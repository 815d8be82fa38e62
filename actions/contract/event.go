package contract

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"
)

// Event declares one event an action logs (the value of its "event"
// field) and how pmrun shows it: on which row of the run's timeline it is
// drawn, whether it starts or ends a span there or is a mark, the span's
// style (its colour and legend entry), its label, whether it marks a
// failure, and the line `pmrun run -v` prints for it.
//
// An action lists the events it emits in [Spec.Events]; the events the
// host logs for every action (processes, threads) are declared once, by
// package actions, with [Registry.Declare]. The timeline, the report's legend and the console read
// these declarations and name no event of their own, so a new action's
// events are drawn and printed without another file changing. An event
// with no declaration is written to the log and shown nowhere else.
//
// What one event does, in this order: its Mark is drawn (if its If
// holds), the row's open span is ended by the first of Ends that matches
// it, and a span is started by the first of Starts whose If holds.
type Event struct {
	// Name is the event's name, as logged.
	Name string
	// Row is the timeline row the event is drawn on.
	Row Row
	// Mark, if set, draws a mark on the row at the event's time.
	Mark *Mark
	// Ends end the span open on the row: the first whose Style is the
	// open span's (or nil) ends it.
	Ends []End
	// Starts open a span on the row: the first whose If holds. A row has
	// at most one open span: starting another ends it as "stopped". A
	// span on a worker's row also ends, at the latest, with its step. The
	// steps' row takes marks only.
	Starts []Start
	// Console is the line -v prints for the event, below the step that
	// logged it; nil prints none. [FieldLine] prints the event's name and
	// its fields.
	Console Label
	// Count, if set, counts the event in the live progress line that
	// pmrun draws on a terminal for a step that runs a while: "1,204
	// items consumed".
	Count *Count
	// Gauge, if set, draws a value the event carries as a line over time,
	// on a row of its own for each step: a buffer's occupancy. Events
	// that share a Gauge draw one line.
	Gauge *Gauge
	// View, if set, names the event's field that holds a *view.Run
	// (package actions/contract/view): a run of threads laid out to be drawn
	// (their code, the steps in order, the values after each, the broken
	// rule), which the HTML report draws below the event's step.
	View string
}

// Gauge is a whole-number value drawn as a line over the run's time.
type Gauge struct {
	// Label names the line's row: "buffer occupancy".
	Label string
	// Field is the event's field that holds the value.
	Field string
	// Max, if set, is the field that holds the top of the scale (a
	// buffer's size); otherwise the highest value drawn is.
	Max string
	// Color is the line's CSS colour; Legend what the legend says of it.
	Color, Legend string
}

// Count says what an event counts in a step's progress line.
type Count struct {
	// Noun is what is counted, as the line says it: "items consumed".
	Noun string
	// Field, if set, names the event's whole-number field to add (a
	// receive of 100 messages adds 100); otherwise each event adds one.
	Field string
}

// Add returns how much the event o adds to the count.
func (c *Count) Add(o Occurrence) int {
	if c.Field == "" {
		return 1
	}
	switch n := o.Fields.Get(c.Field).(type) {
	case int:
		return n
	case int64:
		return int(n)
	case uint64:
		return int(n)
	case float64: // an agent's event, decoded from JSON
		return int(n)
	}
	return 0
}

// RowKind is a kind of timeline row. Rows are shown kind by kind, in the
// order of the constants; a lab's workers last, by name.
type RowKind int

// The kinds of rows.
const (
	StepsRow   RowKind = iota // the steps' lane, for marks such as a failed assertion
	ProcessRow                // a process's life
	ThreadRow                 // a thread's life
	ChannelRow                // a channel's messages
	WorkerRow                 // a lab's worker: a philosopher, a reader, a producer…
)

var rowKindNames = [...]string{"step", "process", "thread", "channel", "worker"}

// String is the kind's name, which is also the class of its spans in the
// report and their category in a trace.
func (k RowKind) String() string {
	if k < 0 || int(k) >= len(rowKindNames) {
		return fmt.Sprintf("row%d", int(k))
	}
	return rowKindNames[k]
}

// Row says which timeline row an event is drawn on.
type Row struct {
	Kind RowKind
	// Key lists the fields whose values tell rows of the kind apart, such
	// as "worker", or "process" and "thread"; events with the same values
	// share a row. The steps' lane has none.
	Key []string
	// Label names the row; a later event whose label adds " (…)" to it,
	// such as a pid, renames the row.
	Label Label
}

// Style is how a span is drawn in the report: its class on its row, its
// colour, and its entry in the legend of the runs that show it.
type Style struct {
	// Name is the span's class on its row (CSS): wait, meal, ok. One name
	// on one kind of row has one colour, whichever action declares it.
	Name string
	// Color is a CSS colour, such as #c9c9c9.
	Color string
	// Legend is what the legend says of it; "" leaves it out.
	Legend string
}

// Mark is a mark drawn at the moment of an event.
type Mark struct {
	// Label says what happened; nil: the event's message.
	Label Label
	// Color is the mark's CSS colour; "" is the default grey.
	Color string
	// Legend is what the legend says of the mark; "" leaves it out.
	Legend string
	// If, when set, draws the mark only when it holds.
	If Cond
	// Failed, when set and holding, draws the mark as a failure (red).
	Failed Cond
}

// End ends the span open on the event's row.
type End struct {
	// Style is the style the open span must have; nil ends any.
	Style *Style
	// Status says how the span ended.
	Status Label
	// Failed, when set and holding, draws the span as a failure.
	Failed Cond
	// KeepFields keeps the ending event's fields with the span, beside
	// the starting one's (a process's exit code with its life).
	KeepFields bool
}

// Start opens a span on the event's row.
type Start struct {
	// If, when set, opens the span only when it holds.
	If Cond
	// Style is how the span is drawn; nil: as a step that went well.
	Style *Style
	// Label names the span; nil: the event's name.
	Label Label
}

// Occurrence is one logged event as labels and conditions read it: its
// level, its message and its fields. A mark's label is made when the
// timeline is written, and sees the fields the mark keeps: the event's own
// and its row's key, not the run's and step's (run_id, scenario, event,
// step, step_id, action).
type Occurrence struct {
	Level   hclog.Level
	Message string
	Fields  Fields
}

// Label makes a text from an event: a row's or a span's name, a mark's
// label, a console line. [Text] makes one from a template.
type Label func(o Occurrence) string

// Cond is a condition on an event, such as [IsTrue]("broke_rule").
type Cond func(o Occurrence) bool

// Fields are an event's key/value pairs, as they were logged.
type Fields []any

// Get returns the value of key; nil if the event has none.
func (f Fields) Get(key string) any {
	for i := 0; i+1 < len(f); i += 2 {
		if k, ok := f[i].(string); ok && k == key {
			return f[i+1]
		}
	}
	return nil
}

// Str returns the value of key as text: "" if the event has none.
func (f Fields) Str(key string) string {
	switch v := f.Get(key).(type) {
	case nil:
		return ""
	case string:
		return v
	default:
		return fmt.Sprint(v)
	}
}

// Bool reports whether key is the boolean true.
func (f Fields) Bool(key string) bool {
	b, _ := f.Get(key).(bool)
	return b
}

// Int returns the value of key if it is an int.
func (f Fields) Int(key string) (int, bool) {
	n, ok := f.Get(key).(int)
	return n, ok
}

// Text returns a Label that fills in template: each {name} is replaced by
// the event's field name ("" when it has none), the rest kept as it is.
// Text("took fork {fork}") labels a fork_taken event with fork 2 "took
// fork 2".
func Text(template string) Label {
	type part struct {
		text  string
		field bool
	}
	var parts []part
	rest := template
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			parts = append(parts, part{text: rest})
			break
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			parts = append(parts, part{text: rest})
			break
		}
		j += i
		if name := rest[i+1 : j]; !isFieldName(name) {
			parts = append(parts, part{text: rest[:i+1]}) // a brace, not a field
			rest = rest[i+1:]
			continue
		}
		if i > 0 {
			parts = append(parts, part{text: rest[:i]})
		}
		parts = append(parts, part{text: rest[i+1 : j], field: true})
		rest = rest[j+1:]
	}
	return func(o Occurrence) string {
		var b strings.Builder
		for _, p := range parts {
			if p.field {
				b.WriteString(o.Fields.Str(p.text))
			} else {
				b.WriteString(p.text)
			}
		}
		return b.String()
	}
}

func isFieldName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Always holds for every event: Failed: Always marks every one a failure.
func Always(Occurrence) bool { return true }

// IsTrue holds when the event's field is the boolean true.
func IsTrue(field string) Cond {
	return func(o Occurrence) bool { return o.Fields.Bool(field) }
}

// Equals holds when the event's field, as text, is value.
func Equals(field, value string) Cond {
	return func(o Occurrence) bool { return o.Fields.Str(field) == value }
}

// FieldLine is the console line of an event that lists it whole: its
// name, then each field as key=value (a message or line quoted), leaving
// out the run's and step's fields, which the lines around it already say.
func FieldLine(o Occurrence) string {
	var b strings.Builder
	b.WriteString(o.Fields.Str("event"))
	f := o.Fields
	for i := 0; i+1 < len(f); i += 2 {
		k, _ := f[i].(string)
		switch k {
		case "event", "run_id", "scenario", "step", "step_id", "action":
		case "message", "line":
			fmt.Fprintf(&b, " %s=%q", k, f[i+1])
		default:
			fmt.Fprintf(&b, " %s=%v", k, f[i+1])
		}
	}
	return b.String()
}

// isColor reports whether c is a colour the report can write into its
// style sheet as it is: "" (the default), #rgb, #rrggbb (with alpha too)
// or a name such as teal.
func isColor(c string) bool {
	if c == "" {
		return true
	}
	digits, hex := strings.CutPrefix(c, "#")
	for _, r := range digits {
		switch {
		case r >= 'a' && r <= 'z' && !hex, r >= '0' && r <= '9' && hex, (r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') && hex:
		default:
			return false
		}
	}
	return !hex || len(digits) == 3 || len(digits) == 4 || len(digits) == 6 || len(digits) == 8
}
