package points

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/proc"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// The verdicts of a run's end, beside package program's.
const (
	Exit    program.Verdict = "exit"    // a process exited with another status than expected
	Signal  program.Verdict = "signal"  // a signal killed a process
	Timeout program.Verdict = "timeout" // the run took longer than its timeout
	Output  program.Verdict = "output"  // a process's standard output did not match
)

// A process's state in a run.
const (
	sNew     = iota // not started yet
	sFree           // running: let go, not stopped at a point yet
	sStopped        // stopped at a point, waiting for pmrun
	sDone           // ended
)

type procState struct {
	name  string
	state int
	point string      // the point it stopped at
	at    program.Pos // where, when the process said (pmrun point --at)
	conn  net.Conn    // its connection, while stopped
	p     *proc.Process
	exit  proc.Exit
}

// run is one execution of the processes.
type run struct {
	th       *Threads
	n        int
	dir      string
	tab      *proc.Table
	procs    []*procState
	deadline time.Time
	notes    []string
	failure  *program.Failure // a timeout, once the run is stopped
	closed   bool
}

// Start runs the processes one after another, each until it stops at its
// first point or ends. The error is a process that could not start.
func (th *Threads) Start() (engine.Run, *program.Failure, error) {
	if th.cur != nil {
		th.cur.close()
	}
	r := &run{th: th, n: th.n, dir: filepath.Join(th.base, fmt.Sprint(th.n)), deadline: time.Now().Add(th.cfg.Timeout)}
	th.n++
	th.cur = r
	if err := os.Mkdir(r.dir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("points: %w", err)
	}
	var err error
	if r.tab, err = proc.NewTable(proc.Options{}); err != nil {
		return nil, nil, fmt.Errorf("points: %w", err)
	}
	for i, p := range th.cfg.Procs {
		r.procs = append(r.procs, &procState{name: p.Name})
		env := map[string]string{EnvSocket: th.sock, EnvID: id(r.n, i)}
		for k, v := range th.cfg.Env {
			env[k] = v
		}
		i := i
		pp, err := r.tab.Start(proc.Spec{
			Name: p.Name, Shell: p.Cmd, Env: env, Dir: r.dir,
			OnExit: func(_ *proc.Process, e proc.Exit) { th.box.put(event{run: r.n, proc: i, ended: true, exit: e}) },
		})
		if err != nil {
			r.close()
			return nil, nil, fmt.Errorf("points: %s: %w", p.Name, err)
		}
		r.procs[i].p, r.procs[i].state = pp, sFree
		r.await(i)
		if r.failure != nil {
			break
		}
	}
	return r, r.failure, nil
}

// apply takes in an event of the processes.
func (r *run) apply(e event) {
	if e.run != r.n || r.closed {
		if e.conn != nil {
			fmt.Fprintf(e.conn, "error the run of this process is over\n")
			e.conn.Close()
		}
		return
	}
	p := r.procs[e.proc]
	switch {
	case e.ended:
		p.state, p.exit = sDone, e.exit
		if p.conn != nil { // a process it started is stopped at a point
			p.conn.Close()
			p.conn = nil
		}
	case p.state == sStopped:
		fmt.Fprintf(e.conn, "error %s is already stopped at point %s: one point at a time per process\n", p.name, p.point)
		e.conn.Close()
		r.note(fmt.Sprintf("%s asked for point %s while stopped at point %s: refused", p.name, e.point, p.point))
	case p.state == sDone:
		fmt.Fprintf(e.conn, "error %s has ended\n", p.name)
		e.conn.Close()
		r.note(fmt.Sprintf("a process left behind by %s asked for point %s after %[1]s ended: refused", p.name, e.point))
	default:
		p.state, p.point, p.at, p.conn = sStopped, e.point, e.at, e.conn
	}
}

func (r *run) note(s string) {
	for _, n := range r.notes {
		if n == s {
			return
		}
	}
	r.notes = append(r.notes, s)
}

// await waits until process i stops at a point or ends; past the watchdog
// it is let run free, and noted.
func (r *run) await(i int) {
	watch := time.Now().Add(r.th.cfg.Watchdog)
	for r.procs[i].state == sFree {
		until := watch
		if r.deadline.Before(until) {
			until = r.deadline
		}
		e, ok := r.th.box.take(r.th.ctx, until)
		if ok {
			r.apply(e)
			continue
		}
		if r.expired() {
			return
		}
		p := r.procs[i]
		after := "its start"
		if p.point != "" {
			after = "point " + p.point
		}
		r.note(fmt.Sprintf("%s neither stopped at a point nor ended within %s after %s (it waits for something pmrun does not control?): let run, so this run may not replay exactly",
			p.name, r.th.cfg.Watchdog, after))
		return
	}
}

// expired says whether the run is over its time (or ctx ended), and
// stops it then.
func (r *run) expired() bool {
	if err := r.th.ctx.Err(); err != nil {
		r.stop(&program.Failure{Verdict: Timeout, Msg: fmt.Sprintf("stopped: %v", context.Cause(r.th.ctx))})
		return true
	}
	if time.Now().Before(r.deadline) {
		return false
	}
	var running []string
	for _, p := range r.procs {
		if p.state == sFree {
			running = append(running, p.name)
		}
	}
	r.stop(&program.Failure{Verdict: Timeout, Msg: fmt.Sprintf("the run took longer than its timeout (%s); still running: %s", r.th.cfg.Timeout, strings.Join(running, ", "))})
	return true
}

// stop ends the run with f.
func (r *run) stop(f *program.Failure) {
	if r.failure == nil {
		r.failure = f
	}
	r.close()
}

// drain takes in the events already there.
func (r *run) drain() {
	for {
		e, ok := r.th.box.take(r.th.ctx, time.Now())
		if !ok {
			return
		}
		r.apply(e)
	}
}

// AppendEnabled appends the processes stopped at a point; when none is
// and some run free, it waits for one to stop or end.
func (r *run) AppendEnabled(dst []int) []int {
	if r.closed {
		return dst
	}
	r.drain()
	for {
		free := false
		n := len(dst)
		for i, p := range r.procs {
			switch p.state {
			case sStopped:
				dst = append(dst, i)
			case sFree:
				free = true
			}
		}
		if len(dst) > n || !free {
			return dst
		}
		e, ok := r.th.box.take(r.th.ctx, r.deadline)
		if !ok {
			if r.expired() {
				return dst
			}
			continue
		}
		r.apply(e)
	}
}

func (r *run) IsEnabled(t int) bool {
	return !r.closed && t >= 0 && t < len(r.procs) && r.procs[t].state == sStopped
}

// Next is the point process t is stopped at.
func (r *run) Next(t int) (program.Action, bool) {
	if t < 0 || t >= len(r.procs) {
		return program.Action{}, false
	}
	switch p := r.procs[t]; p.state {
	case sStopped:
		return program.Action{Text: "point " + p.point, Pos: p.at}, true
	case sFree:
		return program.Action{Text: "running"}, true
	}
	return program.Action{}, false
}

// Step lets process t go on from its point, and waits for it to stop at
// its next or end.
func (r *run) Step(t int) (program.StepInfo, error) {
	if !r.IsEnabled(t) {
		return program.StepInfo{}, fmt.Errorf("points: %d is not stopped at a point", t)
	}
	p := r.procs[t]
	text, at := "point "+p.point, p.at
	fmt.Fprintf(p.conn, "go\n") // a process gone meanwhile ends: its exit tells
	p.conn.Close()
	p.conn, p.state = nil, sFree
	r.await(t)
	return program.StepInfo{Thread: t, Text: text, Pos: at, Var: -1}, nil
}

// End is the run's verdict once no process is stopped at a point: every
// process ended with the status expected, else the first that did not.
func (r *run) End() *program.Failure {
	r.close()
	if r.failure != nil {
		return r.failure
	}
	for _, p := range r.procs {
		e := p.exit
		var f *program.Failure
		switch {
		case e.Signal != "":
			f = &program.Failure{Verdict: Signal, Thread: p.name, Msg: fmt.Sprintf("%s was killed by %s", p.name, e.Signal)}
		case e.ExitCode != r.th.cfg.ExpectExit:
			f = &program.Failure{Verdict: Exit, Thread: p.name, Msg: fmt.Sprintf("%s exited with status %d, not %d", p.name, e.ExitCode, r.th.cfg.ExpectExit)}
		default:
			if re := r.th.cfg.ExpectStdout[p.name]; re != nil && !re.MatchString(e.Stdout) {
				return &program.Failure{Verdict: Output, Thread: p.name, Msg: fmt.Sprintf("%s's standard output has no match of %q (it ends %q)", p.name, re, tail(e.Stdout, 80))}
			}
			continue
		}
		if last := lastLine(e.Stderr); last != "" {
			f.Msg += ": " + last
		}
		return f
	}
	return nil
}

// tail is the last n bytes of s, marked when cut.
func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// lastLine is the last line of s that is not blank.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// close ends every process of the run (their groups too) and lets go of
// its folder.
func (r *run) close() {
	if r.closed {
		return
	}
	r.closed = true
	for _, p := range r.procs {
		if p.conn != nil {
			p.conn.Close()
			p.conn = nil
		}
	}
	if r.tab != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := r.tab.Close(ctx, 100*time.Millisecond); err != nil && !errors.Is(err, context.DeadlineExceeded) {
			r.note(fmt.Sprintf("ending the processes: %v", err))
		}
		cancel()
		for i, p := range r.procs {
			if p.p != nil && p.state != sDone {
				if e, err := p.p.Wait(context.Background()); err == nil {
					r.procs[i].exit = e
				}
			}
		}
	}
	os.RemoveAll(r.dir)
}

// Values: processes share no variables pmrun reads.
func (r *run) Values() []int64 { return nil }

// Final is empty for the same reason.
func (r *run) Final() map[string]any { return map[string]any{} }

// Table is an empty interleaving of the processes.
func (r *run) Table() *program.Interleaving {
	return &program.Interleaving{Threads: r.th.Names()}
}
