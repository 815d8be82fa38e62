package native

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	pl "github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/proc"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// The strategies.
const (
	Random = "random"
	PCT    = "pct"
)

// Options say how [Search] explores.
type Options struct {
	Scheduler string // Random (the default) or PCT
	Runs      int    // runs to make (0: 100)
	Depth     int    // PCT's bug depth (0: 3)
	Seed      uint64
	MaxSteps  int // a run taking more steps fails with max_steps (0: DefaultMaxSteps)
	// Shard makes only the runs r with r % Count == Index.
	ShardIndex, ShardCount int
	Expect                 Expect
	// OnRun, if set, hears of every run's end (run -1: PCT's probe; a
	// replay's is -1 too): its failure (nil: a pass) and steps.
	OnRun func(run int, f *Failure, steps int)
}

// Outcome is what a search or a replay found: it shows the first failing
// run, or else the last.
type Outcome struct {
	OK       bool
	Verdict  program.Verdict
	Failure  *Failure
	Schedule schedule.Schedule
	// Run is the shown run's number, -1 for a replay.
	Run, Runs, Failures int
	Complete            bool
	Steps, Switches     int
	Rows                []Row
	Threads             []string
	Exit                proc.Exit
	// Notes are what a person should know about the shown run (threads
	// let run outside control, a replay that went on past its schedule).
	Notes    []string
	PCTBound float64
	Runtime  time.Duration
}

// shown is one run's end.
type shown struct {
	run     int
	steps   []int
	rows    []Row
	threads []string
	failure *Failure
	exit    proc.Exit
	notes   []string
}

// Program is a program pmrun runs under control: how to start it and the
// binary that names its schedules.
type Program struct {
	Config
	// Name and Hash are the schedule's: the binary's file name and a
	// hash of its bytes, so that a rebuilt binary refuses an old schedule.
	Name, Hash string
}

// Prepare checks the program's binary (see [Check]), builds the library
// and returns what a search or a replay needs.
func Prepare(ctx context.Context, cfg Config) (*Program, error) {
	if len(cfg.Argv) == 0 {
		return nil, fmt.Errorf("native: no program to run")
	}
	path, err := Resolve(cfg.Argv[0], cfg.Dir)
	if err != nil {
		return nil, err
	}
	if err := Check(path); err != nil {
		return nil, err
	}
	if cfg.Library == "" {
		if cfg.Library, err = pl.Library(ctx); err != nil {
			return nil, err
		}
	}
	bin := loadBinary(path)
	if bin == nil {
		return nil, fmt.Errorf("native: cannot read %s", path)
	}
	name := strings.Map(func(c rune) rune {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-' {
			return c
		}
		return '_'
	}, filepath.Base(path))
	return &Program{Config: cfg, Name: name, Hash: bin.hash}, nil
}

// chooser picks the thread that takes a run's next step among enabled
// (never empty, in index order).
type chooser interface {
	choose(r *Run, enabled []int) (int, error)
}

// execute makes one run of p, choosing with ch.
func (p *Program) execute(ctx context.Context, run int, ch chooser, maxSteps int, ex Expect) (shown, error) {
	out := shown{run: run}
	r, err := Start(ctx, p.Config, run)
	if err != nil {
		return out, err
	}
	defer r.Close()
	var en []int
	for {
		en, err = r.Enabled(en[:0])
		if err != nil {
			return out, err
		}
		if len(en) == 0 {
			break
		}
		if len(out.steps) >= maxSteps {
			r.Stop(&Failure{Verdict: program.MaxSteps, Msg: fmt.Sprintf("the run took %d steps without ending (a spin or a livelock?)", maxSteps)})
			break
		}
		t, err := ch.choose(r, en)
		if err != nil {
			return out, err
		}
		row, err := r.Step(t)
		out.steps = append(out.steps, t)
		out.rows = append(out.rows, row)
		if err != nil {
			return out, err
		}
	}
	out.failure, out.exit = r.End(ex)
	out.threads, out.notes = r.Threads(), r.Notes()
	return out, nil
}

// Search runs p opts.Runs times (its shard's share), each with its own
// randomness from (seed, run), and shows the first failing run, else the
// last. A failure of the program is in the Outcome, not an error; the
// error is the search's: the program could not be controlled, or ctx
// ended.
func (p *Program) Search(ctx context.Context, opts Options) (Outcome, error) {
	start := time.Now()
	if opts.Runs <= 0 {
		opts.Runs = 100
	}
	if opts.Depth <= 0 {
		opts.Depth = 3
	}
	if opts.MaxSteps <= 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	out := Outcome{Run: -1, Verdict: program.Pass}
	k, n := 0, 0
	if opts.Scheduler == PCT {
		probe := &countingChooser{r: newRNG(opts.Seed, math.MaxUint64)}
		s, err := p.execute(ctx, -1, probe, opts.MaxSteps, opts.Expect)
		if err != nil {
			return out, err
		}
		if opts.OnRun != nil {
			opts.OnRun(-1, s.failure, len(s.steps))
		}
		k, n = probe.count, len(s.threads)
		out.PCTBound = 1 / (float64(max(n, 1)) * math.Pow(float64(max(k, 1)), float64(opts.Depth-1)))
	}
	var first, last *shown
	next, stride := 0, 1
	if opts.ShardCount > 1 {
		next, stride = opts.ShardIndex, opts.ShardCount
	}
	for ; next < opts.Runs; next += stride {
		rng := newRNG(opts.Seed, uint64(next))
		var ch chooser = randomChooser{rng}
		if opts.Scheduler == PCT {
			ch = newPCTChooser(rng, opts.Depth, k)
		}
		s, err := p.execute(ctx, next, ch, opts.MaxSteps, opts.Expect)
		if err != nil {
			out.Runtime = time.Since(start)
			return out, fmt.Errorf("run %d: %w", next, err)
		}
		out.Runs++
		last = &s
		if opts.OnRun != nil {
			opts.OnRun(next, s.failure, len(s.steps))
		}
		if s.failure != nil {
			out.Failures++
			if first == nil {
				first = &s
			}
		}
	}
	out.Complete = true
	if first == nil {
		first = last
	}
	p.fill(&out, first)
	out.Runtime = time.Since(start)
	return out, nil
}

// Replay runs exactly the interleaving sched names. A schedule made for
// another binary, or for this one before it was rebuilt, is refused; a
// step naming a thread that cannot take it is a [NotFitError]. Past the
// schedule's end the run goes on with the last thread while it can, else
// the lowest that can.
func (p *Program) Replay(ctx context.Context, sched schedule.Schedule, maxSteps int, ex Expect) (Outcome, error) {
	start := time.Now()
	out := Outcome{Run: -1, Verdict: program.Pass}
	if sched.Program != p.Name {
		return out, &schedule.MismatchError{Schedule: sched, Program: p.Name, Hash: p.Hash}
	}
	if sched.Hash != p.Hash {
		return out, &RebuiltError{Name: p.Name, Was: sched.Hash, Now: p.Hash}
	}
	if maxSteps <= 0 {
		maxSteps = DefaultMaxSteps
	}
	ch := &replayChooser{steps: sched.Steps, last: -1}
	s, err := p.execute(ctx, -1, ch, maxSteps, ex)
	if err != nil {
		return out, err
	}
	out.Runs, out.Complete = 1, true
	if s.failure != nil {
		out.Failures = 1
	}
	p.fill(&out, &s)
	switch {
	case ch.continued > 0:
		out.Notes = append(out.Notes, fmt.Sprintf("the schedule ended after %d steps; the run went on for %d more (the last thread while it could, else the lowest that could)", len(sched.Steps), ch.continued))
	case len(s.steps) < len(sched.Steps):
		out.Notes = append(out.Notes, fmt.Sprintf("the run ended after %d of the schedule's %d steps", len(s.steps), len(sched.Steps)))
	}
	out.Runtime = time.Since(start)
	return out, nil
}

// RebuiltError is a schedule replayed on a binary rebuilt since.
type RebuiltError struct{ Name, Was, Now string }

func (e *RebuiltError) Error() string {
	return fmt.Sprintf("%s was rebuilt since the schedule was made (its hash was %s, now %s): the schedule would not replay the same interleaving; find the failure again and replay the new schedule", e.Name, e.Was, e.Now)
}

// Is makes errors.Is(err, schedule.ErrMismatch) true.
func (e *RebuiltError) Is(target error) bool { return target == schedule.ErrMismatch }

func (p *Program) fill(o *Outcome, s *shown) {
	o.Run = s.run
	o.Failure = s.failure
	o.OK = o.Failures == 0
	if s.failure != nil {
		o.Verdict = s.failure.Verdict
	}
	o.Schedule = schedule.Schedule{Program: p.Name, Hash: p.Hash, Steps: slices.Clone(s.steps)}
	o.Steps, o.Switches = len(s.steps), schedule.Switches(s.steps)
	resolve(s.rows)
	o.Rows, o.Threads, o.Exit = s.rows, s.threads, s.exit
	o.Notes = append(o.Notes, s.notes...)
}

// NotFitError is a schedule that names a thread that cannot take the
// step.
type NotFitError struct {
	Step   int // from 1
	Thread string
	Reason string
}

func (e *NotFitError) Error() string {
	return fmt.Sprintf("the schedule does not fit: step %d names thread %s, %s", e.Step, e.Thread, e.Reason)
}

// replayChooser takes the threads of a schedule in order; past its end it
// keeps the last thread while it is enabled, else takes the lowest.
type replayChooser struct {
	steps     []int
	i, last   int
	continued int
}

func (c *replayChooser) choose(r *Run, enabled []int) (int, error) {
	if c.i < len(c.steps) {
		t := c.steps[c.i]
		c.i++
		if !slices.Contains(enabled, t) {
			e := &NotFitError{Step: c.i, Thread: fmt.Sprintf("#%d", t), Reason: "which the program does not have at that point"}
			if t >= 0 && t < len(r.threads) && r.threads[t] != nil {
				u := r.threads[t]
				e.Thread = u.name
				switch u.state {
				case tDone:
					e.Reason = "which has ended"
				case tParked:
					e.Reason = "which is blocked at " + r.opText(u)
				default:
					e.Reason = "which is not waiting at a point"
				}
			}
			return -1, e
		}
		c.last = t
		return t, nil
	}
	c.continued++
	if slices.Contains(enabled, c.last) {
		return c.last, nil
	}
	c.last = enabled[0]
	return c.last, nil
}

// rng is one run's randomness: PCG seeded with the search's seed and the
// run's number, with bounded draws of its own so that the choices stay
// the same whatever Go's library does.
type rng struct{ pcg rand.PCG }

func newRNG(seed, run uint64) *rng {
	r := &rng{}
	r.pcg.Seed(seed, run)
	return r
}

// below returns a uniform integer in [0, n), Lemire's way.
func (r *rng) below(n int) int {
	un := uint64(n)
	hi, lo := bits.Mul64(r.pcg.Uint64(), un)
	if lo < un {
		thresh := -un % un
		for lo < thresh {
			hi, lo = bits.Mul64(r.pcg.Uint64(), un)
		}
	}
	return int(hi)
}

type randomChooser struct{ r *rng }

func (c randomChooser) choose(_ *Run, enabled []int) (int, error) {
	if len(enabled) == 1 {
		return enabled[0], nil
	}
	return enabled[c.r.below(len(enabled))], nil
}

// countingChooser is PCT's probe: random, counting the steps with a
// choice (PCT's k).
type countingChooser struct {
	r     *rng
	count int
}

func (c *countingChooser) choose(r *Run, enabled []int) (int, error) {
	if len(enabled) > 1 {
		c.count++
	}
	return randomChooser{c.r}.choose(r, enabled)
}

// pctChooser is one run of PCT (Burckhardt et al., ASPLOS 2010) for
// threads made as the run goes: a thread gets a random priority above d
// when first seen; d−1 change points from 1…k; the enabled thread of
// highest priority goes; at the i-th change point its priority drops to
// d−i. A thread whose step is a yield or a sleep drops below all others,
// so that a spin does not hide the bug.
type pctChooser struct {
	r      *rng
	prio   map[int]int
	change []int
	d      int
	count  int
	bottom int
}

func newPCTChooser(r *rng, d, k int) *pctChooser {
	c := &pctChooser{r: r, prio: map[int]int{}, change: make([]int, d-1), d: d}
	for i := range c.change {
		c.change[i] = 1 + r.below(max(k, 1))
	}
	return c
}

func (c *pctChooser) choose(r *Run, enabled []int) (int, error) {
	for _, t := range enabled {
		if _, ok := c.prio[t]; !ok {
			c.prio[t] = c.d + 1 + c.r.below(1<<30)
		}
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
	if u := r.threads[t]; u.state == tParked && (u.req.op == pl.OpYield || u.req.op == pl.OpSleep) {
		c.bottom--
		c.prio[t] = c.bottom
	}
	return t, nil
}
