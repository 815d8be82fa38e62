package freerun

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/sem"
)

// crew is a program's threads, one real OS thread each, named after them:
// started once and used for every run, since starting and joining threads
// costs more than a short run. Between runs each thread waits for its
// start; a run's end sends it back.
type crew struct {
	p       *program.Program
	names   []string
	threads []*osthread.Thread
	start   []sem.Semaphore // V: thread i begins the run in x
	back    sem.Semaphore   // V: a thread has left the run
	x       *run            // the run under way, set before the starts
	errs    []error         // a thread's failure, written before its back
}

func newCrew(p *program.Program) (*crew, error) {
	c := &crew{p: p, names: p.Threads()}
	c.start = make([]sem.Semaphore, len(c.names))
	c.errs = make([]error, len(c.names))
	for i, name := range c.names {
		th, err := osthread.Start(name, func(th *osthread.Thread) error { return c.loop(i, th) })
		if err != nil {
			c.close()
			return nil, fmt.Errorf("program %s: %w", p.Name(), err)
		}
		c.threads = append(c.threads, th)
	}
	return c, nil
}

// loop is thread i's life: a run whenever it is started, until cancelled
// or failed.
func (c *crew) loop(i int, th *osthread.Thread) error {
	for {
		if err := c.start[i].P(th, 0); err != nil {
			return err
		}
		err := c.x.body(i, th)
		c.errs[i] = err
		c.back.V()
		if err != nil {
			return err
		}
	}
}

// close cancels and joins every thread: none is left when it returns.
func (c *crew) close() error {
	return errors.Join(osthread.CancelAndJoin(c.threads)...)
}

func (c *crew) list() []engine.Thread {
	out := make([]engine.Thread, len(c.names))
	for i, name := range c.names {
		out[i] = engine.Thread{Name: name, TID: c.threads[i].TID()}
	}
	return out
}

// runResult is how one run ended.
type runResult struct {
	run      int
	steps    []int
	switches int
	failure  *program.Failure
	threads  []engine.Thread
	// hash is the hash of the run's last state, which a replay of steps
	// on the model must reach.
	hash uint64
}

// run is one run of a program on the crew. Everything but the futex
// words, over and lastStep is guarded by the ticket.
type run struct {
	p    *program.Program
	r    int
	n    int
	opts Options

	ticket *sem.Semaphore
	// words are the futex words of the semaphores, mutexes and
	// conditions, by object and by what Status.Waiting calls them; naps
	// are the threads' own, which they pause on (work, jitter).
	words   map[program.Object]*sem.Word
	waiting map[string]*sem.Word
	naps    []sem.Word

	s        *program.State
	steps    []int
	last     int
	switches int
	enabled  []int
	failure  *program.Failure
	over     atomic.Bool
	ended    chan struct{} // closed by end

	lastStep atomic.Int64 // unix nanoseconds of the last step, for Detect
}

func newRun(p *program.Program, r int, opts Options) *run {
	x := &run{
		p: p, r: r, n: len(p.Threads()), opts: opts, ticket: sem.New(1),
		words: map[program.Object]*sem.Word{}, waiting: map[string]*sem.Word{},
		last: -1, ended: make(chan struct{}),
	}
	x.naps = make([]sem.Word, x.n)
	d := p.Def()
	add := func(kind program.ObjKind, word string, count int) {
		for i := range count {
			o := program.Object{Kind: kind, Index: i}
			w := new(sem.Word)
			x.words[o] = w
			x.waiting[word+" "+p.ObjectName(o)] = w
		}
	}
	add(program.ObjSemaphore, "semaphore", len(d.Semaphores))
	add(program.ObjMutex, "mutex", len(d.Mutexes))
	add(program.ObjCond, "condition", len(d.Conds))
	return x
}

// runOnce makes run r on the crew and waits until every thread has left
// it.
func (c *crew) runOnce(ctx context.Context, r int, opts Options) (*runResult, error) {
	x := newRun(c.p, r, opts)
	s, f := c.p.NewState()
	x.s = s
	if opts.OnRun != nil {
		opts.OnRun(engine.RunInfo{Run: r, Start: true})
	}
	over := f != nil
	if !over {
		f, over = x.check()
	}
	if over { // over before any step: nobody starts
		x.end(f)
		return c.result(x), nil
	}
	x.lastStep.Store(time.Now().UnixNano())
	c.x = x
	for i := range c.start {
		c.start[i].V()
	}
	werr := x.watch(ctx)
	for range c.start {
		_ = c.back.P(nil, 0)
	}
	var failed []error
	for i, err := range c.errs {
		if err != nil && !errors.Is(err, osthread.ErrCancelled) {
			failed = append(failed, fmt.Errorf("%s: %w", c.names[i], err))
		}
	}
	if len(failed) > 0 {
		return nil, fmt.Errorf("program %s, run %d: %w", c.p.Name(), r, errors.Join(failed...))
	}
	if werr != nil {
		return nil, werr
	}
	return c.result(x), nil
}

func (c *crew) result(x *run) *runResult {
	res := &runResult{run: x.r, steps: x.steps, switches: x.switches, failure: x.failure, threads: c.list(), hash: x.s.Hash()}
	if x.opts.OnRun != nil {
		x.opts.OnRun(engine.RunInfo{Run: x.r, Verdict: verdictOf(x.failure), Failure: x.failure,
			Steps: len(x.steps), Switches: x.switches})
	}
	return res
}

// watch waits for the run to end, for ctx, or for a stall.
func (x *run) watch(ctx context.Context) error {
	var tick <-chan time.Time
	if x.opts.Detect > 0 {
		t := time.NewTicker(max(x.opts.Detect/4, time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-x.ended:
			return nil
		case <-ctx.Done():
			_, steps := x.stop()
			return fmt.Errorf("program %s, run %d stopped after %d steps: %w", x.p.Name(), x.r, steps, context.Cause(ctx))
		case now := <-tick:
			if now.Sub(time.Unix(0, x.lastStep.Load())) < x.opts.Detect {
				continue
			}
			where, _ := x.stop()
			return &StallError{Program: x.p.Name(), Run: x.r, For: x.opts.Detect, Where: where}
		}
	}
}

// stop ends the run from outside its threads and says where each
// unfinished thread was and how many steps were taken.
func (x *run) stop() ([]string, int) {
	_ = x.ticket.P(nil, 0)
	defer x.ticket.V()
	var where []string
	for t, name := range x.p.Threads() {
		st := x.s.Status(t)
		switch {
		case st.Finished:
		case st.Blocked:
			where = append(where, fmt.Sprintf("%s waits for %s at line %d", name, st.Waiting, st.Pos.Line))
		default:
			a, _ := x.s.Next(t)
			where = append(where, fmt.Sprintf("%s is before %s at line %d", name, a.Text, a.Pos.Line))
		}
	}
	if !x.over.Load() {
		x.end(nil)
	}
	return where, len(x.steps)
}

// end marks the run over, with the ticket held, and wakes every sleeper
// so that each sees it and leaves the run.
func (x *run) end(f *program.Failure) {
	x.failure = f
	x.over.Store(true)
	close(x.ended)
	for _, w := range x.words {
		w.Wake()
	}
	for i := range x.naps {
		x.naps[i].Wake()
	}
}

// check is what the model says once no step is under way: the run's end
// (a deadlock, expect, or a pass) when no thread can step, else max_steps
// at the limit, else nothing. over says the run ends.
func (x *run) check() (f *program.Failure, over bool) {
	x.enabled = x.s.AppendEnabled(x.enabled[:0])
	if len(x.enabled) == 0 {
		return x.s.End(), true
	}
	if x.s.Steps() >= x.opts.MaxSteps {
		return &program.Failure{Verdict: program.MaxSteps, Pos: x.p.Def().Pos,
			Msg: fmt.Sprintf("the run took %d steps without ending (a spin or a livelock?)", x.opts.MaxSteps)}, true
	}
	return nil, false
}

// errOver is how a pause learns that the run is over.
var errOver = errors.New("the run is over")

// body is program thread i's part of the run: it returns nil when the
// thread has finished or the run is over. A thread that fails (an error
// other than its cancellation, or a panic) ends the run, so that the
// others and the coordinator do not wait for it.
func (x *run) body(i int, th *osthread.Thread) (err error) {
	holding := false
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("program %s: thread %s panicked: %v", x.p.Name(), x.p.Threads()[i], p)
		}
		if errors.Is(err, errOver) {
			err = nil
		}
		if err == nil {
			return
		}
		if !holding {
			_ = x.ticket.P(nil, 0)
		}
		if !x.over.Load() {
			x.end(nil)
		}
		x.ticket.V()
	}()
	var rng *rand.Rand
	if x.opts.Jitter > 0 {
		rng = rand.New(rand.NewPCG(x.opts.Seed, uint64(x.r)<<20|uint64(i)))
	}
	waited := false
	for {
		if rng != nil && !waited {
			if err := x.pause(th, i, time.Duration(rng.Int64N(int64(x.opts.Jitter)))); err != nil {
				return err
			}
		}
		if err := x.ticket.P(th, 0); err != nil {
			return err
		}
		holding = true
		if x.over.Load() {
			holding = false
			x.ticket.V()
			return nil
		}
		if !x.s.IsEnabled(i) {
			w, seen, err := x.block(i, th.TID(), waited)
			if err != nil {
				return err
			}
			holding = false
			x.ticket.V()
			waited = true
			if err := w.Sleep(th, seen, 0); err != nil {
				return err
			}
			continue
		}
		work, done := x.step(i, th.TID())
		holding = false
		x.ticket.V()
		waited = false
		if done {
			return nil
		}
		if err := x.pause(th, i, work+x.opts.Work); err != nil {
			return err
		}
	}
}

// pause sleeps d on thread i's own futex word: real time, cut short by
// the run's end ([errOver]) or the thread's cancellation.
func (x *run) pause(th *osthread.Thread, i int, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	w := &x.naps[i]
	deadline := time.Now().Add(d)
	for {
		seen := w.Load()
		if x.over.Load() {
			return errOver
		}
		left := time.Until(deadline)
		if left <= 0 {
			return nil
		}
		if err := w.Sleep(th, seen, left); err != nil {
			return err
		}
	}
}

// block finds the word thread i sleeps on and what it reads now, with the
// ticket held.
func (x *run) block(i, tid int, waited bool) (*sem.Word, uint32, error) {
	st := x.s.Status(i)
	w := x.waiting[st.Waiting]
	if w == nil {
		return nil, 0, fmt.Errorf("program %s: thread %s cannot step and waits for %q, which has no futex word", x.p.Name(), x.p.Threads()[i], st.Waiting)
	}
	if !waited && x.opts.Trace != nil {
		x.opts.Trace(engine.StepInfo{Run: x.r, StepInfo: program.StepInfo{Thread: i, Var: -1}, Name: x.p.Threads()[i], TID: tid, Wait: true, Waiting: st.Waiting})
	}
	return w, w.Load(), nil
}

// step takes thread i's step, with the ticket held: in the model, in the
// schedule, waking whoever waits on what it changed, and ending the run
// if it is over. It returns how long the step works and whether thread i
// is done (it has finished, or the run is over).
func (x *run) step(i, tid int) (time.Duration, bool) {
	a, _ := x.s.Next(i)
	info, err := x.s.Step(i)
	if err != nil { // IsEnabled said it could: a bug of the model's
		x.end(&program.Failure{Verdict: program.Misuse, Thread: x.p.Threads()[i], Pos: a.Pos, Msg: err.Error()})
		return 0, true
	}
	x.steps = append(x.steps, i)
	if x.last >= 0 && x.last != i {
		x.switches++
	}
	x.last = i
	x.lastStep.Store(time.Now().UnixNano())
	for _, o := range a.Footprint.Writes {
		if w := x.words[o]; w != nil {
			w.Wake()
		}
	}
	f, over := info.Failure, info.Failure != nil
	if !over {
		f, over = x.check()
	}
	done := x.s.Done(i)
	if x.opts.Trace != nil {
		x.opts.Trace(engine.StepInfo{Run: x.r, Name: x.p.Threads()[i], TID: tid, Step: len(x.steps) - 1,
			StepInfo: info, Done: done})
	}
	if over {
		x.end(f)
		return 0, true
	}
	return info.Work, done
}
