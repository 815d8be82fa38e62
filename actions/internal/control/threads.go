package control

import (
	"context"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// The two kinds of thread this package makes for a program of the
// programs: section (package engine's contract): program threads, real
// OS threads one at a time, and model threads, none at all.

// Start starts p's program threads: a real OS thread for each thread of
// p, named after it, each waiting for the turn (see the package
// documentation). A run is the model's state, each step of it taken by
// the OS thread whose step it is. Close ends the threads.
func Start(p *program.Program) (engine.Threads, error) {
	c, err := newCrew(p.Threads())
	if err != nil {
		return nil, err
	}
	return &programThreads{p: p, names: p.Threads(), c: c}, nil
}

type programThreads struct {
	p     *program.Program
	names []string
	c     *crew
}

func (th *programThreads) Names() []string           { return th.names }
func (th *programThreads) Identity() engine.Identity { return identityOf(th.p) }
func (th *programThreads) OS() []engine.Thread       { return th.c.threadList() }
func (th *programThreads) Close() error              { return th.c.close() }
func (th *programThreads) Model() engine.Threads     { return Model(th.p) }

func (th *programThreads) Start() (engine.Run, *program.Failure, error) {
	s, f := th.p.NewState()
	return s, f, nil
}

func (th *programThreads) Drive(ctx context.Context, d engine.Driver, watchdog time.Duration) error {
	return th.c.drive(ctx, d, watchdog)
}

// Model is p's model threads: the same program with no OS thread; a drive
// calls the driver in a loop on the caller's goroutine, and stops at a
// step when ctx ends.
func Model(p *program.Program) engine.Threads {
	return &modelThreads{p: p, names: p.Threads()}
}

type modelThreads struct {
	p     *program.Program
	names []string
}

func (m *modelThreads) Names() []string           { return m.names }
func (m *modelThreads) Identity() engine.Identity { return identityOf(m.p) }
func (m *modelThreads) Close() error              { return nil }
func (m *modelThreads) Model() engine.Threads     { return m }

func (m *modelThreads) Start() (engine.Run, *program.Failure, error) {
	s, f := m.p.NewState()
	return s, f, nil
}

func (m *modelThreads) OS() []engine.Thread {
	out := make([]engine.Thread, len(m.names))
	for i, name := range m.names {
		out[i] = engine.Thread{Name: name}
	}
	return out
}

// Drive checks ctx every ctxEvery steps: a step of the model takes well
// under a microsecond.
func (m *modelThreads) Drive(ctx context.Context, d engine.Driver, _ time.Duration) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("control: model: %v", r)
		}
	}()
	const ctxEvery = 1024
	for n := 0; ; n++ {
		if n%ctxEvery == 0 && ctx.Err() != nil {
			return fmt.Errorf("control: search stopped: %w", context.Cause(ctx))
		}
		t := d.Next()
		if t < 0 {
			return nil
		}
		d.Step(t)
	}
}

func identityOf(p *program.Program) engine.Identity {
	return engine.Identity{Name: p.Name(), Hash: p.TextHash(), Pos: p.Def().Pos}
}
