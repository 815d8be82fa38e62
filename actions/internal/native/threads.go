package native

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	pl "github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/proc"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// Threads are a real program's threads as package engine drives them:
// each [Threads.Start] executes the binary anew (a stateless search), and
// a step hands the turn to a thread and waits for it at its next call.
// Only one run lives at a time: Start ends the one before.
type Threads struct {
	p   *Program
	ex  Expect
	ctx context.Context
	cur *engineRun // the run under way, or the last
	n   int        // runs started
}

var (
	_ engine.Threads  = (*Threads)(nil)
	_ engine.Executed = (*Threads)(nil)
	_ engine.Run      = (*engineRun)(nil)
	_ engine.Hasher   = (*engineRun)(nil)
)

// shrinkRuns bounds the executions a shrink of a failing run makes.
const shrinkRuns = 40

// ShrinkRuns is how many runs the shrinker may make: each executes the
// program.
func (th *Threads) ShrinkRuns() int { return shrinkRuns }

// Threads returns p's threads for the engine; ex is what a run must do to
// pass, ctx bounds every run (Drive's ctx bounds the runs of a drive).
func (p *Program) Threads(ctx context.Context, ex Expect) *Threads {
	return &Threads{p: p, ex: ex, ctx: ctx}
}

// Names are the threads of the run under way (or the last), by index,
// in the order they were made.
func (th *Threads) Names() []string {
	if th.cur == nil {
		return nil
	}
	return th.cur.r.Threads()
}

// Identity is the binary's: a schedule made on another binary, or on this
// one before a rebuild, is refused.
func (th *Threads) Identity() engine.Identity {
	return engine.Identity{Name: th.p.Name, Hash: th.p.Hash}
}

// Start executes the program until its first thread reaches its first
// point. The error is a program pmrun cannot control, or ctx's end.
func (th *Threads) Start() (engine.Run, *program.Failure, error) {
	if th.cur != nil {
		th.cur.close()
	}
	r, err := Start(th.ctx, th.p.Config, th.n)
	th.n++
	if err != nil {
		return nil, nil, err
	}
	th.cur = &engineRun{r: r, th: th}
	return th.cur, nil, nil
}

// Drive carries d out on the caller's goroutine: a step hands the turn to
// the thread and waits for it to come back. A thread that does not come
// back is the run's business (its watchdog and its timeout), so watchdog
// is not used.
func (th *Threads) Drive(ctx context.Context, d engine.Driver, watchdog time.Duration) error {
	outer := th.ctx
	th.ctx = ctx
	defer func() { th.ctx = outer }()
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("native: stopped: %w", context.Cause(ctx))
		}
		t := d.Next()
		if t < 0 {
			break
		}
		d.Step(t)
	}
	if th.cur != nil && th.cur.err != nil && ctx.Err() != nil {
		return th.cur.err
	}
	return nil
}

// OS are the run's threads and their kernel ids.
func (th *Threads) OS() []engine.Thread {
	if th.cur == nil {
		return nil
	}
	var out []engine.Thread
	for _, t := range th.cur.r.threads {
		if t == nil {
			out = append(out, engine.Thread{})
			continue
		}
		out = append(out, engine.Thread{Name: t.name, TID: t.tid})
	}
	return out
}

// Shown is what the last run (the run a strategy shows: it replays it
// last) left beside its table: the notes on what pmrun could not control,
// and how the program's first process exited.
func (th *Threads) Shown() (notes []string, exit proc.Exit) {
	if th.cur == nil {
		return nil, proc.Exit{}
	}
	return th.cur.r.Notes(), th.cur.exit
}

// Close ends the last run.
func (th *Threads) Close() error {
	if th.cur != nil {
		return th.cur.close()
	}
	return nil
}

// engineRun is one execution as an engine.Run.
type engineRun struct {
	r      *Run
	work   uint64 // steps that were not a yield or a sleep, for Hash
	th     *Threads
	il     *program.Interleaving // the table the driver fills, its threads kept up to date
	exit   proc.Exit
	err    error // the run was stopped (ctx): Drive returns it
	closed bool
}

func (e *engineRun) close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	return e.r.Close()
}

// AppendEnabled appends the threads that can go. A run that cannot wait
// any longer (ctx ended) has none: End then says why.
func (e *engineRun) AppendEnabled(dst []int) []int {
	if e.closed {
		return dst
	}
	out, err := e.r.Enabled(dst)
	if err != nil {
		e.err = err
		e.r.Stop(&Failure{Verdict: Timeout, Msg: err.Error()})
		return dst
	}
	return out
}

func (e *engineRun) IsEnabled(t int) bool {
	return !e.closed && slices.Contains(e.r.enabled(nil), t)
}

// Next is thread t's pending call.
func (e *engineRun) Next(t int) (program.Action, bool) {
	if t < 0 || t >= len(e.r.threads) || e.r.threads[t] == nil || e.r.threads[t].state == tDone {
		return program.Action{}, false
	}
	u := e.r.threads[t]
	a := program.Action{Text: e.r.opText(u), Pos: e.r.lineOf(u, u.req.site)}
	if u.state == tNew {
		a.Text, a.Pos = e.r.startText(u), e.r.lineOf(u, u.start)
	}
	if o := u.req.obj; o != nil && u.state == tParked {
		a.Object = o.name
		if m := u.req.obj2; m != nil {
			a.Mutex = m.name
		}
	}
	return a, true
}

// Step lets thread t go to its next call.
func (e *engineRun) Step(t int) (program.StepInfo, error) {
	if e.closed {
		return program.StepInfo{}, errors.New("native: the run is over")
	}
	if u := e.r.threads[t]; u == nil || u.state != tParked || u.req.op != pl.OpYield && u.req.op != pl.OpSleep {
		e.work++
	}
	row, err := e.r.Step(t)
	rows := []Row{row}
	resolve(rows)
	info := program.StepInfo{Thread: t, Text: row.Op, Pos: rows[0].Pos, Var: -1}
	if row.Failed {
		info.Failure = e.r.failure
	}
	if err != nil {
		e.err = err
		e.r.Stop(&Failure{Verdict: Timeout, Msg: err.Error()})
	}
	if e.il != nil {
		e.il.Threads = e.r.Threads()
	}
	return info, nil
}

// End is how the run ended; the program is gone when it returns.
func (e *engineRun) End() *program.Failure {
	f, exit := e.r.End(e.th.ex)
	e.exit = exit
	e.close()
	if e.il != nil {
		e.il.Threads = e.r.Threads()
	}
	return f
}

// Hash stands for the run's state as far as pmrun sees it: where each
// thread is, and how many steps that were not a yield or a sleep were
// taken (memory pmrun does not see may change at any of those). A thread
// that yields or sleeps in a loop and comes back to the same call leaves
// it as it was: a spin, which PCT drops below every other thread, and
// which the shrinker leaves out.
func (e *engineRun) Hash() uint64 {
	h := fnv.New64a()
	var b [8]byte
	put := func(v uint64) {
		for i := range b {
			b[i] = byte(v >> (8 * i))
		}
		h.Write(b[:])
	}
	put(e.work)
	for _, t := range e.r.threads {
		if t == nil {
			put(0)
			continue
		}
		put(uint64(t.state)<<32 | uint64(t.req.op))
		put(t.req.site)
	}
	return h.Sum64()
}

// Values: a real program has no shared variables pmrun reads.
func (e *engineRun) Values() []int64 { return nil }

// Final is empty for the same reason.
func (e *engineRun) Final() map[string]any { return map[string]any{} }

// Table is the run's interleaving table, whose threads grow as the
// program makes them.
func (e *engineRun) Table() *program.Interleaving {
	e.il = &program.Interleaving{Threads: e.r.Threads()}
	return e.il
}

// Exit is how the run's first process exited, once it ended.
func (e *engineRun) Exit() proc.Exit { return e.exit }
