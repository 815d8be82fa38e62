package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// Strategy is a scheduler: a way of choosing which thread takes each step,
// as awslabs/shuttle's schedulers are peers (random, pct, dfs, replay).
// Every scheduler of the program action is one — random, pct, exhaustive,
// os (free threads, the kernel decides), manual (a person decides) and
// replay (a schedule decides) — and [For] is the one place that turns a
// name into one.
type Strategy interface {
	// Name is what a step's scheduler: says to choose it.
	Name() string
	// Doc says what it does, in a few words, for pmrun actions.
	Doc() string
	// Check says, for the loader, what is wrong with running p with opts
	// (the options a scenario gives literally): an option this strategy
	// does not take, a program too large for it. p is nil when the
	// program is not known before the run.
	Check(p *program.Program, opts Options) []OptionError
	// Run runs sys as the strategy does and says what it found; a failure
	// of the system is in the Outcome, not an error. The threads it starts
	// from sys are closed by [Run], which calls it.
	Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error)
}

// OptionError is an option a strategy cannot run with.
type OptionError struct {
	Option string // the program action's parameter: work, scheduler, …
	Msg    string
}

func (e OptionError) Error() string { return e.Option + ": " + e.Msg }

// strategies are the schedulers a step chooses by name, in the order the
// documentation lists them; replay is chosen by a schedule. Register adds
// one.
var strategies = struct {
	sync.Mutex
	list []Strategy
}{list: []Strategy{free{}, random{}, pct{}, bounded{}, exhaustive{}, manual{}}}

// replayer is the strategy a schedule chooses.
var replayer Strategy = replay{}

// Register adds a strategy, chosen by its name; a name taken already is a
// programming error.
func Register(s Strategy) {
	strategies.Lock()
	defer strategies.Unlock()
	for _, t := range strategies.list {
		if t.Name() == s.Name() {
			panic("control: scheduler " + s.Name() + " registered twice")
		}
	}
	strategies.list = append(strategies.list, s)
}

// Schedulers are the names a step's scheduler: may say, in order.
func Schedulers() []string {
	strategies.Lock()
	defer strategies.Unlock()
	names := make([]string, len(strategies.list))
	for i, s := range strategies.list {
		names[i] = s.Name()
	}
	return names
}

// SchedulersDoc is every scheduler's name and what it does, for pmrun
// actions.
func SchedulersDoc() string {
	strategies.Lock()
	defer strategies.Unlock()
	parts := make([]string, len(strategies.list))
	for i, s := range strategies.list {
		parts[i] = s.Name() + ": " + s.Doc()
	}
	return strings.Join(parts, "; ")
}

// For is the strategy opts choose: replay when opts.Replay is set, else
// the one named opts.Scheduler (random when it is empty). It is the one
// place a scheduler's name becomes a strategy.
func For(opts Options) (Strategy, error) {
	if opts.Replay != nil {
		return replayer, nil
	}
	name := opts.Scheduler
	if name == "" {
		name = DefaultScheduler
	}
	strategies.Lock()
	defer strategies.Unlock()
	for _, s := range strategies.list {
		if s.Name() == name {
			return s, nil
		}
	}
	names := make([]string, len(strategies.list))
	for i, s := range strategies.list {
		names[i] = s.Name()
	}
	return nil, fmt.Errorf("control: unknown scheduler %q (%s)", name, strings.Join(names, ", "))
}

// DefaultScheduler is the strategy of a step that names none.
const DefaultScheduler = Random

// System is what a strategy runs: a program of the programs: section, or
// the threads of another kind (package engine), started when a strategy
// first asks for them.
type System struct {
	// Program is the system's model; nil for a system that has none (a
	// real program), which the strategies that need one refuse.
	Program *program.Program

	start   func() (engine.Threads, error)
	threads engine.Threads
}

// ProgramSystem is p: its program threads ([Start]) when a strategy asks
// for threads, its model for the strategies that run it otherwise.
func ProgramSystem(p *program.Program) *System {
	return &System{Program: p, start: func() (engine.Threads, error) { return Start(p) }}
}

// ThreadsSystem is a system of threads of another kind, started by start
// when a strategy first asks for them.
func ThreadsSystem(start func() (engine.Threads, error)) *System {
	return &System{start: start}
}

// Threads starts the system's controlled threads, once; [Run] closes them.
func (s *System) Threads() (engine.Threads, error) {
	if s.threads == nil {
		th, err := s.start()
		if err != nil {
			return nil, err
		}
		s.threads = th
	}
	return s.threads, nil
}

// needProgram is the system's program, or an error naming the strategy
// that needs one.
func (s *System) needProgram(strategy string) (*program.Program, error) {
	if s.Program == nil {
		return nil, fmt.Errorf("scheduler: %s needs a program of the programs: section", strategy)
	}
	return s.Program, nil
}

// Run runs sys under the strategy opts choose ([For]) and returns what it
// found. The error is for the run itself (threads that could not start or
// got stuck, ctx ending, options the strategy refuses); a failure of the
// system is in the Outcome. When Run returns, none of the threads it
// started is left, except one a watchdog found stuck.
func Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	start := time.Now()
	out := engine.Outcome{Run: -1, Verdict: program.Pass}
	s, err := For(opts)
	if err != nil {
		return out, err
	}
	if opts, err = opts.withDefaults(); err != nil {
		return out, err
	}
	out, err = s.Run(ctx, sys, opts)
	if out.How.Scheduler == "" {
		out.How.Scheduler = s.Name()
	}
	if sys.threads != nil {
		if out.Threads == nil {
			out.Threads = sys.threads.OS()
		}
		if cerr := sys.threads.Close(); cerr != nil {
			err = errors.Join(err, cerr)
		}
		sys.threads = nil
	}
	out.Runtime = time.Since(start)
	return out, err
}

// controlledOnly refuses the free threads' options: a controlled run takes
// no real time between steps.
func controlledOnly(opts Options) []OptionError {
	var errs []OptionError
	for _, o := range []struct {
		name string
		set  bool
	}{{"work", opts.Work != 0}, {"jitter", opts.Jitter != 0}, {"detect", opts.Detect != 0}} {
		if o.set {
			errs = append(errs, OptionError{o.name, fmt.Sprintf("applies to scheduler: %s only (a controlled run takes no real time between steps)", freeScheduler)})
		}
	}
	return errs
}
