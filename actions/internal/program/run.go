package program

import (
	"fmt"
	"strings"
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

// Format prints the interleaving as OSTEP's simulators do: the shared
// values after each step, then one column per thread holding that
// thread's step ("7: count = count + 1 (read)", 7 the line), and the
// failure, if any, at the bottom.
func (il *Interleaving) Format() string {
	valW := make([]int, len(il.Vars))
	for i, v := range il.Vars {
		valW[i] = len(v)
	}
	cell := func(vals []int64, i int) string { return formatValue(vals[i], il.Bools[i]) }
	all := append([][]int64{il.Initial}, rowValues(il.Rows)...)
	for _, vals := range all {
		for i := range il.Vars {
			valW[i] = max(valW[i], len(cell(vals, i)))
		}
	}
	colW := make([]int, len(il.Threads))
	for t, name := range il.Threads {
		colW[t] = len(name)
	}
	ops := make([]string, len(il.Rows))
	files := map[string]bool{}
	for _, row := range il.Rows {
		if row.Pos.File != "" {
			files[row.Pos.File] = true
		}
	}
	for r, row := range il.Rows {
		switch {
		case len(files) > 1 && row.Pos.File != "": // a real program of several files
			ops[r] = fmt.Sprintf("%s: %s", row.Pos, row.Op)
		case row.Pos.Line == 0: // a real program's call with no line
			ops[r] = row.Op
		default:
			ops[r] = fmt.Sprintf("%d: %s", row.Pos.Line, row.Op)
		}
		if row.Failed {
			ops[r] += "  ✗"
		}
		colW[row.Thread] = max(colW[row.Thread], len([]rune(ops[r])))
	}
	var b strings.Builder
	line := func(vals []int64, cells []string) {
		var parts []string
		for i := range il.Vars {
			v := ""
			if vals != nil {
				v = cell(vals, i)
			}
			parts = append(parts, fmt.Sprintf("%*s", valW[i], v))
		}
		for t := range il.Threads {
			parts = append(parts, pad(cells[t], colW[t]))
		}
		b.WriteString(strings.TrimRight(strings.Join(parts, "  "), " "))
		b.WriteByte('\n')
	}
	head := make([]string, len(il.Threads))
	copy(head, il.Threads)
	var names []string
	for i, v := range il.Vars {
		names = append(names, fmt.Sprintf("%*s", valW[i], v))
	}
	for t := range il.Threads {
		names = append(names, pad(head[t], colW[t]))
	}
	b.WriteString(strings.TrimRight(strings.Join(names, "  "), " ") + "\n")
	if len(il.Vars) > 0 {
		line(il.Initial, make([]string, len(il.Threads)))
	}
	for r, row := range il.Rows {
		if il.Repeats > 0 && r == len(il.Rows)-il.Repeats {
			if il.Repeats == 1 {
				b.WriteString("↻ the step below goes round for ever: after it the run is back where it was here\n")
			} else {
				fmt.Fprintf(&b, "↻ the %d steps below go round for ever: after them the run is back where it was here\n", il.Repeats)
			}
		}
		cells := make([]string, len(il.Threads))
		cells[row.Thread] = ops[r]
		line(row.Values, cells)
	}
	if il.Repeats > 0 {
		b.WriteString("↻ back to where the loop starts, and round again, for ever\n")
	}
	if il.Failure != nil {
		fmt.Fprintf(&b, "%s: %s\n", il.Failure.Verdict, il.Failure.Msg)
	}
	return b.String()
}

func rowValues(rows []Row) [][]int64 {
	out := make([][]int64, len(rows))
	for i, r := range rows {
		out[i] = r.Values
	}
	return out
}

func pad(s string, w int) string {
	if n := len([]rune(s)); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}
