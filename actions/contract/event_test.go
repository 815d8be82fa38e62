package contract

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

// TestDeclareEventsRejects: mistakes in a declaration stop pmrun at
// start-up rather than draw a broken report.
func TestDeclareEventsRejects(t *testing.T) {
	wait := &Style{Name: "wait", Color: "#c9c9c9"}
	r := NewRegistry()
	r.Declare("test", &Event{Name: "process_start"}, &Event{Name: "x_wait_first", Row: Row{Kind: WorkerRow}, Starts: []Start{{Style: wait}}})
	for _, tt := range []struct {
		name string
		evs  []*Event
		want string
	}{
		{"twice", []*Event{{Name: "process_start"}}, "declared already"},
		{"the runner's", []*Event{{Name: StepEnd}}, "the runner's own"},
		{"no name", []*Event{{}}, "without a name"},
		{"bad name", []*Event{{Name: "a b"}}, "without a name"},
		{"bad colour", []*Event{{Name: "x_mark", Mark: &Mark{Color: "red; }"}}}, "is not"},
		{"bad style", []*Event{{Name: "x_span", Starts: []Start{{Style: &Style{Name: "a.b", Color: "#fff"}}}}}, "want a name"},
		{"colour clash", []*Event{{Name: "x_wait", Row: Row{Kind: WorkerRow}, Starts: []Start{{Style: &Style{Name: wait.Name, Color: "#000"}}}}}, "elsewhere"},
		{"own colour clash", []*Event{{Name: "x_two", Row: Row{Kind: ThreadRow}, Starts: []Start{{Style: &Style{Name: "two", Color: "#000"}}, {Style: &Style{Name: "two", Color: "#fff"}}}}}, "elsewhere"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, tt.want) {
					t.Errorf("panic %q, want one saying %q", msg, tt.want)
				}
				for _, e := range tt.evs {
					if got, ok := r.LookupEvent(e.Name); ok && got == e {
						t.Errorf("%s was declared", e.Name)
					}
				}
			}()
			r.Declare("test", tt.evs...)
		})
	}
}

// TestDeclared: an event is declared if the registry holds it or it is
// one of the runner's own.
func TestDeclared(t *testing.T) {
	t.Parallel()
	r := NewRegistry()
	r.Declare("test", &Event{Name: "tick", Console: FieldLine})
	for name, want := range map[string]bool{"tick": true, StepEnd: true, RunStart: true, CleanupFailed: true, "tock": false, "": false} {
		if got := r.Declared(name); got != want {
			t.Errorf("Declared(%q) = %v, want %v", name, got, want)
		}
	}
}
