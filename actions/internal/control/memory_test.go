package control

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// wideCounter is a program of one thread that counts for ever, beside
// many other shared variables: a state of some hundred words, a step
// that changes it.
func wideCounter(t *testing.T) *program.Program {
	t.Helper()
	var vars []string
	for i := range 100 {
		vars = append(vars, fmt.Sprintf("v%d: 0", i))
	}
	src := fmt.Sprintf("wide:\n  vars: {x: 0, %s}\n  threads:\n    A: [{while: true, do: [atomic_set: x = x + 1]}]\n", strings.Join(vars, ", "))
	set, err := program.LoadText([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	p, err := set.Program("wide")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// heapInUse is the heap in use after a collection.
func heapInUse() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestLongRunKeepsABoundedTable: a run that goes on to max_steps keeps
// the rows of its first and last steps only, within
// program.MaxTableBytes, and its table says how many it left out; the
// steps it keeps are the run's (a table of every step was about 1 KB a
// step of this program).
func TestLongRunKeepsABoundedTable(t *testing.T) {
	const steps = 50000
	out, err := Search(t.Context(), wideCounter(t), Options{Scheduler: Random, Runs: 1, MaxSteps: steps})
	if err != nil {
		t.Fatal(err)
	}
	il := out.Interleaving
	if out.Verdict != program.MaxSteps || out.Steps != steps || il == nil {
		t.Fatalf("verdict %s after %d steps, table %v; want max_steps after %d with a table", out.Verdict, out.Steps, il != nil, steps)
	}
	kept := 0
	for _, r := range il.Rows {
		kept += len(r.Values) * 8
	}
	if len(il.Rows) >= steps/10 || kept > program.MaxTableBytes {
		t.Fatalf("the table kept %d rows (%d bytes of values) of %d steps; want the first and last within %d bytes",
			len(il.Rows), kept, steps, program.MaxTableBytes)
	}
	if il.Steps() != steps || il.Skipped == 0 {
		t.Errorf("the table holds %d steps (%d skipped); want %d", il.Steps(), il.Skipped, steps)
	}
	first, last := il.Rows[0].Values[0], il.Rows[len(il.Rows)-1].Values[0]
	if final := out.Final["x"].(int); first > 1 || last != int64(final) {
		t.Errorf("x is %d in the first row kept and %d in the last, %d at the end; want the first steps' and the last's", first, last, final)
	}
	if text := il.Format(); !strings.Contains(text, fmt.Sprintf("… %d more steps not kept", il.Skipped)) {
		t.Errorf("the table does not say it left steps out:\n%.2000s", text)
	}
}

// TestGameKeepsBoundedUndo: a long game keeps its states for undo within
// MaxUndoBytes (it kept one a step: about 20 MB here), and an undo still
// goes back to the state before the step, rebuilt from one kept.
func TestGameKeepsBoundedUndo(t *testing.T) {
	const steps = 20000
	p := wideCounter(t)
	g, err := NewGame(p, Options{MaxSteps: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	before := heapInUse()
	for i := range steps {
		if _, err := g.Step(t.Context(), 0); err != nil {
			t.Fatalf("step %d: %v", i+1, err)
		}
	}
	grew := int64(heapInUse()) - int64(before)
	runtime.KeepAlive(g)
	if grew > 2*MaxUndoBytes {
		t.Errorf("a game of %d steps of a %d-byte state grew the heap by %d bytes; want at most %d", steps, g.State().Bytes(), grew, 2*MaxUndoBytes)
	}
	taken := g.Steps()
	for n := steps - 1; n >= steps-5; n-- {
		if !g.Undo() {
			t.Fatalf("undo back to %d steps failed", n)
		}
		want, _ := p.NewState()
		for _, th := range taken[:n] {
			if _, err := want.Step(th); err != nil {
				t.Fatal(err)
			}
		}
		if g.Taken() != n || !g.State().Equal(want) {
			t.Fatalf("after an undo to %d steps: %d steps, x = %v; want x = %v", n, g.Taken(), g.State().Final()["x"], want.Final()["x"])
		}
	}
	if _, err := g.Step(t.Context(), 0); err != nil {
		t.Fatalf("a step after the undos: %v", err)
	}
}
