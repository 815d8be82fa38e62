package report

import (
	"fmt"
	htmltemplate "html/template"
	"strings"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

// The colours of what any run may show, whatever its actions declare: a
// step that went well, a failure, a step skipped or a span still running,
// a process killed by a signal. The declared styles' colours come from
// their declarations (see [contract.Style]).
const (
	okColor      = "#4c9f70"
	failedColor  = "#d9534f"
	otherColor   = "#aaa"
	killedColor  = "#a0522d"
	allowedColor = "#e6b422"
)

// statusLegend are the legend entries of the statuses, in the order a
// legend lists them, before the declared styles.
var statusLegend = [...]legendEntry{
	{okColor, "step ok"}, {failedColor, "failed"}, {allowedColor, "failed, allowed (continue_on_error)"},
	{otherColor, "skipped or still running"}, {killedColor, "killed by a signal"},
}

const (
	stepOK = iota
	failedEntry
	allowedEntry
	otherEntry
	killedEntry
)

// legendMaker gives each bar and mark of one run's chart its class, and
// keeps the legend entries of what it drew: a run's legend says what its
// own chart shows.
type legendMaker struct {
	status [len(statusLegend)]bool
	styles []legendEntry
	seen   map[legendEntry]bool
}

// span returns the class of a span's bar: its row's kind, then its
// status or its style.
func (l *legendMaker) span(tr *track, s *span) string {
	kind := tr.kind.String()
	switch {
	case s.failed && s.allowed:
		l.status[allowedEntry] = true
		return kind + " allowed"
	case s.failed && strings.HasPrefix(s.status, "SIG"):
		l.status[killedEntry] = true
		return kind + " killed"
	case s.failed:
		l.status[failedEntry] = true
		return kind + " failed"
	case s.status == lang.StatusSkipped || s.status == stillRunning:
		l.status[otherEntry] = true
		return kind + " other"
	case s.style != nil:
		l.add(s.style.Color, s.style.Legend)
		return kind + " " + s.style.Name
	}
	if tr.kind == contract.StepsRow {
		l.status[stepOK] = true
	}
	return kind + " ok"
}

// mark returns the class of a mark's line: its event's name, and failed.
func (l *legendMaker) mark(m *mark) string {
	if m.failed && m.allowed {
		l.status[allowedEntry] = true
		return m.event.Name + " allowed"
	}
	if m.failed {
		l.status[failedEntry] = true
		return m.event.Name + " failed"
	}
	if mk := m.event.Mark; mk != nil {
		l.add(mk.Color, mk.Legend)
	}
	return m.event.Name
}

func (l *legendMaker) add(color, text string) {
	if color == "" || text == "" {
		return
	}
	e := legendEntry{Color: htmltemplate.CSS(color), Text: text}
	if l.seen == nil {
		l.seen = map[legendEntry]bool{}
	}
	if !l.seen[e] {
		l.seen[e] = true
		l.styles = append(l.styles, e)
	}
}

// entries returns the legend: the statuses drawn, then the declared
// styles and marks in the order the chart first shows them.
func (l *legendMaker) entries() []legendEntry {
	var out []legendEntry
	for i, drawn := range l.status {
		if drawn {
			out = append(out, statusLegend[i])
		}
	}
	return append(out, l.styles...)
}

// declaredStyles returns the CSS rules of every span style and mark
// colour reg declares, so that a bar's or a mark's class draws it in its
// colour.
func declaredStyles(reg *contract.Registry) htmltemplate.CSS {
	var b strings.Builder
	seen := map[string]bool{}
	rule := func(format string, args ...any) {
		r := fmt.Sprintf(format, args...)
		if !seen[r] {
			seen[r] = true
			b.WriteString(r)
		}
	}
	for _, ev := range reg.Events() {
		for _, st := range ev.Starts {
			if st.Style != nil && st.Style.Color != "" {
				rule("svg rect.%s.%s { fill: %s; }\n", ev.Row.Kind, st.Style.Name, st.Style.Color)
			}
		}
		if m := ev.Mark; m != nil && m.Color != "" {
			rule("svg line.%s { stroke: %s; }\n", ev.Name, m.Color)
		}
	}
	return htmltemplate.CSS(b.String())
}
