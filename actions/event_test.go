package actions

import (
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestText(t *testing.T) {
	t.Parallel()
	o := Occurrence{Level: hclog.Info, Message: "m", Fields: Fields{"event", "fork_taken", "fork", 2, "who", "phil-1", "none", nil}}
	for _, tt := range []struct{ template, want string }{
		{"took fork {fork}", "took fork 2"},
		{"{who} took {fork}", "phil-1 took 2"},
		{"{missing}|{none}|", "||"},
		{"no fields", "no fields"},
		{"{", "{"},
		{"a {b", "a {b"},
		{"{not a field} {fork}", "{not a field} 2"},
		{"{{fork}}", "{2}"},
		{"", ""},
	} {
		if got := Text(tt.template)(o); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.template, got, tt.want)
		}
	}
}

func TestFieldLine(t *testing.T) {
	t.Parallel()
	o := Occurrence{Fields: Fields{"run_id", "r", "scenario", "s", "event", "message_sent", "step", 3, "action", "send", "step_id", "x",
		"channel", "jobs", "bytes", 5, "message", "hi\n"}}
	if got, want := FieldLine(o), `message_sent channel=jobs bytes=5 message="hi\n"`; got != want {
		t.Errorf("FieldLine = %q, want %q", got, want)
	}
}

// TestEventDeclarations: every declared event can be drawn: a name, a
// row whose kind is known and whose non-step rows have a key and a label,
// and spans and ends that say what they are.
func TestEventDeclarations(t *testing.T) {
	t.Parallel()
	if len(Events()) == 0 {
		t.Fatal("no events declared")
	}
	for _, e := range Events() {
		if e.Row.Kind < StepsRow || e.Row.Kind > WorkerRow {
			t.Errorf("%s: row kind %d", e.Name, e.Row.Kind)
		}
		if e.Row.Kind != StepsRow && (len(e.Row.Key) == 0 || e.Row.Label == nil) {
			t.Errorf("%s: a %s row needs a key and a label", e.Name, e.Row.Kind)
		}
		if e.Row.Kind == StepsRow && (len(e.Starts) > 0 || len(e.Ends) > 0) {
			t.Errorf("%s: the steps' row takes marks only", e.Name)
		}
		for _, s := range e.Starts {
			if s.Label == nil {
				t.Errorf("%s: a span without a label", e.Name)
			}
		}
		for _, end := range e.Ends {
			if end.Status == nil {
				t.Errorf("%s: an end without a status", e.Name)
			}
		}
		if e.Mark == nil && len(e.Starts) == 0 && len(e.Ends) == 0 && e.Console == nil {
			t.Errorf("%s: declared, but shown nowhere", e.Name)
		}
	}
	for _, name := range []string{"process_start", "message_sent", "fork_taken", "rw_enter", "barrier_leave", "item_produced", "deadlock_detected"} {
		if _, ok := LookupEvent(name); !ok {
			t.Errorf("event %s is not declared", name)
		}
	}
}

// TestDeclareEventsRejects: mistakes in a declaration stop pmrun at
// start-up rather than draw a broken report.
func TestDeclareEventsRejects(t *testing.T) {
	wait := &Style{Name: "wait", Color: "#c9c9c9"}
	for _, tt := range []struct {
		name string
		evs  []*Event
		want string
	}{
		{"twice", []*Event{{Name: "process_start"}}, "declared already"},
		{"no name", []*Event{{}}, "without a name"},
		{"bad name", []*Event{{Name: "a b"}}, "without a name"},
		{"bad colour", []*Event{{Name: "x_mark", Mark: &Mark{Color: "red; }"}}}, "is not"},
		{"bad style", []*Event{{Name: "x_span", Starts: []Start{{Style: &Style{Name: "a.b", Color: "#fff"}}}}}, "want a name"},
		{"colour clash", []*Event{{Name: "x_wait", Row: Row{Kind: WorkerRow}, Starts: []Start{{Style: &Style{Name: wait.Name, Color: "#000"}}}}}, "elsewhere"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("panic %q, want one saying %q", msg, tt.want)
				}
				for _, e := range tt.evs {
					if got, ok := LookupEvent(e.Name); ok && got == e {
						t.Errorf("%s was declared", e.Name)
					}
				}
			}()
			declareEvents("test", tt.evs)
		})
	}
}
