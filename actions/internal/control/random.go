package control

import (
	"context"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// Random is the scheduler that picks uniformly among the threads that can
// go on.
const Random = "random"

// random makes runs numbered from 0, each drawing its choices from (seed,
// run): at every step where more than one thread can go on, one of them,
// uniformly.
type random struct{}

func (random) Name() string { return Random }
func (random) Doc() string {
	return "one thread at a time, picked uniformly among those that can go on, runs times (a failure found replays exactly)"
}

func (random) Check(_ *program.Program, opts Options) []OptionError {
	errs := controlledOnly(opts)
	if opts.Depth != 0 {
		errs = append(errs, OptionError{"depth", "applies to scheduler: " + PCT + " only"})
	}
	return errs
}

func (random) Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	if opts.Runs == 0 {
		opts.Runs = DefaultRuns
	}
	how := engine.How{Scheduler: Random, Kind: engine.KindSearch, Unit: "run", Asked: opts.Runs}
	return search(ctx, sys, opts, how, func(ctx context.Context, th engine.Threads, opts Options) (searchResult, error) {
		return searchRuns(ctx, th, opts, func(r int) chooser { return randomChooser{newRNG(opts.Seed, uint64(r))} }, nil)
	})
}

// randomChooser picks uniformly among the enabled threads at every step
// where there is a choice.
type randomChooser struct{ r *rng }

func (c randomChooser) choose(_ engine.Run, enabled []int) (int, error) {
	if len(enabled) == 1 {
		return enabled[0], nil
	}
	return enabled[c.r.below(len(enabled))], nil
}
