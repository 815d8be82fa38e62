package actions

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/manual"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// Terminal is the person in front of pmrun, for the program action's
// manual scheduler: it reads their keys and shows them the game. A run
// without one (a test, a run with no person) fails a manual step, saying
// why. One game plays at a time.
type Terminal struct {
	mu   sync.Mutex
	in   manual.Input
	out  io.Writer
	echo bool
	hold func() (release func())
}

// HoldDuringGames has hold called before each game and what it returns
// after: the console's live line (report.Console.Hold) must not be drawn
// over a game.
func (t *Terminal) HoldDuringGames(hold func() (release func())) { t.hold = hold }

// NewTerminal reads keys from in and shows the games on out. When in is a
// terminal, each key plays as it is pressed, with no Enter, and is
// written after its prompt. Otherwise in is read a line at a time (from
// the first game on), and echo writes each line read after its prompt,
// for input that is not a terminal, so that the output reads as a
// session.
func NewTerminal(in io.Reader, out io.Writer, echo bool) *Terminal {
	if f, ok := in.(*os.File); ok {
		if keys, ok := manual.NewKeyInput(f); ok {
			return &Terminal{in: keys, out: out, echo: true}
		}
	}
	return &Terminal{in: manual.NewInput(in), out: out, echo: echo}
}

// NewTerminalLines is a Terminal whose lines come from line, for a caller
// that reads its input itself (pmrun menu): line returns the next line,
// io.EOF at the end, or ctx's cause when ctx ends first.
func NewTerminalLines(line func(ctx context.Context) (string, error), out io.Writer, echo bool) *Terminal {
	return &Terminal{in: manual.LinesInput(line), out: out, echo: echo}
}

// player is the person at the terminal as the scheduler of a game
// (scheduler: manual): file is the program's, for positions, and replay
// writes the command line that replays a schedule.
func (t *Terminal) player(file string, replay func(sched string) string) control.Player {
	return terminalPlayer{t, file, replay}
}

type terminalPlayer struct {
	t      *Terminal
	file   string
	replay func(string) string
}

// Play plays one game at a time: the console's live line is held while it
// lasts.
func (pl terminalPlayer) Play(ctx context.Context, g *control.Game) (engine.Outcome, error) {
	t := pl.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.hold != nil {
		defer t.hold()()
	}
	note := ""
	if d, ok := ctx.Deadline(); ok {
		note = fmt.Sprintf("The run's time limit stops the game in %v (pmrun run --timeout 1h gives more).", time.Until(d).Round(time.Second))
	}
	return manual.Play(ctx, g, t.in, t.out, manual.Options{File: pl.file, Replay: pl.replay, Echo: t.echo, Note: note})
}

// PrintableSchedule is a schedule's text as a console line shows it:
// whole, or its program and length when it is too long to print (and
// false).
func PrintableSchedule(text string) (string, bool) { return schedule.Printable(text) }

// ProgramInfo is a program of a scenario's programs: section, for a list
// to choose from.
type ProgramInfo struct {
	Name, Description string
	Line              int // where it is declared
}

// Programs lists the programs of a scenario's programs: section (its
// value in lang.Scenario.Sections), in the file's order.
func Programs(section any) []ProgramInfo {
	set, _ := section.(*program.Set)
	if set == nil {
		return nil
	}
	var out []ProgramInfo
	for _, name := range set.Names() {
		if p, err := set.Program(name); err == nil {
			out = append(out, ProgramInfo{Name: name, Description: p.Def().Description, Line: p.Def().Pos.Line})
		}
	}
	return out
}

// ProgramShape is what a table of the program called name of a
// scenario's programs: section has columns for: its threads in order
// (counted threads W0, W1, …) and its shared variables; nil when there is
// no such program.
func ProgramShape(section any, name string) (threads, vars []string) {
	set, _ := section.(*program.Set)
	if set == nil {
		return nil, nil
	}
	p, err := set.Program(name)
	if err != nil {
		return nil, nil
	}
	return p.Threads(), p.Vars()
}

// PlayProgram plays a game of the program called name of a scenario's
// programs: section (its value in lang.Scenario.Sections), as a program
// step does under scheduler: manual, and returns the game's schedule; no
// step runs for it. For pmrun menu, whose session has no sections.
func (t *Terminal) PlayProgram(ctx context.Context, section any, name, file string) (string, error) {
	set, _ := section.(*program.Set)
	if set == nil {
		return "", fmt.Errorf("no programs: section")
	}
	p, err := set.Program(name)
	if err != nil {
		return "", err
	}
	g, err := control.NewGame(p, control.Options{})
	if err != nil {
		return "", err
	}
	replay := func(sched string) string { return replayCommand([]string{file}, sched) }
	o, err := t.player(file, replay).Play(ctx, g)
	return o.ScheduleText, err
}
