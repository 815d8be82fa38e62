package control

import (
	"context"
	"math"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// PCT is the scheduler of Burckhardt et al.'s probabilistic concurrency
// testing.
const PCT = "pct"

// pct makes runs as random does, each a run of the PCT chooser below, all
// with the k a probe run estimated first.
type pct struct{}

func (pct) Name() string { return PCT }
func (pct) Doc() string {
	return "one thread at a time, by random priorities that change at depth-1 points a run: a bug of that depth is found with a known chance (pct_bound)"
}

func (pct) Check(_ *program.Program, opts Options) []OptionError { return controlledOnly(opts) }

func (pct) Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	if opts.Runs == 0 {
		opts.Runs = DefaultRuns
	}
	how := engine.How{Scheduler: PCT, Kind: engine.KindSearch, Unit: "run", Asked: opts.Runs}
	return search(ctx, sys, opts, how, func(ctx context.Context, th engine.Threads, opts Options) (searchResult, error) {
		n := len(th.Names())
		probe := &countingChooser{randomChooser: randomChooser{newRNG(opts.Seed, probeRun)}}
		res, err := searchRuns(ctx, th, opts, func(r int) chooser {
			return newPCTChooser(newRNG(opts.Seed, uint64(r)), n, opts.Depth, probe.count)
		}, probe)
		res.pctSteps = probe.count
		n = max(n, len(th.Names())) // a real program's, known once it ran
		res.pctBound = pctBound(n, probe.count, opts.Depth)
		return res, err
	})
}

// pctChooser is one run of PCT, the randomized scheduler of Burckhardt,
// Kothari, Musuvathi and Nagarakatte (ASPLOS 2010), as its Algorithm 1
// states it, with steps counted only where more than one thread is
// enabled (the paper's section 4.1: a change point where nobody else can
// run changes nothing):
//
//   - thread t starts with priority d + π(t) − 1, π a uniform random
//     permutation of 1…n: all distinct, all at least d;
//   - change points k_1 … k_{d−1} are drawn independently and uniformly
//     from 1…k;
//   - at every step the enabled thread of highest priority takes it; when
//     that step is the k_i-th step with a choice, the thread's priority
//     then drops to d − i (below every starting priority; later change
//     points lower).
//
// For a bug of depth d, one run finds it with probability at least
// 1/(n·k^(d−1)) when k bounds the steps with a choice.
//
// The paper's programs do not spin; a thread that spins at the highest
// priority, waiting for one of lower priority, would spin until max_steps
// and hide every other bug. So, as Coyote and Shuttle do with a yield, a
// step that changes nothing at all (the test of a spin that found its
// condition as it was) drops its thread below every other priority. A
// program without spins runs exactly the paper's algorithm.
type pctChooser struct {
	r      *rng
	prio   []int
	change []int // change[i-1] is k_i
	d      int
	count  int // steps with a choice so far
	bottom int // the priority the next spinning thread drops to
}

func (c *pctChooser) spun(t int) {
	c.prio[t] = c.bottom
	c.bottom--
}

// newPCTChooser draws a run's priorities, then its change points, from r.
func newPCTChooser(r *rng, n, d, k int) *pctChooser {
	c := &pctChooser{r: r, prio: make([]int, n), change: make([]int, d-1), d: d}
	for t, p := range r.perm(n) { // π(t) − 1
		c.prio[t] = d + p
	}
	for i := range c.change {
		c.change[i] = 1 + r.below(max(k, 1))
	}
	return c
}

// grow gives a thread made during the run (a real program makes its
// threads as it runs) its starting priority when it is first enabled: a
// rank drawn uniformly among the starting priorities, as if the
// permutation had held it from the start. A program's threads, all known
// at the start, never need it.
func (c *pctChooser) grow(t int) {
	for len(c.prio) <= t {
		m := 0
		for _, p := range c.prio {
			if p >= c.d {
				m++
			}
		}
		rank := c.d + c.r.below(m+1)
		for i, p := range c.prio {
			if p >= rank {
				c.prio[i] = p + 1
			}
		}
		c.prio = append(c.prio, rank)
	}
}

func (c *pctChooser) choose(_ engine.Run, enabled []int) (int, error) {
	if last := enabled[len(enabled)-1]; last >= len(c.prio) {
		c.grow(last)
	}
	t := enabled[0]
	for _, u := range enabled[1:] {
		if c.prio[u] > c.prio[t] {
			t = u
		}
	}
	if len(enabled) > 1 {
		c.count++
		for i, k := range c.change {
			if k == c.count {
				c.prio[t] = c.d - (i + 1)
			}
		}
	}
	return t, nil
}

// countingChooser is the probe run's: random choices, counting the steps
// with a choice, PCT's k.
type countingChooser struct {
	randomChooser
	count int
}

func (c *countingChooser) choose(s engine.Run, enabled []int) (int, error) {
	if len(enabled) > 1 {
		c.count++
	}
	return c.randomChooser.choose(s, enabled)
}

// pctBound is the paper's 1/(n·k^(d−1)).
func pctBound(n, k, d int) float64 {
	return 1 / (float64(n) * math.Pow(float64(max(k, 1)), float64(d-1)))
}
