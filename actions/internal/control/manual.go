package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// manualScheduler is the name of the strategy where a person decides.
const manualScheduler = "manual"

// Player is the person of a manual game: Play shows them g and asks them
// for every step ([Game.Step], [Game.Undo]) until they stop or the run
// ends, then returns [Game.Finish]'s outcome. Package manual's plays at a
// terminal.
type Player interface {
	Play(ctx context.Context, g *Game) (engine.Outcome, error)
}

// manual is scheduler: manual: a person is the scheduler ([Player]), as
// in The Deadlock Empire; the outcome is the game's run, and its schedule
// replays the game.
type manual struct{}

func (manual) Name() string { return manualScheduler }
func (manual) Doc() string {
	return "you are the scheduler, at the terminal, and win by breaking the program"
}

func (manual) Check(_ *program.Program, opts Options) []OptionError { return controlledOnly(opts) }

func (manual) Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	out := engine.Outcome{Run: -1, Verdict: program.Pass}
	if opts.Player == nil {
		return out, errors.New("scheduler: manual needs a person at a terminal: run the scenario with pmrun run")
	}
	p, err := sys.needProgram(manualScheduler)
	if err != nil {
		return out, err
	}
	th, err := sys.Threads()
	if err != nil {
		return out, fmt.Errorf("manual: %w", err)
	}
	out, err = opts.Player.Play(ctx, newGame(p, th, opts))
	out.How = engine.How{Scheduler: manualScheduler, Kind: engine.KindGame, Unit: "run", Asked: 1}
	if err != nil {
		err = fmt.Errorf("manual: %w", err)
	}
	return out, err
}
