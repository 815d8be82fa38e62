package program

import (
	"fmt"
)

// DefaultMaxSteps is the step limit of a run when RunOptions.MaxSteps is 0.
const DefaultMaxSteps = 10000

// Chooser picks the thread that takes the next step: one of enabled, which
// is never empty and lists the enabled threads in index order.
type Chooser func(s *State, enabled []int) int

// RunOptions change how [Program.Run] runs.
type RunOptions struct {
	// MaxSteps ends the run with verdict max_steps when it has taken that
	// many steps and has not ended; 0 means DefaultMaxSteps.
	MaxSteps int
	// Record keeps the interleaving: a row for every step.
	Record bool
}

// Result is the outcome of one run.
type Result struct {
	Verdict Verdict
	Failure *Failure // nil when Verdict is pass
	Steps   int
	// Switches counts the steps taken by another thread than the step
	// before.
	Switches int
	// Schedule is the thread of every step, in order.
	Schedule     []int
	Interleaving *Interleaving // when RunOptions.Record
	Final        *State
}

// Run runs the program from its start, letting choose pick every step,
// until every thread has finished, a check fails, no thread can step, or
// the step limit is reached. The error is choose's mistake (a thread that
// is not enabled).
func (p *Program) Run(choose Chooser, opt RunOptions) (Result, error) {
	limit := opt.MaxSteps
	if limit <= 0 {
		limit = DefaultMaxSteps
	}
	s, f := p.NewState()
	res := Result{Final: s}
	if opt.Record {
		res.Interleaving = p.newInterleaving(s)
	}
	var enabled []int
	last := -1
	for f == nil {
		enabled = s.AppendEnabled(enabled[:0])
		if len(enabled) == 0 {
			f = s.End()
			break
		}
		if s.Steps() >= limit {
			f = &Failure{Verdict: MaxSteps, Pos: p.def.Pos, Msg: fmt.Sprintf("the run took %d steps without ending (a spin or a livelock?)", limit)}
			break
		}
		t := choose(s, enabled)
		info, err := s.Step(t)
		if err != nil {
			return res, err
		}
		if last >= 0 && t != last {
			res.Switches++
		}
		last = t
		res.Schedule = append(res.Schedule, t)
		if res.Interleaving != nil {
			res.Interleaving.add(s, info)
		}
		f = info.Failure
	}
	res.Steps, res.Failure, res.Verdict = s.Steps(), f, Pass
	if f != nil {
		res.Verdict = f.Verdict
	}
	if res.Interleaving != nil {
		res.Interleaving.Failure = f
	}
	return res, nil
}

// Replay returns a Chooser that takes the threads of schedule in order and
// then the lowest enabled thread.
func Replay(schedule []int) Chooser {
	i := 0
	return func(_ *State, enabled []int) int {
		if i < len(schedule) {
			i++
			return schedule[i-1]
		}
		return enabled[0]
	}
}

// Interleaving is a run as a table: a row for every step with the shared
// values after it, printed in the style of OSTEP's simulators by
// [Interleaving.Format].
type Interleaving struct {
	Threads []string
	Vars    []string
	Bools   []bool  // which variables are booleans
	Initial []int64 // the values before the first step
	Rows    []Row
	Failure *Failure
	// Repeats says that the last Repeats rows go round for ever: after
	// them the run is back in the state it was in before them (a
	// livelock, or a spin nobody releases).
	Repeats int
}

// Row is one step of an interleaving.
type Row struct {
	Thread int
	Op     string
	Pos    Pos
	Values []int64 // the shared variables after the step
	Log    string
	Failed bool // this step broke a check
}

// Table is an empty interleaving of a run from s: the program's threads
// and variables, and their values in s.
func (s *State) Table() *Interleaving { return s.p.newInterleaving(s) }

func (p *Program) newInterleaving(s *State) *Interleaving {
	il := &Interleaving{Threads: p.Threads(), Vars: p.Vars(), Initial: s.Values()}
	for _, v := range p.vars {
		il.Bools = append(il.Bools, v.isBool)
	}
	return il
}

func (il *Interleaving) add(s *State, info StepInfo) {
	il.Rows = append(il.Rows, Row{Thread: info.Thread, Op: info.Text, Pos: info.Pos, Values: s.Values(), Log: info.Log, Failed: info.Failure != nil})
}
