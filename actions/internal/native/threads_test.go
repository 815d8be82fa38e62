package native

import (
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// testDriver is the least a strategy does through package engine: runs
// one after another, each thread chosen by choose among the enabled,
// every step recorded in the run's table.
type testDriver struct {
	th     engine.Threads
	runs   int
	choose func(run, step int, enabled []int) int

	run     int
	s       engine.Run
	il      *program.Interleaving
	steps   int
	enabled []int
	ends    []*program.Failure
	tables  []*program.Interleaving
	err     error
}

func (d *testDriver) Next() int {
	for {
		if d.s == nil {
			if d.run == d.runs || d.err != nil {
				return -1
			}
			s, f, err := d.th.Start()
			if err != nil || f != nil {
				d.err = err
				return -1
			}
			d.s, d.il, d.steps = s, s.Table(), 0
		}
		d.enabled = d.s.AppendEnabled(d.enabled[:0])
		if len(d.enabled) == 0 {
			d.il.Failure = d.s.End()
			d.ends, d.tables = append(d.ends, d.il.Failure), append(d.tables, d.il)
			d.s = nil
			d.run++
			continue
		}
		return d.choose(d.run, d.steps, d.enabled)
	}
}

func (d *testDriver) Step(t int) {
	info, err := d.s.Step(t)
	if err != nil {
		d.err = err
	}
	d.steps++
	d.il.Rows = append(d.il.Rows, program.Row{Thread: t, Op: info.Text, Pos: info.Pos, Failed: info.Failure != nil})
}

// A real program's threads drive through package engine's interfaces as
// any kind of thread does: the lost update is found, and its table names
// the threads the program made and the lines of its calls.
func TestEngineThreads(t *testing.T) {
	t.Parallel()
	p := prepare(t, "lost")
	th := p.Threads(t.Context(), Expect{})
	defer th.Close()
	if id := th.Identity(); id.Name != "lost" || id.Hash != p.Hash {
		t.Errorf("identity %+v", id)
	}
	// The two adders alternate at every point: the update is lost.
	d := &testDriver{th: th, runs: 2, choose: func(run, step int, en []int) int {
		if run == 0 {
			return en[0]
		}
		return en[len(en)-1]
	}}
	if err := th.Drive(t.Context(), d, 0); err != nil || d.err != nil {
		t.Fatal(err, d.err)
	}
	if len(d.ends) != 2 {
		t.Fatalf("%d runs ended", len(d.ends))
	}
	text := d.tables[0].Format()
	t.Log("\n" + text)
	for _, want := range []string{"main", "add1", "add2", "\n35: pthread_create(add) → add1", "26: point read", "exit (main returned)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the table has no %q", want)
		}
	}
	if d.ends[0] != nil {
		t.Errorf("one thread at a time, lowest first, failed: %v", d.ends[0])
	}
	if names := th.Names(); len(names) != 3 {
		t.Errorf("names %v", names)
	}
	if os := th.OS(); len(os) != 3 || os[1].TID == 0 {
		t.Errorf("OS threads %+v", os)
	}
}
