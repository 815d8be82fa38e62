package report_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

// TestConsoleShowsLongLogMessages: a log step's message too long for the
// step's line, or of several lines, is printed in full below it, wrapped
// and indented; a short one stays on the line.
func TestConsoleShowsLongLogMessages(t *testing.T) {
	sc := mustParse(t, `name: c
vars:
  long: "deadlock, a circular wait:\n  phil-0 holds fork 0 and waits for fork 1, held by phil-1\nEach of the 2 holds a fork and waits for the next one's: none can eat, so none puts a fork down."
steps:
  - log: short
  - log: "${{ vars.long }}"
`)
	var out bytes.Buffer
	o := runner.Run(context.Background(), sc, runner.Options{Reporter: report.NewConsole(&out, false)})
	if o.Status != lang.StatusPassed {
		t.Fatalf("%s: %v", o.Status, o.Err)
	}
	lines := strings.Split(out.String(), "\n")
	want := []string{
		"      deadlock, a circular wait:",
		"        phil-0 holds fork 0 and waits for fork 1, held by phil-1",
		"      Each of the 2 holds a fork and waits for the next one's: none can eat,",
		"      so none puts a fork down.",
	}
	text := strings.Join(lines, "\n")
	if !strings.Contains(text, "✓ log: short ") || !strings.Contains(text, strings.Join(want, "\n")) {
		t.Errorf("console:\n%s\nwant the short message on its line and the long one as:\n%s", text, strings.Join(want, "\n"))
	}
	for _, l := range lines {
		if len([]rune(l)) > 80 {
			t.Errorf("line longer than 80 columns: %q", l)
		}
	}
}
