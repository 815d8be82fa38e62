package program

import (
	"fmt"
	"unsafe"
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
// [Interleaving.Format]. Rows added with [Interleaving.Add] are kept
// within [MaxTableBytes]: a long run (a spin up to max_steps) keeps its
// first steps and its last, and counts the steps between as Skipped.
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
	// Skipped steps came between Rows[SkippedAt-1] and Rows[SkippedAt]
	// and were not kept; Left says where in the source they were.
	Skipped, SkippedAt int
	Left               []Span

	headBytes, tailBytes int  // of the rows kept before the gap, and after
	tailing              bool // the head is full: rows go after the gap
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
	il.Add(Row{Thread: info.Thread, Op: info.Text, Pos: info.Pos, Values: s.Values(), Log: info.Log, Failed: info.Failure != nil})
}

// Span is where steps of a thread came from in one source file: the
// first and last lines of its steps there, and how many they were.
type Span struct {
	Thread      int
	File        string
	First, Last int
	Steps       int
}

// leave counts row r among the steps not kept, in il.Left.
func (il *Interleaving) leave(r *Row) {
	if r.Pos.Line <= 0 {
		return
	}
	for i := range il.Left {
		if sp := &il.Left[i]; sp.Thread == r.Thread && sp.File == r.Pos.File {
			sp.First, sp.Last, sp.Steps = min(sp.First, r.Pos.Line), max(sp.Last, r.Pos.Line), sp.Steps+1
			return
		}
	}
	il.Left = append(il.Left, Span{Thread: r.Thread, File: r.Pos.File, First: r.Pos.Line, Last: r.Pos.Line, Steps: 1})
}

// MaxTableBytes bounds the rows an [Interleaving] keeps: a quarter of it
// for the first steps of a run, the rest for the last. A row is some 130
// bytes, so a table keeps a thousand steps or more — more than anyone
// reads, and the end of a run, where it broke, is always kept.
const MaxTableBytes = 256 << 10

// rowOverhead is what a Row holds besides its strings and values.
const rowOverhead = int(unsafe.Sizeof(Row{}))

func rowBytes(r *Row) int { return rowOverhead + len(r.Op) + len(r.Log) + 8*len(r.Values) }

// Add appends the row of the next step, keeping the rows within
// [MaxTableBytes]: once the first quarter is full, the rows go after it,
// and when they fill the rest the oldest of them are dropped (and counted
// in Skipped), down to a quarter, so that a run of any length costs one
// copy every few thousand steps.
func (il *Interleaving) Add(r Row) {
	size := rowBytes(&r)
	if !il.tailing && il.headBytes+size <= MaxTableBytes/4 {
		il.Rows = append(il.Rows, r)
		il.headBytes += size
		return
	}
	if !il.tailing {
		il.tailing, il.SkippedAt = true, len(il.Rows) // the first row after the head
	}
	il.Rows = append(il.Rows, r)
	il.tailBytes += size
	if il.headBytes+il.tailBytes <= MaxTableBytes {
		return
	}
	drop := 0
	for i := il.SkippedAt; i < len(il.Rows)-1 && il.tailBytes > MaxTableBytes/4; i++ {
		il.tailBytes -= rowBytes(&il.Rows[i])
		il.leave(&il.Rows[i])
		drop++
	}
	n := copy(il.Rows[il.SkippedAt:], il.Rows[il.SkippedAt+drop:])
	clear(il.Rows[il.SkippedAt+n:])
	il.Rows = il.Rows[:il.SkippedAt+n]
	il.Skipped += drop
}

// Steps is how many steps the interleaving holds: its rows and the steps
// it skipped.
func (il *Interleaving) Steps() int { return len(il.Rows) + il.Skipped }
