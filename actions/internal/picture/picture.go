// Package picture lays out one run of a program as a [view.Run]: the
// run's steps replayed on the program's model (package program) with the
// shared values after each, each thread's code read from the scenario
// file, and a deadlock's wait-for graph. The program action builds one for
// the run a step shows (the report draws it), and pmrun play for its game.
package picture

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// MaxSteps bounds the steps a picture keeps: a run longer than this (one
// that spun until max_steps) keeps its last MaxSteps steps.
const MaxSteps = 2000

// Of lays out the run of p that takes steps (a thread index a step, as
// in a schedule), from the program's start: its threads with their code
// (from source, the scenario file's text, when it still holds the
// program; nil writes the operations out instead), its shared objects,
// and each step with the values after it. failure, if not nil, is how the
// run ended (the run's own, for a verdict the model cannot see again, such
// as max_steps); otherwise it is what the replay on the model finds. The
// caller fills in how the run was made (Kind, Schedule, Replay, Search).
// A step that does not fit the program is an error.
func Of(p *program.Program, steps []int, source []byte, file string, failure *program.Failure) (*view.Run, error) {
	r := &view.Run{Program: p.Name(), File: file, Verdict: string(program.Pass), Steps: []view.Step{}}
	r.Threads = Threads(p, source)
	s, f := p.NewState()
	r.Shared = sharedOf(p, s)
	before := valuesOf(p, s)
	skip := max(0, len(steps)-MaxSteps)
	r.Skipped = skip
	for i, t := range steps {
		if f != nil {
			return nil, fmt.Errorf("picture: step %d of %d comes after the run ended (%s)", i+1, len(steps), f.Verdict)
		}
		if t < 0 || t >= len(p.Threads()) || !s.IsEnabled(t) {
			return nil, fmt.Errorf("picture: step %d: thread %s cannot take a step", i+1, schedule.Letter(t))
		}
		info, err := s.Step(t)
		if err != nil {
			return nil, fmt.Errorf("picture: step %d: %w", i+1, err)
		}
		after := valuesOf(p, s)
		if i >= skip {
			r.Steps = append(r.Steps, stepOf(i+1, info, before, after))
		}
		before = after
		f = info.Failure
	}
	if f == nil {
		f = s.End()
	}
	if failure != nil {
		f = failure
	}
	if f != nil {
		r.Verdict = string(f.Verdict)
		r.Failure = Where(file, f)
		r.Rule = Rule(f)
		r.Line = f.Pos.Line
		if d := f.Deadlock; d != nil {
			r.Explanation = d.Text
			r.Deadlock = graphOf(p, s, d)
		}
	}
	return r, nil
}

// Where says what broke and where: FILE:LINE:COL: message.
func Where(file string, f *program.Failure) string {
	at := f.Pos.String()
	if file != "" {
		at = file + ":" + at
	}
	return at + ": " + f.Msg
}

// ReplayCommand is the command line that replays sched: pmrun run with
// rerun, the arguments that run the scenario again (its file, its --var
// values, its seed), and --replay sched, each quoted for a POSIX shell
// when it needs it; "" without arguments or a schedule.
func ReplayCommand(rerun []string, sched string) string {
	if len(rerun) == 0 || sched == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString("pmrun run")
	for _, a := range append(rerun[:len(rerun):len(rerun)], "--replay", sched) {
		b.WriteString(" ")
		b.WriteString(ShellQuote(a))
	}
	return b.String()
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=+,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Rule is the broken rule in a line: the verdict and the first line of
// the failure's message ("mutual_exclusion: B entered critical while A is
// inside (capacity 1)").
func Rule(f *program.Failure) string {
	rule, _, _ := strings.Cut(f.Rule(), "\n")
	return rule
}

// sharedOf lists p's shared objects: variables, semaphores, mutexes.
func sharedOf(p *program.Program, s *program.State) []view.Shared {
	d := p.Def()
	vals := valuesOf(p, s)
	var out []view.Shared
	for _, v := range d.Vars {
		out = append(out, view.Shared{Name: v.Name, Kind: "var"})
	}
	for _, m := range d.Semaphores {
		out = append(out, view.Shared{Name: m.Name, Kind: "semaphore"})
	}
	for _, m := range d.Mutexes {
		out = append(out, view.Shared{Name: m.Name, Kind: "mutex"})
	}
	for i := range out {
		out[i].Initial = vals[i]
	}
	return out
}

// Values are the shared objects' values in s, in the order of
// [view.Run.Shared]: numbers, true or false, a mutex's holder ("" when it
// is free).
func Values(s *program.State) []string { return valuesOf(s.Program(), s) }

func valuesOf(p *program.Program, s *program.State) []string {
	d := p.Def()
	out := make([]string, 0, len(d.Vars)+len(d.Semaphores)+len(d.Mutexes))
	vals := s.Values()
	for i, v := range d.Vars {
		out = append(out, value(vals[i], v.Bool))
	}
	for _, m := range d.Semaphores {
		n, _ := s.Semaphore(m.Name)
		out = append(out, fmt.Sprint(n))
	}
	names := p.Threads()
	for _, m := range d.Mutexes {
		h := ""
		if t := s.Holder(m.Name); t >= 0 {
			h = names[t]
		}
		out = append(out, h)
	}
	return out
}

func value(v int64, isBool bool) string {
	if isBool {
		return fmt.Sprint(v != 0)
	}
	return fmt.Sprint(v)
}

// Step is the step numbered n that info describes, given the shared values
// before and after it.
func Step(n int, info program.StepInfo, before, after []string) view.Step {
	return stepOf(n, info, before, after)
}

func stepOf(n int, info program.StepInfo, before, after []string) view.Step {
	st := view.Step{N: n, Thread: info.Thread, Line: info.Pos.Line, Op: info.Text, Values: after,
		Blocked: info.Blocked, Failed: info.Failure != nil, Log: info.Log}
	for i := range after {
		if i < len(before) && before[i] != after[i] {
			st.Changed = append(st.Changed, i)
		}
	}
	return st
}

// Threads are p's threads with their code: the lines of each thread's
// body in source when source still holds them (every operation's key
// where the program says it is), else the operations written out, one a
// line, at their lines.
func Threads(p *program.Program, source []byte) []view.Thread {
	lines := splitLines(source)
	d := p.Def()
	if !matches(d, lines) {
		lines = nil
	}
	var out []view.Thread
	for _, td := range d.Threads {
		code := codeOf(td.Body, lines)
		n := max(td.Count, 1)
		for i := range n {
			name := td.Name
			if td.Count > 0 {
				name = fmt.Sprintf("%s%d", td.Name, i)
			}
			out = append(out, view.Thread{Name: name, Key: schedule.Letter(len(out)), Code: code})
		}
	}
	return out
}

func splitLines(source []byte) []string {
	if source == nil {
		return nil
	}
	var out []string
	for line := range bytes.Lines(source) {
		out = append(out, strings.TrimRight(string(line), "\r\n"))
	}
	return out
}

// matches reports whether lines hold d's operations where d says they
// are: the file was not edited since it was loaded.
func matches(d *program.Def, lines []string) bool {
	if lines == nil {
		return false
	}
	ok := true
	for _, td := range d.Threads {
		walk(td.Body, 0, func(op *program.Op, _ int) {
			l, c := op.Pos.Line, op.Pos.Col
			if l < 1 || l > len(lines) || c < 1 || c > len(lines[l-1])+1 ||
				!strings.HasPrefix(lines[l-1][c-1:], op.Kind.String()) {
				ok = false
			}
		})
	}
	return ok
}

// walk calls f for each operation of ops and of the blocks inside them,
// with its depth.
func walk(ops []*program.Op, depth int, f func(op *program.Op, depth int)) {
	for _, op := range ops {
		f(op, depth)
		walk(op.Then, depth+1, f)
		walk(op.Else, depth+1, f)
		walk(op.Do, depth+1, f)
	}
}

// codeOf is the code of a thread's body: its lines in the file, without
// the indentation they share, or the operations written out.
func codeOf(body []*program.Op, lines []string) []view.Line {
	first, last := 0, 0
	walk(body, 0, func(op *program.Op, _ int) {
		for _, l := range []int{op.Pos.Line, op.ObjectPos.Line, op.Expr.Pos.Line, op.TargetPos.Line, op.TextPos.Line, op.MutexPos.Line} {
			if l > 0 && (first == 0 || l < first) {
				first = l
			}
			last = max(last, l)
		}
	})
	var out []view.Line
	if lines == nil || first == 0 {
		walk(body, 0, func(op *program.Op, depth int) {
			out = append(out, view.Line{N: op.Pos.Line, Text: strings.Repeat("  ", depth) + "- " + opText(op)})
		})
		return out
	}
	// A body's last operation may go on past the line it starts on (a
	// folded expression): keep the lines indented deeper than it.
	for last < len(lines) && indent(lines[last]) > indent(lines[first-1]) && strings.TrimSpace(lines[last]) != "" &&
		!strings.HasPrefix(strings.TrimSpace(lines[last]), "- ") {
		last++
	}
	cut := -1
	for l := first; l <= last; l++ {
		if t := lines[l-1]; strings.TrimSpace(t) != "" && (cut < 0 || indent(t) < cut) {
			cut = indent(t)
		}
	}
	for l := first; l <= last; l++ {
		t := lines[l-1]
		if len(t) >= cut {
			t = t[cut:]
		}
		out = append(out, view.Line{N: l, Text: t})
	}
	return out
}

func indent(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }

// opText writes an operation out as it could have been written.
func opText(op *program.Op) string {
	k := op.Kind.String()
	if a := op.Arg(); a != "" {
		return k + ": " + a
	}
	if op.Kind.Shape() == program.ShapeNone {
		return k
	}
	return k + ":"
}

// graphOf is the wait-for graph of the deadlocked state s that d
// explains.
func graphOf(p *program.Program, s *program.State, d *program.DeadlockInfo) *view.Graph {
	g := &view.Graph{Cycle: d.Cycle, Nodes: []view.Node{}, Edges: []view.Edge{}}
	names := p.Threads()
	holds := map[string][]string{}
	for _, m := range p.Def().Mutexes {
		if h := s.Holder(m.Name); h >= 0 {
			holds[names[h]] = append(holds[names[h]], m.Name)
		}
	}
	blocked := map[string]program.BlockedThread{}
	for _, b := range d.Blocked {
		blocked[b.Thread] = b
	}
	inCycle := cycleEdges(d.Cycle)
	for t, name := range names {
		n := view.Node{Thread: name, Holds: holds[name], State: "ready"}
		b, isBlocked := blocked[name]
		switch {
		case isBlocked:
			n.State, n.Waits, n.Line, n.Op = "blocked", waitsFor(b), b.Pos.Line, b.Op
		case s.Done(t):
			n.State = "finished"
		}
		g.Nodes = append(g.Nodes, n)
		if isBlocked {
			g.Edges = append(g.Edges, edgesOf(name, n.Waits, b, inCycle)...)
		}
	}
	return g
}

// waitsFor says what a blocked thread waits for: "semaphore s", "mutex
// m", or the object alone when its kind has no word (a thread joined).
func waitsFor(b program.BlockedThread) string {
	return strings.TrimSpace(kindWord(b.Kind) + " " + b.Object)
}

// kindWord names an object's kind as the game says it: "condition", not
// "cond".
func kindWord(k program.ObjKind) string {
	if k == program.ObjCond {
		return "condition"
	}
	return k.String()
}
