package control

import (
	"context"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// replayScheduler is the replay strategy's name, which a schedule, not a
// step's scheduler:, chooses.
const replayScheduler = "replay"

// replay runs exactly the interleaving a schedule names (Options.Replay),
// on the real threads, as shuttle's replay scheduler does: a schedule,
// not a name, chooses it ([For]). It refuses a schedule made for another
// system or an edited one ([schedule.ErrMismatch]) and one that names a
// thread that cannot take its step ([NotFitError]). If the schedule ends
// before the run does, the run goes on deterministically (the last thread
// while it can, else the lowest that can) and the Note says so.
type replay struct{}

func (replay) Name() string { return replayScheduler }
func (replay) Doc() string {
	return "runs exactly the interleaving a schedule names (replay: or --replay), one thread at a time"
}

func (replay) Check(_ *program.Program, opts Options) []OptionError { return controlledOnly(opts) }

func (replay) Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	out := engine.Outcome{How: engine.How{Scheduler: replayScheduler, Kind: engine.KindReplay, Unit: "run", Asked: 1}, Run: -1, Verdict: program.Pass}
	sched := opts.Replay
	if sys.Program != nil { // refused before any thread starts
		id := identityOf(sys.Program)
		if err := sched.Check(id.Name, id.Hash); err != nil {
			return out, fmt.Errorf("replay: %w", err)
		}
	}
	th, err := sys.Threads()
	if err != nil {
		return out, fmt.Errorf("replay: %w", err)
	}
	id := th.Identity()
	if err := sched.Check(id.Name, id.Hash); err != nil {
		return out, fmt.Errorf("replay: %w", err)
	}
	starved, lasso := starvedReplay(sys.Program, sched.Steps)
	run, continued, err := replayOn(ctx, th, sched.Steps, -1, nil, opts, lasso, starved)
	if err != nil {
		return out, fmt.Errorf("replay: %w", err)
	}
	fill(&out, th, run)
	out.OK, out.Runs, out.Complete = run.failure == nil, 1, true
	if !out.OK {
		out.Failures = 1
	}
	out.OriginalSteps, out.OriginalSwitches = out.Steps, out.Switches
	switch {
	case continued > 0:
		out.Note = fmt.Sprintf("the schedule ended after %d steps; the run went on for %d more (the last thread while it could, else the lowest that could)", len(sched.Steps), continued)
	case len(run.steps) < len(sched.Steps):
		out.Note = fmt.Sprintf("the run ended after %d of the schedule's %d steps", len(run.steps), len(sched.Steps))
	}
	return out, nil
}

// Replay runs exactly the interleaving sched names on p's program threads:
// [Run] with the replay strategy. Of opts, MaxSteps, Watchdog, Trace,
// OnRun and NoInterleaving count.
func Replay(ctx context.Context, p *program.Program, sched schedule.Schedule, opts Options) (engine.Outcome, error) {
	opts.Replay = &sched
	return Run(ctx, ProgramSystem(p), opts)
}
