package report_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
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

// TestConsoleEscapes: what a terminal would act on — a child's escape
// sequences shown with -v, control characters in names, messages and
// errors, bytes that are not UTF-8 — reaches the console escaped.
func TestConsoleEscapes(t *testing.T) {
	sc := mustParse(t, `name: "esc\e[2Jape"
steps:
  - spawn: {name: kid, shell: 'printf "\033]0;pwned\007\033[2Jcleared\033[31m red \302\233 \377\n"'}
  - wait: {process: kid}
  - log: "bell\a and bidi \u202e reversed"
  - assert: {that: "false", message: "why\e[1A\rforged ✓ line"}
`)
	var out bytes.Buffer
	console := report.NewConsoleWith(&out, report.ConsoleOptions{Registry: actions.Registry()})
	events := runner.NewEventLog(io.Discard, hclog.Info)
	events.CheckDeclared(actions.Registry(), func(name string) { t.Errorf("event %q is logged but not declared", name) })
	events.Tee(console.Event)
	runner.Run(context.Background(), sc, runner.Options{Reporter: console, Log: events})
	text := out.String()
	for _, r := range text {
		if r == 0x1b || r == 0x07 || r == 0x9b || r == 0x202e || r == '\r' || r == utf8.RuneError {
			t.Fatalf("the console got %U raw:\n%q", r, text)
		}
	}
	for _, want := range []string{
		`kid[stdout]: \x1b]0;pwned\x07\x1b[2Jcleared\x1b[31m red \u009b \xff`,
		`esc\x1b[2Jape`,
		`bell\x07 and bidi \u202e reversed`,
		`why\x1b[1A\x0dforged ✓ line`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("console lacks %s:\n%s", want, text)
		}
	}
}
