package report

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

// The live progress line: drawn on a terminal for a step that has run
// longer than progressAfter, redrawn every progressEvery, erased when the
// step ends or the console prints.
const (
	progressAfter = 500 * time.Millisecond
	progressEvery = 100 * time.Millisecond
)

// progress is the state of a console's live line. The console's mutex
// guards it.
type progress struct {
	term     io.Writer
	width    func() int
	marks    marks
	spinner  []string
	scenario *lang.Scenario // for step labels
	running  []*liveStep    // in the order they started
	drawn    bool           // a line is on the screen
	frame    int
	held     int // Hold calls not yet released: nothing is drawn
}

// liveStep is a running step and what its events counted.
type liveStep struct {
	index   int
	label   string
	started time.Time
	counts  []liveCount // in the order first seen
}

type liveCount struct {
	noun string
	n    int
}

func newProgress(o ConsoleOptions, m marks) *progress {
	p := &progress{term: o.Terminal, width: o.Width, marks: m, spinner: strings.Split("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏", "")}
	if o.ASCII {
		p.spinner = []string{"|", "/", "-", "\\"}
	}
	if p.width == nil {
		p.width = func() int { return 80 }
	}
	return p
}

// Progress takes one event, as runner.EventLog.Tee passes it on: a step's
// start and end, and the events whose declaration counts them
// ([contract.Count]). Pass it to Tee when the console has a terminal.
func (c *Console) Progress(at time.Time, level hclog.Level, msg string, args []any) {
	if c.live == nil || c.reg == nil {
		return
	}
	f := contract.Fields(args)
	event := f.Str("event")
	var count *contract.Count
	switch event {
	case contract.StepStart, contract.StepEnd:
	default:
		ev, ok := c.reg.LookupEvent(event)
		if !ok || ev.Count == nil {
			return
		}
		count = ev.Count
	}
	step, hasStep := f.Int("step")
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.live
	switch event {
	case contract.StepStart:
		p.start(step, at, f)
	case contract.StepEnd:
		p.end(step)
	default:
		s := p.find(step, hasStep)
		if s == nil {
			return
		}
		s.add(count.Noun, count.Add(contract.Occurrence{Level: level, Message: msg, Fields: f}))
	}
}

func (p *progress) start(index int, at time.Time, f contract.Fields) {
	label := f.Str("action")
	if id := f.Str("step_id"); id != "" {
		label = id + " (" + label + ")"
	}
	if p.scenario != nil {
		if st := p.scenario.StepAt(index); st != nil {
			label = st.Label()
		}
	}
	p.running = append(p.running, &liveStep{index: index, label: label, started: at})
}

func (p *progress) end(index int) {
	for i, s := range p.running {
		if s.index == index {
			p.running = append(p.running[:i], p.running[i+1:]...)
			break
		}
	}
	if len(p.running) == 0 {
		p.erase()
	}
}

// find returns the running step an event belongs to: the one it names,
// else (an event from an agent, say) the last to start.
func (p *progress) find(index int, named bool) *liveStep {
	for i := len(p.running) - 1; i >= 0; i-- {
		if !named || p.running[i].index == index {
			return p.running[i]
		}
	}
	if len(p.running) > 0 {
		return p.running[len(p.running)-1]
	}
	return nil
}

func (s *liveStep) add(noun string, n int) {
	for i := range s.counts {
		if s.counts[i].noun == noun {
			s.counts[i].n += n
			return
		}
	}
	s.counts = append(s.counts, liveCount{noun: noun, n: n})
}

// erase removes the line from the screen, if it is there.
func (p *progress) erase() {
	if p.drawn {
		_, _ = io.WriteString(p.term, "\r\x1b[K")
		p.drawn = false
	}
}

// draw shows the line for the last step to start of those that have run
// longer than a moment at now: a quick step beside a long background one
// leaves the line to the long one.
func (p *progress) draw(now time.Time) {
	if p.held > 0 {
		return
	}
	var s *liveStep
	for i := len(p.running) - 1; i >= 0 && s == nil; i-- {
		if now.Sub(p.running[i].started) >= progressAfter {
			s = p.running[i]
		}
	}
	if s == nil {
		p.erase()
		return
	}
	elapsed := now.Sub(s.started)
	p.frame++
	line := fmt.Sprintf("  %s %s  %s", p.spinner[p.frame%len(p.spinner)], s.label, elapsedText(elapsed))
	for _, c := range s.counts {
		line += fmt.Sprintf(" · %s %s", thousands(c.n), c.noun)
	}
	if n := len(p.running) - 1; n > 0 {
		line += fmt.Sprintf(" (+%d more running)", n)
	}
	if p.marks.width > 1 {
		line = strings.ReplaceAll(line, " · ", ", ")
	}
	// One row, never wrapped: a wrapped line could not be redrawn in place.
	line = truncateWith(line, max(10, p.width()-1), p.marks.more)
	_, _ = io.WriteString(p.term, "\r\x1b[K"+line)
	p.drawn = true
}

// StartProgress starts redrawing the live line, if the console has a
// terminal, and returns what stops it and erases the line.
func (c *Console) StartProgress() (stop func()) {
	if c.live == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				c.tick(now)
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		c.mu.Lock()
		c.live.erase()
		c.mu.Unlock()
	}
}

// Hold erases the live line and draws it no more until release is
// called, so that text drawn on the terminal meanwhile (a manual
// scheduler's game, its prompts) is not written over.
func (c *Console) Hold() (release func()) {
	if c.live == nil {
		return func() {}
	}
	c.mu.Lock()
	c.live.held++
	c.live.erase()
	c.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			c.live.held--
			c.mu.Unlock()
		})
	}
}

// tick redraws the live line as of now.
func (c *Console) tick(now time.Time) {
	c.mu.Lock()
	c.live.draw(now)
	c.mu.Unlock()
}

// elapsedText is a step's running time for the live line: 0.8s, 12.3s,
// 2m05s.
func elapsedText(d time.Duration) string {
	if d < time.Minute {
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		s = "-" + s
	}
	return s
}
