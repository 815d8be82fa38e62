package control

import (
	"context"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/freerun"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// freeScheduler is the name of the strategy that controls nothing.
const freeScheduler = "os"

// free is scheduler: os: the program on free OS threads, the kernel
// deciding who runs when (package freerun); each step takes a ticket as it
// happens, so a failing run still records the schedule it took, which
// replays under control.
type free struct{}

func (free) Name() string { return freeScheduler }
func (free) Doc() string  { return "free threads, the kernel decides" }

func (free) Check(*program.Program, Options) []OptionError { return nil }

func (free) Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	p, err := sys.needProgram(freeScheduler)
	if err != nil {
		return engine.Outcome{Run: -1, Verdict: program.Pass}, err
	}
	if opts.Runs == 0 {
		opts.Runs = DefaultRuns
	}
	out, err := freerun.Run(ctx, p, freerun.Options{
		Runs: opts.Runs, MaxSteps: opts.MaxSteps, Work: opts.Work, Jitter: opts.Jitter, Detect: opts.Detect,
		Seed: opts.Seed, Trace: opts.Trace, OnRun: opts.OnRun,
	})
	out.How = engine.How{Scheduler: freeScheduler, Kind: engine.KindFree, Unit: "run", Asked: opts.Runs}
	if err == nil {
		noteSample(&out, sys)
	}
	return out, err
}
