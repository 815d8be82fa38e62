package picture_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/picture"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

const file = "testdata/programs.yaml"

// load returns the program called name of testdata/programs.yaml and the
// file's text.
func load(t *testing.T, name string) (*program.Program, []byte) {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return programtest.Prog(t, file, name), src
}

// steps reads a schedule's steps: "abba" is thread 0, 1, 1, 0.
func steps(s string) []int {
	var out []int
	for _, r := range s {
		out = append(out, int(r-'a'))
	}
	return out
}

// TestFlagLock: the flag lock's race, laid out: each thread's code from the
// file (the comments kept, the shared indentation cut), the steps in order
// with the values after each and what changed, the step that broke mutual
// exclusion marked, and the rule.
func TestFlagLock(t *testing.T) {
	t.Parallel()
	p, src := load(t, "flag_lock")
	r, err := picture.Of(p, steps("baaaabb"), src, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != "mutual_exclusion" || r.Line != 10 ||
		r.Failure != "testdata/programs.yaml:10:13: B entered critical while A is inside (capacity 1)" ||
		r.Rule != "mutual_exclusion: B entered critical while A is inside (capacity 1)" {
		t.Errorf("verdict %q line %d failure %q rule %q", r.Verdict, r.Line, r.Failure, r.Rule)
	}
	if len(r.Threads) != 2 || r.Threads[0].Name != "A" || r.Threads[1].Key != "b" {
		t.Fatalf("threads %+v", r.Threads)
	}
	for _, th := range r.Threads {
		code := th.Code
		if len(code) != 7 || code[0] != (view.Line{N: 6, Text: "- repeat: 2"}) ||
			code[2] != (view.Line{N: 8, Text: "    - while: flag               # wait while someone is inside"}) ||
			code[6].N != 12 {
			t.Errorf("%s's code: %+v", th.Name, code)
		}
	}
	want := []view.Shared{{Name: "flag", Kind: "var", Initial: "false"}, {Name: "count", Kind: "var", Initial: "0"}}
	if !slices.Equal(r.Shared, want) {
		t.Errorf("shared %+v", r.Shared)
	}
	var got []string
	for _, st := range r.Steps {
		line := strings.Join([]string{r.Threads[st.Thread].Name, st.Op, strings.Join(st.Values, " ")}, ": ")
		if len(st.Changed) > 0 {
			line += " *"
		}
		if st.Failed {
			line += " ✗"
		}
		got = append(got, line)
	}
	wantSteps := []string{
		"B: while flag: false 0",
		"A: while flag: false 0",
		"A: atomic flag = true: true 0 *",
		"A: enter critical: true 0",
		"A: count = count + 1 (read): true 0",
		"B: atomic flag = true: true 0",
		"B: enter critical: true 0 ✗",
	}
	if !slices.Equal(got, wantSteps) {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantSteps, "\n"))
	}
	if r.Steps[0].N != 1 || r.Steps[6].N != 7 || r.Steps[6].Line != 10 {
		t.Errorf("steps numbered %d…%d, the last at line %d", r.Steps[0].N, r.Steps[6].N, r.Steps[6].Line)
	}
}

// TestDeadlockGraph: a deadlock's wait-for graph names each thread, the
// mutex it holds and what it waits for, and marks the circular wait; the
// mutexes' holders are shared values.
func TestDeadlockGraph(t *testing.T) {
	t.Parallel()
	p, src := load(t, "opposite")
	r, err := picture.Of(p, steps("ababab"), src, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Verdict != "deadlock" || r.Rule != "deadlock: 2 of 2 threads blocked" || !strings.Contains(r.Explanation, "A waits for mutex m2") {
		t.Errorf("verdict %q rule %q explanation %q", r.Verdict, r.Rule, r.Explanation)
	}
	last := r.Steps[len(r.Steps)-1]
	if !slices.Equal(last.Values, []string{"0", "0", "A", "B"}) {
		t.Errorf("values after the last step %q (a_has, b_has, m1, m2)", last.Values)
	}
	g := r.Deadlock
	if g == nil {
		t.Fatal("no graph")
	}
	wantNodes := []view.Node{
		{Thread: "A", State: "blocked", Holds: []string{"m1"}, Waits: "mutex m2", Line: 19, Op: "lock m2"},
		{Thread: "B", State: "blocked", Holds: []string{"m2"}, Waits: "mutex m1", Line: 20, Op: "lock m1"},
	}
	if len(g.Nodes) != 2 || !nodeEqual(g.Nodes[0], wantNodes[0]) || !nodeEqual(g.Nodes[1], wantNodes[1]) {
		t.Errorf("nodes %+v", g.Nodes)
	}
	wantEdges := []view.Edge{
		{From: "A", To: "B", Object: "mutex m2", Holder: true, Cycle: true},
		{From: "B", To: "A", Object: "mutex m1", Holder: true, Cycle: true},
	}
	if !slices.Equal(g.Edges, wantEdges) || !slices.Equal(g.Cycle, []string{"A", "m2", "B", "m1", "A"}) {
		t.Errorf("edges %+v cycle %q", g.Edges, g.Cycle)
	}
}

func nodeEqual(a, b view.Node) bool {
	return a.Thread == b.Thread && a.State == b.State && slices.Equal(a.Holds, b.Holds) && a.Waits == b.Waits && a.Line == b.Line && a.Op == b.Op
}

// TestCountedThreads: counted threads are named W0, W1 and share their
// code (here the line that holds the whole body); an invariant's failure
// marks the step that broke it.
func TestCountedThreads(t *testing.T) {
	t.Parallel()
	p, src := load(t, "workers")
	r, err := picture.Of(p, steps("aabb"), src, file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r.Threads[0].Name != "W0" || r.Threads[1].Name != "W1" || len(r.Threads[1].Code) != 1 ||
		r.Threads[1].Code[0] != (view.Line{N: 24, Text: "W: {count: 2, body: [set: n = n + 1]}"}) {
		t.Errorf("threads %+v", r.Threads)
	}
	if r.Verdict != "invariant" || r.Rule != "invariant n <= 1 does not hold: n = 2" || len(r.Steps) != 4 || !r.Steps[3].Failed {
		t.Errorf("verdict %q rule %q steps %+v", r.Verdict, r.Rule, r.Steps)
	}
}

// TestEditedFile: when the file no longer holds the program where it was
// (it was edited after loading), the code is the operations written out,
// at their lines.
func TestEditedFile(t *testing.T) {
	t.Parallel()
	p, src := load(t, "opposite")
	edited := strings.Replace(string(src), "lock: m1, signal", "lock: m1,  signal", 1)
	for _, text := range []string{edited, ""} {
		r, err := picture.Of(p, nil, []byte(text), file, nil)
		if err != nil {
			t.Fatal(err)
		}
		code := r.Threads[0].Code
		if len(code) != 6 || code[0] != (view.Line{N: 19, Text: "- lock: m1"}) || code[2].Text != "- wait: b_has" {
			t.Errorf("code %+v", code)
		}
	}
}

// TestBadSchedule: a step that does not fit the program is an error.
func TestBadSchedule(t *testing.T) {
	t.Parallel()
	p, src := load(t, "opposite")
	if _, err := picture.Of(p, steps("abababa"), src, file, nil); err == nil || !strings.Contains(err.Error(), "step 7") {
		t.Errorf("error %v", err)
	}
	if _, err := picture.Of(p, []int{7}, src, file, nil); err == nil {
		t.Error("thread 7 of 2 took a step")
	}
}

// TestOfCalls: a run of a real program's threads (no model) is laid out
// from its calls: each thread's code is the lines around its calls in the
// file most of them came from, there are no shared values, and a deadlock
// is drawn from its explanation, a mutex held by the thread another waits
// for it in the name of.
func TestOfCalls(t *testing.T) {
	t.Parallel()
	src := "int main(void)\n{\n\tlock(a);\n\tlock(b);\n}\nvoid other(void)\n{\n\tlock(b);\n\tlock(a);\n}\n"
	read := func(file string) []byte {
		if file == "abba.c" {
			return []byte(src)
		}
		return nil
	}
	at := func(line int) program.Pos { return program.Pos{File: "abba.c", Line: line} }
	calls := []picture.Call{
		{Thread: 0, Op: "lock(a)", Pos: at(3)},
		{Thread: 1, Op: "lock(b)", Pos: at(8)},
		{Thread: 0, Op: "lock(b)", Pos: at(4)},
		{Thread: 1, Op: "lock(a)", Pos: at(9)},
	}
	d := &program.DeadlockInfo{
		Blocked: []program.BlockedThread{
			{Thread: "T0", Pos: at(4), Op: "lock(b)", Kind: program.ObjMutex, Object: "b", Holder: "T1"},
			{Thread: "T1", Pos: at(9), Op: "lock(a)", Kind: program.ObjMutex, Object: "a", Holder: "T0"},
		},
		Cycle: []string{"T0", "b", "T1", "a", "T0"},
		Text:  "deadlock: 2 of 2 threads blocked",
	}
	f := &program.Failure{Verdict: program.Deadlock, Msg: d.Text, Deadlock: d}
	r := picture.OfCalls([]string{"T0", "T1"}, calls, f, read)
	if len(r.Steps) != 4 || r.Steps[3].Line != 9 || len(r.Shared) != 0 || r.Verdict != "deadlock" {
		t.Errorf("run %+v", r)
	}
	if c := r.Threads[0].Code; len(c) != 6 || c[0] != (view.Line{N: 1, Text: "int main(void)"}) || c[5].N != 6 {
		t.Errorf("T0's code %+v", c)
	}
	if c := r.Threads[1].Code; len(c) != 5 || c[0].N != 6 || c[4] != (view.Line{N: 10, Text: "}"}) {
		t.Errorf("T1's code %+v", c)
	}
	g := r.Deadlock
	if g == nil || !slices.Equal(g.Nodes[0].Holds, []string{"a"}) || g.Nodes[0].Waits != "mutex b" ||
		len(g.Edges) != 2 || !g.Edges[0].Cycle || !g.Edges[0].Holder || g.Edges[0].To != "T1" {
		t.Errorf("graph %+v", g)
	}
	if r := picture.OfCalls([]string{"T0"}, calls[:1], nil, nil); len(r.Threads[0].Code) != 0 || r.Verdict != "pass" {
		t.Errorf("without the source: %+v", r)
	}
	// A long run's table left T1's calls out: they still place its code.
	left := []program.Span{{Thread: 1, File: "abba.c", First: 8, Last: 9, Steps: 1000}}
	r = picture.OfCalls([]string{"T0", "T1"}, calls[2:3], nil, read, left...)
	if c := r.Threads[1].Code; len(c) != 5 || c[0].N != 6 || len(r.Steps) != 1 {
		t.Errorf("T1's code from the calls left out %+v, steps %+v", c, r.Steps)
	}
}
