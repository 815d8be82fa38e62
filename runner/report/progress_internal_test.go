package report

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/lang"
)

// liveConsole is a console on a fake terminal, fed events by hand and
// ticked at chosen times.
type liveConsole struct {
	*Console
	out, term bytes.Buffer
	t0        time.Time
}

func newLiveConsole(t *testing.T, o ConsoleOptions) *liveConsole {
	t.Helper()
	sc, err := lang.Parse("t.yaml", []byte("name: t\nsteps:\n  - id: pc\n    prodcons: {items: 3, trace: true}\n  - sleep: 1s\n    background: true\n"), lang.LoadOptions{Registry: actions.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	lc := &liveConsole{t0: time.Unix(1000, 0)}
	o.Terminal = &lc.term
	o.Registry = actions.Registry()
	lc.Console = NewConsoleWith(&lc.out, o)
	lc.ScenarioStart(sc, 1)
	return lc
}

func (lc *liveConsole) event(after time.Duration, args ...any) {
	lc.Progress(lc.t0.Add(after), hclog.Info, "", args)
}

// TestProgressLine: a step that runs longer than a moment gets a line on
// the terminal with its label, elapsed time and the counts its events
// declare; the line is redrawn in place and erased when the step ends.
func TestProgressLine(t *testing.T) {
	lc := newLiveConsole(t, ConsoleOptions{Width: func() int { return 120 }})
	lc.event(0, "event", "step_start", "step", 0, "action", "prodcons", "step_id", "pc")
	lc.tick(lc.t0.Add(100 * time.Millisecond))
	if lc.term.Len() != 0 {
		t.Fatalf("a line for a step running for 100ms: %q", lc.term.String())
	}
	for range 3 {
		lc.event(time.Millisecond, "event", "item_produced", "step", 0, "worker", "producer-0")
		lc.event(time.Millisecond, "event", "item_consumed", "step", 0, "worker", "consumer-0")
	}
	lc.event(time.Millisecond, "event", "message_received", "step", 0, "count", 1200)
	lc.event(time.Millisecond, "event", "thread_start", "step", 0) // declared, but counts nothing
	lc.tick(lc.t0.Add(1500 * time.Millisecond))
	want := "\r\x1b[K  ⠙ pc (prodcons)  1.5s · 3 items produced · 3 items consumed · 1,200 messages received"
	if got := lc.term.String(); got != want {
		t.Fatalf("terminal:\n%q\nwant:\n%q", got, want)
	}
	lc.tick(lc.t0.Add(2500 * time.Millisecond))
	if got := lc.term.String(); !strings.HasSuffix(got, "\r\x1b[K  ⠹ pc (prodcons)  2.5s · 3 items produced · 3 items consumed · 1,200 messages received") {
		t.Fatalf("not redrawn in place: %q", got)
	}
	lc.event(2600*time.Millisecond, "event", "step_end", "step", 0)
	if got := lc.term.String(); !strings.HasSuffix(got, "received\r\x1b[K") {
		t.Fatalf("not erased when the step ended: %q", got)
	}
	n := lc.term.Len()
	lc.tick(lc.t0.Add(3 * time.Second))
	if lc.term.Len() != n {
		t.Errorf("drawn with no step running: %q", lc.term.String()[n:])
	}
	if strings.Contains(lc.out.String(), "\r") {
		t.Errorf("the progress line went to the console's writer: %q", lc.out.String())
	}
}

// TestProgressLineGivesWay: a console line erases the live line first,
// the line goes to the long step rather than a quick one beside it, says
// how many more run, fits the terminal's width, and uses plain signs when
// the console does.
func TestProgressLineGivesWay(t *testing.T) {
	lc := newLiveConsole(t, ConsoleOptions{ASCII: true, Width: func() int { return 30 }})
	lc.event(0, "event", "step_start", "step", 1, "action", "sleep")
	lc.event(900*time.Millisecond, "event", "step_start", "step", 0, "action", "prodcons", "step_id", "pc")
	lc.tick(lc.t0.Add(time.Second))
	want := "\r\x1b[K  / sleep 1s  1.0s (+1 mor..."
	if got := lc.term.String(); got != want {
		t.Fatalf("terminal:\n%q\nwant:\n%q", got, want)
	}
	if n := len([]rune(strings.TrimPrefix(want, "\r\x1b[K"))); n > 29 {
		t.Fatalf("line of %d columns on a terminal of 30", n)
	}
	lc.printf("a console line\n")
	if got := lc.term.String(); !strings.HasSuffix(got, "...\r\x1b[K") {
		t.Fatalf("the live line was not erased before a console line: %q", got)
	}
}

// TestNoProgressWhenQuiet: -q draws no live line.
func TestNoProgressWhenQuiet(t *testing.T) {
	lc := newLiveConsole(t, ConsoleOptions{Quiet: true})
	if lc.live != nil {
		t.Fatal("a quiet console has a live line")
	}
	lc.event(0, "event", "step_start", "step", 0, "action", "sleep")
	stop := lc.StartProgress()
	stop()
	if lc.term.Len() != 0 {
		t.Errorf("terminal: %q", lc.term.String())
	}
}

// TestProgressHold: while held (a manual scheduler's game on the
// terminal), the live line is erased and not drawn; released, it is
// drawn again.
func TestProgressHold(t *testing.T) {
	lc := newLiveConsole(t, ConsoleOptions{Width: func() int { return 120 }})
	lc.event(0, "event", "step_start", "step", 0, "action", "prodcons", "step_id", "pc")
	lc.tick(lc.t0.Add(time.Second))
	release := lc.Hold()
	if got := lc.term.String(); !strings.HasSuffix(got, "\r\x1b[K") {
		t.Fatalf("Hold did not erase the line: %q", got)
	}
	n := lc.term.Len()
	lc.tick(lc.t0.Add(2 * time.Second))
	if lc.term.Len() != n {
		t.Fatalf("drawn while held: %q", lc.term.String()[n:])
	}
	release()
	release() // a second call changes nothing
	lc.tick(lc.t0.Add(3 * time.Second))
	if got := lc.term.String()[n:]; !strings.Contains(got, "pc (prodcons)  3.0s") {
		t.Errorf("not drawn again once released: %q", got)
	}
}
