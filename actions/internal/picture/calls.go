package picture

import (
	"cmp"
	"slices"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// Call is one step of a run of threads pmrun has no model of (a real C
// program's, under the controlled action): the thread, the call it made,
// and where in the program's source, when its debug information says.
type Call struct {
	Thread int
	Op     string
	Pos    program.Pos // File and Line
	Failed bool
}

// around is how many lines of source a thread's code shows before its
// first call and after its last.
const around = 2

// OfCalls lays out a run of threads pmrun has no model of: the calls in
// order, each thread's code the lines of the source file its calls came
// from (read reads a file; nil, or a file it cannot read, leaves the code
// out), how the run ended and a deadlock's wait-for graph. It has no
// shared values: pmrun does not see the program's memory. left are the
// calls of the run not in calls (a long run's table keeps its first and
// last steps: [program.Interleaving.Left]), which place each thread's
// code too.
func OfCalls(threads []string, calls []Call, f *program.Failure, read func(file string) []byte, left ...program.Span) *view.Run {
	r := &view.Run{Verdict: string(program.Pass), Shared: []view.Shared{}, Steps: []view.Step{}}
	skip := max(0, len(calls)-MaxSteps)
	r.Skipped = skip
	for i, c := range calls[skip:] {
		r.Steps = append(r.Steps, view.Step{N: skip + i + 1, Thread: c.Thread, Line: c.Pos.Line, Op: c.Op, Values: []string{}, Failed: c.Failed})
	}
	sources := map[string][]string{}
	for t, name := range threads {
		th := view.Thread{Name: name, Key: schedule.Letter(t), Code: []view.Line{}}
		if file, first, last := span(calls, left, t); file != "" && read != nil {
			lines, ok := sources[file]
			if !ok {
				lines = splitLines(read(file))
				sources[file] = lines
			}
			for l := max(1, first-around); l <= min(len(lines), last+around); l++ {
				th.Code = append(th.Code, view.Line{N: l, Text: lines[l-1]})
			}
			if len(th.Code) > 0 {
				th.File = file
			}
		}
		r.Threads = append(r.Threads, th)
	}
	for i, c := range calls[skip:] {
		if c.Pos.File != "" && c.Thread < len(r.Threads) && c.Pos.File != r.Threads[c.Thread].File {
			r.Steps[i].File = c.Pos.File
		}
	}
	if f != nil {
		r.Verdict, r.Rule, r.Line = string(f.Verdict), Rule(f), f.Pos.Line
		r.Failure = f.Pos.String() + ": " + f.Rule()
		if f.Pos.Line == 0 {
			r.Failure = f.Rule()
		}
		if d := f.Deadlock; d != nil {
			r.Explanation = d.Text
			r.Deadlock = graphOfCalls(threads, d)
		}
	}
	return r
}

// span is the source file most of thread t's calls came from (those of
// calls and of left), and the first and last lines of those calls.
func span(calls []Call, left []program.Span, t int) (file string, first, last int) {
	count := map[string]int{}
	for _, c := range calls {
		if c.Thread == t && c.Pos.File != "" && c.Pos.Line > 0 {
			count[c.Pos.File]++
		}
	}
	for _, sp := range left {
		if sp.Thread == t && sp.File != "" {
			count[sp.File] += sp.Steps
		}
	}
	if len(count) == 0 {
		return "", 0, 0
	}
	files := make([]string, 0, len(count))
	for f := range count {
		files = append(files, f)
	}
	slices.SortFunc(files, func(a, b string) int { return cmp.Or(count[b]-count[a], cmp.Compare(a, b)) })
	file = files[0]
	widen := func(lo, hi int) {
		if first == 0 || lo < first {
			first = lo
		}
		last = max(last, hi)
	}
	for _, c := range calls {
		if c.Thread == t && c.Pos.File == file && c.Pos.Line > 0 {
			widen(c.Pos.Line, c.Pos.Line)
		}
	}
	for _, sp := range left {
		if sp.Thread == t && sp.File == file {
			widen(sp.First, sp.Last)
		}
	}
	return file, first, last
}

// graphOfCalls is the wait-for graph that d explains, without a model's
// state: a thread holds the mutexes another thread waits for in its
// name; the threads that are not blocked have finished.
func graphOfCalls(threads []string, d *program.DeadlockInfo) *view.Graph {
	g := &view.Graph{Cycle: d.Cycle, Nodes: []view.Node{}, Edges: []view.Edge{}}
	holds := map[string][]string{}
	blocked := map[string]program.BlockedThread{}
	for _, b := range d.Blocked {
		blocked[b.Thread] = b
		if b.Holder != "" && !slices.Contains(holds[b.Holder], b.Object) {
			holds[b.Holder] = append(holds[b.Holder], b.Object)
		}
	}
	inCycle := cycleEdges(d.Cycle)
	for _, name := range threads {
		n := view.Node{Thread: name, Holds: holds[name], State: "finished"}
		b, isBlocked := blocked[name]
		if isBlocked {
			n.State, n.Waits, n.Line, n.Op = "blocked", waitsFor(b), b.Pos.Line, b.Op
		}
		g.Nodes = append(g.Nodes, n)
		if isBlocked {
			g.Edges = append(g.Edges, edgesOf(name, n.Waits, b, inCycle)...)
		}
	}
	return g
}

// cycleEdges are the thread-to-thread steps of a cycle of waits (thread,
// object, thread, …).
func cycleEdges(cycle []string) map[[2]string]bool {
	in := map[[2]string]bool{}
	for i := 0; i+2 < len(cycle); i += 2 {
		in[[2]string{cycle[i], cycle[i+2]}] = true
	}
	return in
}

// edgesOf are the edges from a blocked thread to whoever could release
// what it waits for.
func edgesOf(name, waits string, b program.BlockedThread, inCycle map[[2]string]bool) []view.Edge {
	var out []view.Edge
	if b.Holder != "" {
		out = append(out, view.Edge{From: name, To: b.Holder, Object: waits, Holder: true, Cycle: inCycle[[2]string{name, b.Holder}]})
	}
	for _, r := range b.Releasers {
		out = append(out, view.Edge{From: name, To: r, Object: waits, Cycle: inCycle[[2]string{name, r}]})
	}
	return out
}
