package actions

import "testing"

// TestEventDeclarations: every declared event can be drawn: a name, a
// row whose kind is known and whose non-step rows have a key and a label,
// and spans and ends that say what they are.
func TestEventDeclarations(t *testing.T) {
	t.Parallel()
	if len(Registry().Events()) == 0 {
		t.Fatal("no events declared")
	}
	for _, e := range Registry().Events() {
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
		if _, ok := Registry().LookupEvent(name); !ok {
			t.Errorf("event %s is not declared", name)
		}
	}
}
