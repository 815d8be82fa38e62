package actions

import (
	"context"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// manual has the person at the terminal schedule one run of the program
// (scheduler: manual, package manual): the step's result is that run, its
// schedule what replays the game.
func (s *programStep) manual(ctx context.Context, env *Env, p *program.Program, tr *programTracer) (programOutcome, error) {
	term := programOptions(env).Terminal
	if term == nil {
		return programOutcome{run: -1}, fmt.Errorf("program %s: scheduler: manual needs a person at a terminal: run the scenario with pmrun run", p.Name())
	}
	opts := control.Options{MaxSteps: s.maxSteps, OnRun: tr.controlRun}
	if s.trace {
		opts.Trace = tr.controlStep
	}
	file, rerun := env.Host.File(), hostOf(env).Rerun()
	replay := func(sched string) string { return replayCommand(rerun, sched) }
	if p.File() != "" {
		replay = func(sched string) string { return gradeReplayCommand(file, p.File(), sched) }
	}
	o, err := term.play(ctx, p, programFile(file, p), replay, opts)
	if err != nil {
		err = fmt.Errorf("program %s: manual: %w", p.Name(), err)
	}
	return fromControl(o), err
}
