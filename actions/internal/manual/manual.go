// Package manual is the manual scheduler: a person is the scheduler of a
// program's run, as in The Deadlock Empire and Downey's simulator. Before
// each step it shows the shared variables, the semaphores, who holds each
// mutex and who is inside each critical region, and every thread's next
// operation with its line in the scenario file, or what it waits for; the
// player types the key of the thread that goes next (a, b, c…, the
// letters of schedules), can undo, and wins by breaking the program. At
// the end it prints the run as a table and the schedule that replays the
// game. Every step is taken by the thread's own OS thread (control.Game).
//
// On a terminal each key plays as it is pressed ([NewKeyInput]); other
// input is lines (a pipe of scripted choices, or a program such as
// pmrun's menu that reads its input itself), one or several keys a line,
// a count after a key repeating it.
package manual

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// Options say how a game is played.
type Options struct {
	// File is the scenario file, for positions.
	File string
	// Replay returns the command line that replays a schedule; nil: the
	// game prints none.
	Replay func(schedule string) string
	// Echo writes each line read after its prompt, so that the output of a
	// game played from a pipe reads as a session.
	Echo bool
	// Note, if not empty, is said after the rules (a time limit, say).
	Note string
}

type player struct {
	p      *program.Program
	g      *control.Game
	out    io.Writer
	file   string
	replay func(string) string
	echo   bool
	keys   bool // a key at a time, as pressed (keyInput)

	mu     sync.Mutex // out is written by the game and by the time warning
	prompt string     // the prompt last written, written again after a warning
	ended  bool       // the game is over: no more warnings
}

// say writes a line (or several) to the player.
func (pl *player) say(format string, args ...any) {
	pl.write(fmt.Sprintf(format, args...) + "\n")
}

// write writes text to the player, each of its lines escaped as the
// console escapes what it shows ([contract.Escape]): a program's text,
// its log and the keys echoed are the file's and the player's, and a
// terminal must not act on them (retitle the window, clear the screen).
func (pl *player) write(text string) {
	pl.mu.Lock()
	defer pl.mu.Unlock()
	pl.writeLocked(text)
}

func (pl *player) writeLocked(text string) {
	var b strings.Builder
	for line := range strings.SplitAfterSeq(text, "\n") {
		body, nl := strings.CutSuffix(line, "\n")
		b.WriteString(contract.Escape(body))
		if nl {
			b.WriteByte('\n')
		}
	}
	io.WriteString(pl.out, b.String())
}

// Play has the player choose every step of game g from in, showing the
// game on out, until the program breaks, the player stops (q, or the end
// of the input), or ctx ends. A run that ends without breaking the
// program waits for an undo or a stop. It returns the outcome of the run
// as it stands at the end ([control.Game.Finish]); its schedule replays
// the game. The error is for the game itself: ctx ending, threads that
// could not run. It is what a [control.Player] at a terminal does.
func Play(ctx context.Context, g *control.Game, in Input, out io.Writer, opts Options) (engine.Outcome, error) {
	p := g.Program()
	defer endGame(in)
	pl := &player{p: p, g: g, out: out, file: opts.File, replay: opts.Replay, echo: opts.Echo, keys: singleKeys(in)}
	pl.intro()
	if opts.Note != "" {
		pl.say("%s", opts.Note)
	}
	defer pl.warnBeforeDeadline(ctx)()
	if err := pl.loop(ctx, in); err != nil {
		g.Close()
		return engine.Outcome{Run: -1, Verdict: program.Pass}, err
	}
	res, err := g.Finish(ctx)
	if err != nil {
		return res, err
	}
	pl.outro(res)
	return res, nil
}

// warnLeft is how long before the run's time limit the game warns the
// player, once; a limit shorter than twice that is warned at its half.
const warnLeft = time.Minute

// warnBeforeDeadline warns the player, once, while the game waits for a
// key, that ctx's deadline is near: the prompt is written again after the
// warning. The func it returns ends the warnings; a game without a
// deadline has none.
func (pl *player) warnBeforeDeadline(ctx context.Context) (stop func()) {
	d, ok := ctx.Deadline()
	if !ok {
		return func() {}
	}
	left := min(warnLeft, time.Until(d)/2)
	t := time.AfterFunc(time.Until(d)-left, func() {
		pl.mu.Lock()
		defer pl.mu.Unlock()
		if pl.ended {
			return
		}
		pl.writeLocked(fmt.Sprintf("\n  %v left: the run's time limit stops the game at %s (pmrun run --timeout 1h gives more).\n%s",
			roundLeft(left), d.Format(time.TimeOnly), pl.prompt))
	})
	return func() {
		t.Stop()
		pl.mu.Lock()
		pl.ended = true
		pl.mu.Unlock()
	}
}

// roundLeft rounds a time left for the player to read it.
func roundLeft(d time.Duration) time.Duration {
	if d >= time.Second {
		return d.Round(time.Second)
	}
	return d.Round(time.Millisecond)
}

// loop reads and plays lines until the game ends.
func (pl *player) loop(ctx context.Context, in Input) error {
	n := len(pl.p.Threads())
	for {
		over, f := pl.g.Over()
		if over && f != nil {
			return nil // the player won
		}
		if over {
			pl.say("")
			pl.say("Every thread finished and every check held. - or u undoes a step to try another order; . or q stops.")
		} else {
			pl.state()
		}
		prompt := pl.promptText(n, over) + "> "
		pl.mu.Lock()
		pl.prompt = prompt
		pl.writeLocked(prompt)
		pl.mu.Unlock()
		line, err := in.Line(ctx)
		switch {
		case errors.Is(err, io.EOF):
			pl.say("")
			pl.say("End of input: the game stops here.")
			return nil
		case err != nil:
			pl.say("")
			return err
		}
		if pl.echo {
			pl.say("%s", line)
		}
		keys, err := parseKeys(line, n)
		if err != nil {
			pl.say("  %v", err)
			continue
		}
		quit, err := pl.apply(ctx, keys)
		if err != nil || quit {
			return err
		}
	}
}

// cannot says why thread t cannot take a step now, "" if it can.
func (pl *player) cannot(t int) string {
	s := pl.g.State()
	name := pl.p.Threads()[t]
	if s.IsEnabled(t) {
		return ""
	}
	st := s.Status(t)
	if st.Finished {
		return name + " has finished"
	}
	a, _ := s.Next(t)
	return fmt.Sprintf("%s cannot go: it waits for %s (%d: %s)", name, st.Waiting, a.Pos.Line, a.Text)
}

// promptText names the keys that make sense now.
func (pl *player) promptText(n int, over bool) string {
	if over {
		return "u or q "
	}
	return letterRange(n) + " "
}

// apply plays the keys of one line in order; a step that cannot be taken
// stops the rest of the line. It reports a stop.
func (pl *player) apply(ctx context.Context, keys []key) (quit bool, err error) {
	for _, k := range keys {
		switch k.cmd {
		case cmdQuit:
			return true, nil
		case cmdHelp:
			pl.help()
		case cmdUndo:
			undone := 0
			for undone < k.count && pl.g.Undo() {
				undone++
			}
			switch {
			case undone == 0:
				pl.say("  nothing to undo")
			case undone < k.count:
				pl.say("  undone: back to step %d (nothing more to undo)", pl.g.Taken()+1)
			default:
				pl.say("  undone: back to step %d", pl.g.Taken()+1)
			}
		case cmdStep:
			if ok, err := pl.repeat(ctx, k); !ok || err != nil {
				return false, err
			}
		}
	}
	return false, nil
}

// maxShownRepeats bounds the steps of one key repeated by a count that
// are shown: the first ones, then a line for those not shown, then the
// last. A count of millions would otherwise print as many lines.
const maxShownRepeats = 8

// repeat plays key k's thread k.count times, showing its first steps and
// its last. It reports whether every step was taken.
func (pl *player) repeat(ctx context.Context, k key) (bool, error) {
	var (
		hidden int
		last   program.StepInfo
	)
	flush := func() {
		if hidden > 1 {
			pl.say("  … %s took %d more steps, not shown (a count shows its first %d steps and its last)", pl.p.Threads()[k.thread], hidden-1, maxShownRepeats)
		}
		if hidden > 0 {
			pl.stepped(k.thread, last)
		}
		hidden = 0
	}
	defer flush()
	for i := range k.count {
		if over, _ := pl.g.Over(); over {
			return false, nil
		}
		if why := pl.cannot(k.thread); why != "" {
			flush()
			pl.say("  %s: %s", k.text, why)
			return false, nil
		}
		info, err := pl.g.Step(ctx, k.thread)
		if err != nil {
			return false, err
		}
		if i < maxShownRepeats {
			pl.stepped(k.thread, info)
		} else {
			hidden, last = hidden+1, info
		}
	}
	return true, nil
}
