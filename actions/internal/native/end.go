package native

import (
	"context"

	"fmt"
	"github.com/pmrun/pmrun/actions/internal/program"
	"regexp"
	"strconv"
	"strings"
	"time"

	pl "github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// The verdicts of a real program's run beyond the program action's
// (pass, assert, misuse, deadlock, max_steps).
const (
	Signal  program.Verdict = "signal"  // a signal killed the program
	Exit    program.Verdict = "exit"    // it exited with another status than expected
	Output  program.Verdict = "output"  // its standard output did not match
	Timeout program.Verdict = "timeout" // the run took longer than its timeout
)

// Failure is why a run failed: the program action's failure, its Pos a
// source line (File set) when pmrun knows one.
type Failure = program.Failure

// Expect is what a run must do to pass.
type Expect struct {
	// Exit is the exit status expected.
	Exit int
	// Stdout, if set, must match somewhere in the standard output (its
	// last 64 KiB).
	Stdout *regexp.Regexp
}

// End finishes the run once [Run.Enabled] returned no thread (or the
// driver stopped it with [Run.Stop]): a deadlock when threads are left,
// else the program's exit is checked against ex. It returns the failure
// (nil: a pass) and how the program's first process exited.
func (r *Run) End(ex Expect) (*Failure, proc.Exit) {
	f := r.failure
	if f == nil && !r.over() {
		f = r.deadlock()
	}
	if f != nil {
		r.kill()
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 5*time.Second)
	defer cancel()
	exit, err := r.top.Wait(ctx)
	if f != nil {
		return f, exit
	}
	if err != nil {
		return &Failure{Verdict: Timeout, Msg: fmt.Sprintf("the program's threads ended but its process did not: %v", err)}, exit
	}
	switch {
	case exit.Signal != "" && r.assert != nil:
		f = r.assertFailure()
	case exit.Signal != "":
		f = &Failure{Verdict: Signal, Msg: "the program was killed by " + exit.Signal + stderrTail(exit)}
	case exit.ExitCode != ex.Exit:
		f = &Failure{Verdict: Exit, Msg: fmt.Sprintf("the program exited with status %d, not %d%s", exit.ExitCode, ex.Exit, stderrTail(exit))}
	case ex.Stdout != nil && !ex.Stdout.MatchString(exit.Stdout):
		f = &Failure{Verdict: Output, Msg: fmt.Sprintf("its standard output has no match of %q (it ends %q)", ex.Stdout, tail(exit.Stdout, 80))}
	}
	return f, exit
}

// Stop ends the run with f before it is over (max_steps).
func (r *Run) Stop(f *Failure) {
	if r.failure == nil {
		r.failure = f
	}
}

func stderrTail(e proc.Exit) string {
	if s := strings.TrimSpace(e.Stderr); s != "" {
		return "; its stderr ends: " + tail(lastLine(s), 200)
	}
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// misuse fails the run at t's step.
func (r *Run) misuse(t *thread, format string, args ...any) *Failure {
	return &Failure{Verdict: program.Misuse, Thread: t.name, Pos: r.lineOf(t, t.req.site), Msg: fmt.Sprintf(format, args...)}
}

// lineOf is the source line of t's call at site.
func (r *Run) lineOf(t *thread, site uint64) program.Pos {
	rows := []Row{r.row(t, "", site)}
	resolve(rows)
	return rows[0].Pos
}

// assertFailure is the failed assert the library noted: its message is
// "FILE:LINE: FUNCTION: assertion `EXPR' failed", FILE:LINE from the
// assert itself, which the line table gives again when it has one.
func (r *Run) assertFailure() *Failure {
	a := r.assert
	f := &Failure{Verdict: program.Assert, Thread: a.thread.name, Msg: a.text}
	if where, msg, ok := strings.Cut(a.text, ": "); ok {
		if file, line, ok := strings.Cut(where, ":"); ok {
			if n, err := strconv.Atoi(line); err == nil {
				f.Pos, f.Msg = program.Pos{File: file, Line: n}, msg
			}
		}
	}
	if pos := r.lineOf(a.thread, a.site); pos.File != "" {
		f.Pos = pos
	}
	return f
}

func (r *Run) timeoutFailure() *Failure {
	msg := fmt.Sprintf("the run took longer than %v", r.cfg.Timeout)
	if t := r.running; t != nil {
		msg += fmt.Sprintf(" (%s held the turn since step %d: running, or blocked in a call pmrun does not control)", t.name, r.steps)
	}
	return &Failure{Verdict: Timeout, Msg: msg}
}

// deadlock explains why no thread can go on.
func (r *Run) deadlock() *Failure {
	d := &program.DeadlockInfo{}
	waitsFor := map[int][]int{}
	objOf := map[int]string{}
	var lines []string
	all := 0
	for _, t := range r.threads {
		if t != nil {
			all++
		}
		if t == nil || t.state != tParked {
			continue
		}
		b := program.BlockedThread{Thread: t.name, Op: r.opText(t), Pos: r.lineOf(t, t.req.site)}
		at := b.Op
		if b.Pos.File != "" {
			at = fmt.Sprintf("%s (%s)", b.Pos, b.Op)
		}
		line, waits := r.blockedOn(t, &b, at)
		for _, u := range waits {
			waitsFor[t.idx] = append(waitsFor[t.idx], u.idx)
		}
		objOf[t.idx] = b.Object
		d.Blocked = append(d.Blocked, b)
		lines = append(lines, line)
	}
	if c := findCycle(len(r.threads), waitsFor); c != nil {
		for _, i := range c {
			d.Cycle = append(d.Cycle, r.threads[i].name, objOf[i])
		}
		d.Cycle = append(d.Cycle, r.threads[c[0]].name)
		lines = append(lines, "cycle: "+strings.Join(d.Cycle, " → "))
	}
	d.Text = fmt.Sprintf("deadlock: %d of %d threads blocked\n%s", len(d.Blocked), all, strings.Join(lines, "\n"))
	return &Failure{Verdict: program.Deadlock, Msg: strings.TrimPrefix(d.Text, "deadlock: "), Deadlock: d}
}

// blockedOn says what t waits for and which threads could end the wait.
func (r *Run) blockedOn(t *thread, b *program.BlockedThread, at string) (string, []*thread) {
	q := &t.req
	alive := func(ts []*thread) []*thread {
		var out []*thread
		for _, u := range ts {
			if u != t && u.state != tDone {
				out = append(out, u)
			}
		}
		return out
	}
	// could says who could release the wait: the threads, not ended,
	// that did before (pmrun does not see the code they will run).
	could := func(before []*thread, verb, verbed string) string {
		live := alive(before)
		b.Releasers = nil
		for _, u := range live {
			b.Releasers = append(b.Releasers, u.name)
		}
		var ended []*thread
		for _, u := range before {
			if u != t && u.state == tDone {
				ended = append(ended, u)
			}
		}
		switch {
		case len(live) > 0:
			return names(live) + " could " + verb + " it (" + verbed + " it before)"
		case len(ended) > 0:
			return "no thread left could " + verb + " it (" + names(ended) + " " + verbed + " it, and ended)"
		}
		return "no thread has " + verbed + " it in this run"
	}
	holder := func(o *object) (string, []*thread) {
		b.Object = o.name
		switch h := o.owner; {
		case h == nil:
			return fmt.Sprintf("%s waits for %s at %s", t.name, o.name, at), nil
		case h == t:
			b.Holder = h.name
			return fmt.Sprintf("%s waits for %s at %s, which it holds itself", t.name, o.name, at), nil
		case h.state == tDone:
			b.Holder, b.HolderFinished = h.name, true
			return fmt.Sprintf("%s waits for %s at %s, held by %s, which ended without unlocking it", t.name, o.name, at, h.name), nil
		default:
			b.Holder = h.name
			return fmt.Sprintf("%s waits for %s at %s, held by %s", t.name, o.name, at, h.name), []*thread{h}
		}
	}
	switch q.op {
	case pl.OpMutexLock, pl.OpSpinLock:
		return holder(q.obj)
	case pl.OpRWRdlock, pl.OpRWWrlock:
		if q.obj.owner != nil || q.op == pl.OpRWRdlock {
			return holder(q.obj)
		}
		b.Object = q.obj.name
		rs := alive(q.obj.readers)
		return fmt.Sprintf("%s waits for %s at %s, read by %s", t.name, q.obj.name, at, names(rs)), rs
	case pl.OpCondReacq:
		if t.cond == nil {
			return holder(q.obj2)
		}
		b.Object = q.obj.name
		rel := alive(q.obj.signallers)
		return fmt.Sprintf("%s waits on condition %s at %s; %s", t.name, q.obj.name, at, could(q.obj.signallers, "signal", "signalled")), rel
	case pl.OpSemWait:
		o := q.obj
		b.Object = o.name
		line := fmt.Sprintf("%s waits on semaphore %s (value %d) at %s", t.name, o.name, o.value, at)
		// A thread that took a unit and has not posted one holds it, as
		// a mutex's holder does (a semaphore used as a lock).
		holders := alive(o.takes.holders())
		if len(holders) > 0 {
			line += fmt.Sprintf(", taken by %s", names(holders))
			b.Holder = holders[0].name
		}
		rel := alive(o.posters)
		for _, u := range holders {
			rel = addOnce(rel, u)
		}
		return line + "; " + could(o.posters, "post", "posted"), rel
	case pl.OpBarrierLeave:
		b.Object = q.obj.name
		return fmt.Sprintf("%s waits at barrier %s at %s (%d of %d arrived)", t.name, q.obj.name, at, q.obj.arrived, q.obj.need), nil
	case pl.OpJoin:
		u := r.threadBySelf(t.proc, q.addr)
		b.Object = u.name
		return fmt.Sprintf("%s waits to join %s at %s", t.name, u.name, at), []*thread{u}
	case pl.OpWaitpid:
		var kids []*thread
		for _, c := range t.proc.children {
			for _, u := range r.threads {
				if u != nil && u.proc == c && u.state != tDone {
					kids = append(kids, u)
				}
			}
		}
		b.Object = "children"
		return fmt.Sprintf("%s waits for a child process at %s; %s have not ended", t.name, at, names(kids)), kids
	}
	return fmt.Sprintf("%s waits at %s", t.name, at), nil
}

// findCycle returns a cycle of the waits-for graph, from the lowest
// thread, as the threads on it; nil if there is none.
func findCycle(n int, edges map[int][]int) []int {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, n)
	var path, cycle []int
	var visit func(t int) bool
	visit = func(t int) bool {
		color[t] = grey
		path = append(path, t)
		for _, u := range edges[t] {
			if color[u] == grey {
				for i, x := range path {
					if x == u {
						cycle = append([]int(nil), path[i:]...)
						return true
					}
				}
			}
			if color[u] == white && visit(u) {
				return true
			}
		}
		path = path[:len(path)-1]
		color[t] = black
		return false
	}
	for t := range n {
		if color[t] == white && visit(t) {
			return cycle
		}
	}
	return nil
}
