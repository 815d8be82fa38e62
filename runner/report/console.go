package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/lang"
)

// Console reports a run to people: a line per step with ✓ or ✗ and its
// duration, the error under a failed step, and a line per scenario.
type Console struct {
	mu    sync.Mutex
	w     io.Writer
	quiet bool // only failures and the scenario lines
}

// NewConsole returns a Console writing to w; quiet keeps only failures and
// scenario results.
func NewConsole(w io.Writer, quiet bool) *Console {
	return &Console{w: w, quiet: quiet}
}

// ScenarioStart implements runner.Reporter.
func (c *Console) ScenarioStart(sc *lang.Scenario, seed uint64) {
	if c.quiet {
		return
	}
	c.printf("▶ %s (%s, seed %d)\n", sc.Name, sc.File, seed)
}

// StepEnd implements runner.Reporter. Below a step's line it prints the
// error of a failed step and, whatever -q says, the lines its action's
// Note gives for the result (a program's failure and the command that
// replays it).
func (c *Console) StepEnd(sc *lang.Scenario, st *lang.Step, r *lang.StepResult) {
	var notes []string
	if spec := st.Spec(); spec != nil && spec.Note != nil && r.Status == lang.StatusOK {
		notes = spec.Note(r.Result)
	}
	if c.quiet && r.Status != lang.StatusFailed && len(notes) == 0 {
		return
	}
	mark, note := "✓", formatDuration(r.Duration)
	switch r.Status {
	case lang.StatusFailed:
		mark = "✗"
		if st.ContinueOnError {
			note += ", allowed to fail (continue_on_error)"
		}
	case lang.StatusSkipped:
		mark, note = "-", "skipped"
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
	c.printf("  %s %-48s %s\n", mark, truncate(label, labelWidth), note)
	for _, line := range more {
		c.printf("      %s\n", line)
	}
	for _, note := range notes {
		for _, line := range strings.Split(note, "\n") {
			c.printf("      %s\n", line)
		}
	}
	if r.Err != nil {
		for _, line := range strings.Split(r.Err.Error(), "\n") {
			c.printf("      %s\n", line)
		}
		c.printf("      at %s\n", st.Pos)
	}
}

// ScenarioEnd implements runner.Reporter.
func (c *Console) ScenarioEnd(o *lang.Outcome) {
	ok, failed, skipped := o.Counts()
	mark := "✓"
	if o.Status != lang.StatusPassed {
		mark = "✗"
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
	c.printf("%s %s %s in %s: %s (seed %d)\n", mark, o.Scenario.Name, o.Status, formatDuration(o.Duration), counts, o.Seed)
	if o.Status != lang.StatusPassed && o.Err != nil {
		if _, isStep := o.Err.(*lang.StepError); !isStep {
			c.printf("  %s\n", o.Err)
		}
	}
}

// Event shows an event from the log below the step that logged it, if
// its declaration gives it a console line (see [actions.Event]; a line
// holding line breaks is printed as several): what
// processes, threads, channels and labs did while the steps ran. Pass it
// to runner.EventLog.Tee with -v.
func (c *Console) Event(_ time.Time, level hclog.Level, msg string, args []any) {
	f := actions.Fields(args)
	ev, ok := actions.LookupEvent(f.Str("event"))
	if !ok || ev.Console == nil {
		return
	}
	for _, line := range strings.Split(ev.Console(actions.Occurrence{Level: level, Message: msg, Fields: f}), "\n") {
		c.printf("      │ %s\n", line)
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
	fmt.Fprintf(c.w, format, args...)
	c.mu.Unlock()
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

// printable turns control characters into spaces: a label or a message
// may quote a binary payload.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// truncate makes s one printable line of at most n runes.
func truncate(s string, n int) string {
	s = printable(s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}
