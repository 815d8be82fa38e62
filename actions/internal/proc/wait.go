package proc

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// exitedLocked records the exit status the reaper collected. The process is
// done once its output is complete too, or WaitDelay later.
func (p *Process) exitedLocked(ws unix.WaitStatus, ru *unix.Rusage, now time.Time) {
	p.exited, p.status, p.rusage, p.ended = true, ws, *ru, now
	if p.pidfd >= 0 {
		p.t.e.pump.unwatchExit(p.pidfd)
		p.pidfd = -1
	}
	if p.open == 0 {
		p.finishLocked()
		return
	}
	pp := p.t.e.pump
	p.delay = time.AfterFunc(p.t.waitDelay, func() { pp.forceClose(&p.stdout, &p.stderr) })
}

// streamClosed is called by the pump when one output stream ends.
func (p *Process) streamClosed() {
	e := p.t.e
	e.mu.Lock()
	defer e.mu.Unlock()
	p.open--
	if p.open == 0 && p.exited {
		p.finishLocked()
	}
}

func (p *Process) finishLocked() {
	if p.delay != nil {
		p.delay.Stop()
	}
	ws := p.status
	x := Exit{
		ExitCode:  ws.ExitStatus(),
		Success:   ws.Exited() && ws.ExitStatus() == 0,
		Stdout:    p.stdout.tail.String(),
		Stderr:    p.stderr.tail.String(),
		Runtime:   p.ended.Sub(p.started),
		CPUUser:   time.Duration(p.rusage.Utime.Nano()),
		CPUSystem: time.Duration(p.rusage.Stime.Nano()),
		MaxRSS:    p.rusage.Maxrss * 1024, // Linux reports KiB
	}
	if ws.Signaled() {
		x.Signal = unix.SignalName(ws.Signal())
	}
	p.exit = x
	// The rings are copied out; a thousand finished children should not
	// pin 128 KiB each.
	p.stdout.tail, p.stderr.tail = tail{}, tail{}
	if p.onExit != nil {
		p.onExit(p, x)
	}
	close(p.done)
}

// Wait waits for the process to exit and its output to be collected.
// When ctx ends first it returns an error wrapping the context's cause and
// leaves the process running.
func (p *Process) Wait(ctx context.Context) (Exit, error) {
	return p.await(ctx, "wait")
}

func (p *Process) await(ctx context.Context, op string) (Exit, error) {
	select {
	case <-p.done: // already over: answer even if ctx is done too
		return p.exit, nil
	default:
	}
	select {
	case <-p.done:
		return p.exit, nil
	case <-ctx.Done():
		return Exit{}, fmt.Errorf("%s %q: %w", op, p.name, context.Cause(ctx))
	}
}

// Signal sends sig to the process's whole group, while the process has not
// been reaped. Afterwards it does nothing and returns nil: the group id
// could by then name somebody else's group.
func (p *Process) Signal(sig syscall.Signal) error {
	e := p.t.e
	e.mu.Lock()
	defer e.mu.Unlock()
	if p.exited {
		return nil
	}
	// Unreaped, the leader pins its pid and so its group id.
	if err := unix.Kill(-p.pgid, sig); err != nil && err != unix.ESRCH {
		return fmt.Errorf("signal %q (pgid %d): %w", p.name, p.pgid, err)
	}
	return nil
}

// Terminate sends sig (SIGTERM if 0) to the process group, SIGKILL after
// grace if the process is still there, and waits for it. Terminating a
// process that has already exited is not an error: it returns that Exit,
// as a user who asks to stop something already stopped got what they asked.
func (p *Process) Terminate(ctx context.Context, sig syscall.Signal, grace time.Duration) (Exit, error) {
	select {
	case <-p.done:
		return p.exit, nil
	default:
	}
	if sig == 0 {
		sig = unix.SIGTERM
	}
	if err := p.Signal(sig); err != nil {
		return Exit{}, err
	}
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.exit, nil
	case <-ctx.Done():
		return Exit{}, fmt.Errorf("terminate %q: %w", p.name, context.Cause(ctx))
	case <-timer.C:
	}
	if err := p.Signal(unix.SIGKILL); err != nil {
		return Exit{}, err
	}
	return p.await(ctx, "terminate")
}

// Info describes the process now.
func (p *Process) Info() Info {
	e := p.t.e
	e.mu.Lock()
	defer e.mu.Unlock()
	return p.infoLocked()
}

func (p *Process) infoLocked() Info {
	in := Info{Name: p.name, PID: p.pid, PGID: p.pgid, Started: p.started, State: Running}
	switch {
	case !p.exited:
	case p.status.Signaled():
		in.State, in.ExitCode, in.Signal = Killed, -1, unix.SignalName(p.status.Signal())
	default:
		in.State, in.ExitCode = Exited, p.status.ExitStatus()
	}
	return in
}

// Process returns the process started under name.
func (t *Table) Process(name string) (*Process, error) {
	t.e.mu.Lock()
	p := t.byName[name]
	t.e.mu.Unlock()
	if p == nil {
		return nil, fmt.Errorf("process %q: %w", name, ErrUnknown)
	}
	return p, nil
}

// Wait is [Process.Wait] by name.
func (t *Table) Wait(ctx context.Context, name string) (Exit, error) {
	p, err := t.Process(name)
	if err != nil {
		return Exit{}, err
	}
	return p.Wait(ctx)
}

// Terminate is [Process.Terminate] by name.
func (t *Table) Terminate(ctx context.Context, name string, sig syscall.Signal, grace time.Duration) (Exit, error) {
	p, err := t.Process(name)
	if err != nil {
		return Exit{}, err
	}
	return p.Terminate(ctx, sig, grace)
}

// Alive reports whether the process called name has been started and not
// yet exited.
func (t *Table) Alive(name string) bool {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	p := t.byName[name]
	return p != nil && p.pid != 0 && !p.exited
}

// List describes every process the table started, in start order.
func (t *Table) List() []Info {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	out := make([]Info, 0, len(t.order))
	for _, p := range t.order {
		if p.pid != 0 {
			out = append(out, p.infoLocked())
		}
	}
	return out
}
