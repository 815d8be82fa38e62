package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

// Console reports a run to people: a line per step with ✓ or ✗ and its
// duration, the error under a failed step, and a line per scenario. On a
// terminal it colours the marks and draws a live line for a step that
// runs a while (see [ConsoleOptions]).
type Console struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool // only failures and the scenario lines
	marks marks
	live  *progress // nil: no progress line
	reg   *contract.Registry
}

// ConsoleOptions say how a [Console] writes.
type ConsoleOptions struct {
	// Quiet keeps only failures and the scenarios' results.
	Quiet bool
	// Color colours the marks with ANSI escapes: ✓ green, ✗ red (yellow
	// when the failure is allowed). Only for a terminal, or when asked.
	Color bool
	// ASCII writes plain marks — "ok", "FAIL", "skip", ">" — instead of
	// ✓, ✗, - and ▶: for a terminal or a log whose locale is not UTF-8.
	ASCII bool
	// Terminal, if set, is the terminal the console writes on: a step that
	// runs longer than a moment gets a live line on it — elapsed time and
	// the counts its events declare ([contract.Count]) — redrawn in place
	// and erased when the step ends. The console writes that line to
	// Terminal directly, so its own writer must pass every line on at
	// once. Feed it events with [Console.Progress] and start it with
	// [Console.StartProgress]. Ignored when Quiet.
	Terminal io.Writer
	// Width returns the terminal's width in columns; nil: 80.
	Width func() int
	// Registry declares the events: the lines [Console.Event] prints and
	// the counts of the live line. nil: no event has either.
	Registry *contract.Registry
}

// marks are the signs a console puts before its lines.
type marks struct {
	start, ok, failed, allowed, skipped, found, event, more string
	width                                                   int // of ok, failed, skipped and found, padded
}

// ANSI colours for the marks.
const (
	ansiGreen  = "\x1b[32m"
	ansiRed    = "\x1b[31m"
	ansiYellow = "\x1b[33m"
	ansiReset  = "\x1b[0m"
)

func newMarks(o ConsoleOptions) marks {
	m := marks{start: "▶", ok: "✓", failed: "✗", allowed: "✗", skipped: "-", found: "!", event: "│", more: "…", width: 1}
	if o.ASCII {
		m = marks{start: ">", ok: "ok  ", failed: "FAIL", allowed: "FAIL", skipped: "skip", found: "BUG ", event: "|", more: "...", width: 4}
	}
	if o.Color {
		m.ok = ansiGreen + m.ok + ansiReset
		m.failed = ansiRed + m.failed + ansiReset
		m.allowed = ansiYellow + m.allowed + ansiReset
		m.found = ansiRed + m.found + ansiReset
	}
	return m
}

// NewConsole returns a Console writing to w with ✓ and ✗ and no colour;
// quiet keeps only failures and scenario results.
func NewConsole(w io.Writer, quiet bool) *Console {
	return NewConsoleWith(w, ConsoleOptions{Quiet: quiet})
}

// NewConsoleWith returns a Console writing to w as o says.
func NewConsoleWith(w io.Writer, o ConsoleOptions) *Console {
	c := &Console{w: w, quiet: o.Quiet, marks: newMarks(o), reg: o.Registry}
	if o.Terminal != nil && !o.Quiet {
		c.live = newProgress(o, c.marks)
	}
	return c
}

// ScenarioStart implements runner.Reporter.
func (c *Console) ScenarioStart(sc *lang.Scenario, seed uint64) {
	if c.live != nil {
		c.mu.Lock()
		c.live.scenario = sc
		c.mu.Unlock()
	}
	if c.quiet {
		return
	}
	c.printf("%s %s (%s, seed %d)\n", c.marks.start, contract.Escape(sc.Name), contract.Escape(sc.File), seed)
}

// StepEnd implements runner.Reporter. Below a step's line it prints the
// error of a failed step and, whatever -q says, the lines its action's
// Note gives for the result (a program's failure and the command that
// replays it).
func (c *Console) StepEnd(sc *lang.Scenario, st *lang.Step, r *lang.StepResult) {
	var notes []string
	found := ""
	if spec := st.Spec(); spec != nil && r.Status == lang.StatusOK {
		if spec.Note != nil {
			notes = spec.Note(r.Result)
		}
		if spec.Found != nil {
			found = spec.Found(r.Result)
		}
	}
	if c.quiet && r.Status != lang.StatusFailed && len(notes) == 0 {
		return
	}
	mark, note := c.marks.ok, formatDuration(r.Duration)
	switch r.Status {
	case lang.StatusFailed:
		mark = c.marks.failed
		if st.ContinueOnError {
			mark = c.marks.allowed
			note += ", allowed to fail (continue_on_error)"
		}
	case lang.StatusSkipped:
		mark, note = c.marks.skipped, "skipped"
	default:
		if found != "" {
			// It went well, and what it went well at was finding a failure:
			// a proof that found one must not read as a pass.
			mark, note = c.marks.found, note+", found "+found
		}
	}
	label := st.Label()
	var more []string // a long log message, in full below the step's line
	if msg, ok := r.Result["message"].(string); ok && st.Action == "log" && st.Name == "" {
		label = "log: " + msg
		if utf8.RuneCountInString(label) > labelWidth || strings.Contains(msg, "\n") {
			label, more = "log", wrap(msg, 72)
		}
	}
	if st.Finally {
		label = "finally: " + label
	}
	if st.Background {
		label += " (background)"
	}
	c.printf("  %s %-48s %s\n", mark, c.truncate(label, labelWidth), note)
	for _, line := range more {
		c.printf("      %s\n", line)
	}
	for _, note := range notes {
		for _, line := range strings.Split(note, "\n") {
			c.printf("      %s\n", contract.Escape(line))
		}
	}
	if r.Err != nil {
		for _, line := range strings.Split(r.Err.Error(), "\n") {
			c.printf("      %s\n", contract.Escape(line))
		}
		c.printf("      at %s\n", st.Pos)
	}
}

// ScenarioEnd implements runner.Reporter.
func (c *Console) ScenarioEnd(o *lang.Outcome) {
	ok, failed, skipped := o.Counts()
	mark := c.marks.ok
	if o.Status != lang.StatusPassed {
		mark = c.marks.failed
	}
	if c.marks.width > 1 {
		mark = strings.TrimSpace(mark) // "ok a passed", not "ok   a passed"
	}
	counts := fmt.Sprintf("%d ok", ok)
	allowed := 0
	for _, r := range o.Steps {
		if r.Status == lang.StatusFailed && r.Step.ContinueOnError {
			allowed++
		}
	}
	switch {
	case failed > 0 && allowed == failed:
		counts += fmt.Sprintf(", %d failed (allowed)", failed)
	case failed > 0 && allowed > 0:
		counts += fmt.Sprintf(", %d failed (%d allowed)", failed, allowed)
	case failed > 0:
		counts += fmt.Sprintf(", %d failed", failed)
	}
	if skipped > 0 {
		counts += fmt.Sprintf(", %d skipped", skipped)
	}
	c.printf("%s %s %s in %s: %s (seed %d)\n", mark, contract.Escape(o.Scenario.Name), o.Status, formatDuration(o.Duration), counts, o.Seed)
	if o.Status != lang.StatusPassed && o.Err != nil {
		if _, isStep := o.Err.(*lang.StepError); !isStep {
			for _, line := range strings.Split(o.Err.Error(), "\n") {
				c.printf("  %s\n", contract.Escape(line))
			}
		}
	}
}

// Event shows an event from the log below the step that logged it, if
// its declaration gives it a console line (see [contract.Event]; a line
// holding line breaks is printed as several): what
// processes, threads, channels and labs did while the steps ran. Pass it
// to runner.EventLog.Tee with -v.
func (c *Console) Event(_ time.Time, level hclog.Level, msg string, args []any) {
	if c.reg == nil {
		return
	}
	f := contract.Fields(args)
	ev, ok := c.reg.LookupEvent(f.Str("event"))
	if !ok || ev.Console == nil {
		return
	}
	text := ev.Console(contract.Occurrence{Level: level, Message: msg, Fields: f})
	if text == "" {
		return // the declaration has nothing to say of this one
	}
	for _, line := range strings.Split(text, "\n") {
		c.printf("      %s %s\n", c.marks.event, contract.Escape(line))
	}
}

// Summary prints the line that ends a run of several scenarios.
func (c *Console) Summary(outcomes []*lang.Outcome, elapsed time.Duration) {
	var passed, failed, interrupted int
	for _, o := range outcomes {
		switch o.Status {
		case lang.StatusPassed:
			passed++
		case lang.StatusInterrupted:
			interrupted++
		default:
			failed++
		}
	}
	line := fmt.Sprintf("%d scenarios: %d passed", len(outcomes), passed)
	if failed > 0 {
		line += fmt.Sprintf(", %d failed", failed)
	}
	if interrupted > 0 {
		line += fmt.Sprintf(", %d interrupted", interrupted)
	}
	c.printf("\n%s in %s\n", line, formatDuration(elapsed))
}

func (c *Console) printf(format string, args ...any) {
	c.mu.Lock()
	if c.live != nil {
		c.live.erase() // the next tick draws it again, below
	}
	fmt.Fprintf(c.w, format, args...)
	c.mu.Unlock()
}

// truncate makes s one printable line of at most n runes, with the
// console's sign for "more".
func (c *Console) truncate(s string, n int) string {
	return truncateWith(s, n, c.marks.more)
}

func formatDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000)
	case d < time.Minute:
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return d.Round(time.Second).String()
}

// labelWidth is the room a step's label has on its line.
const labelWidth = 48

// wrap breaks text into lines of at most width runes, at spaces where it
// can, keeping its own line breaks and each line's indentation; control
// characters become spaces.
func wrap(text string, width int) []string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		para = printable(para)
		indent := para[:len(para)-len(strings.TrimLeft(para, " "))]
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = indent + word
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width:
				out = append(out, line)
				line = word
			default:
				line += " " + word
			}
		}
		out = append(out, line)
	}
	return out
}

// printable makes s fit on one line of the console: tabs and line breaks
// become spaces, and what else a terminal would act on is escaped (see
// [contract.Escape]): a label or a message may quote a binary payload.
func printable(s string) string {
	return contract.Escape(strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r', '\v', '\f':
			return ' '
		}
		return r
	}, s))
}

// truncateWith makes s one printable line of at most n runes, ending in
// more when it was cut.
func truncateWith(s string, n int, more string) string {
	s = printable(s)
	if r := []rune(s); len(r) > n {
		return string(r[:max(0, n-utf8.RuneCountInString(more))]) + more
	}
	return s
}
