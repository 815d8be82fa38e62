package program

import (
	"strings"
	"testing"
)

func (p *Program) fpString(f Footprint) string {
	var parts []string
	for _, o := range f.Reads {
		parts = append(parts, "r:"+o.Kind.String()+" "+p.ObjectName(o))
	}
	for _, o := range f.Writes {
		parts = append(parts, "w:"+o.Kind.String()+" "+p.ObjectName(o))
	}
	return strings.Join(parts, ", ")
}

// TestFootprints walks one thread through every kind of step and checks
// what each next step reads and writes.
func TestFootprints(t *testing.T) {
	t.Parallel()
	p := prog(t, "footprints")
	want := []struct{ text, fp string }{
		{"wait s", "w:semaphore s"},
		{"lock m", "w:mutex m"},
		{"x = y + 1 (read)", "r:var y"},
		{"x = y + 1 (write)", "w:var x"},
		{"atomic y = y + x", "r:var x, r:var y, w:var y"},
		{"cond_signal c", "w:cond c"},
		{"unlock m", "w:mutex m"},
		{"enter r", "w:region r"},
		{`log x is ${{ x }}`, "r:var x"},
		{"leave r", "w:region r"},
		{"yield", ""},
	}
	s, _ := p.NewState()
	for i, w := range want {
		a, ok := s.Next(0)
		if !ok {
			t.Fatalf("step %d: the thread has finished", i)
		}
		if a.Text != w.text || p.fpString(a.Footprint) != w.fp || p.fpString(s.Footprint(0)) != w.fp {
			t.Errorf("step %d: %q %q, want %q %q", i, a.Text, p.fpString(a.Footprint), w.text, w.fp)
		}
		info, err := s.Step(0)
		if err != nil || info.Failure != nil {
			t.Fatalf("step %d: %v %v", i, err, info.Failure)
		}
		if w.text == `log x is ${{ x }}` && info.Log != "x is 1" {
			t.Errorf("log printed %q, want %q", info.Log, "x is 1")
		}
	}
	if !s.Footprint(0).Empty() || !s.Done(0) {
		t.Error("a finished thread has a footprint")
	}
	// cond_wait: releasing touches the condition and the mutex;
	// reacquiring takes the mutex and depends on the signal that woke it.
	c := prog(t, "cond")
	s, _ = play(t, c, "W0 W0")
	if got := c.fpString(s.Footprint(0)); got != "w:cond c, w:mutex m" {
		t.Errorf("cond_wait release: %q", got)
	}
	s, _ = play(t, c, "W0 W0 W0 S S S S")
	if got := c.fpString(s.Footprint(0)); got != "r:cond c, w:mutex m" {
		t.Errorf("cond_wait reacquire: %q", got)
	}
}

func TestConflict(t *testing.T) {
	t.Parallel()
	x, y := Object{ObjVar, 0}, Object{ObjVar, 1}
	sem := Object{ObjSemaphore, 0}
	tests := []struct {
		a, b Footprint
		want bool
	}{
		{Footprint{Writes: []Object{sem}}, Footprint{Writes: []Object{sem}}, true}, // wait / signal
		{Footprint{Reads: []Object{x}}, Footprint{Reads: []Object{x}}, false},      // two reads commute
		{Footprint{Reads: []Object{x}}, Footprint{Writes: []Object{x}}, true},
		{Footprint{Writes: []Object{x}}, Footprint{Reads: []Object{x}}, true},
		{Footprint{Writes: []Object{x}}, Footprint{Writes: []Object{y}}, false},
		{Footprint{}, Footprint{Writes: []Object{x}}, false}, // yield
		{Footprint{Writes: []Object{{ObjVar, 0}}}, Footprint{Writes: []Object{{ObjSemaphore, 0}}}, false},
	}
	for i, tt := range tests {
		if got := tt.a.Conflict(tt.b); got != tt.want {
			t.Errorf("%d: Conflict = %v, want %v", i, got, tt.want)
		}
	}
}

// TestFootprintsCommute checks the promise of Footprint on every pair of
// enabled threads in every reachable state of a few programs: steps that
// do not conflict give the same state in either order, and neither
// disables the other.
func TestFootprintsCommute(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"flaglock", "fifo", "three_and_two", "multiplex", "lost", "rendezvous", "cond_signal"} {
		s, _ := prog(t, name).NewState()
		checked := 0
		seen := map[uint64]bool{}
		var walk func(s *State, depth int)
		walk = func(s *State, depth int) {
			if seen[s.Hash()] || depth > 30 {
				return
			}
			seen[s.Hash()] = true
			en := s.Enabled()
			for i, a := range en {
				for _, b := range en[i+1:] {
					if s.Footprint(a).Conflict(s.Footprint(b)) {
						continue
					}
					ab, fa := stepTwo(t, s, a, b)
					ba, fb := stepTwo(t, s, b, a)
					if fa || fb {
						continue // a check failed on the way: the order is not free
					}
					if ab == nil || ba == nil || !ab.Equal(ba) {
						t.Errorf("%s: %s and %s do not commute from %v", name, s.p.threads[a].name, s.p.threads[b].name, s)
					}
					checked++
				}
			}
			for _, th := range en {
				next := s.Clone()
				if info, _ := next.Step(th); info.Failure == nil {
					walk(next, depth+1)
				}
			}
		}
		walk(s, 0)
		if checked == 0 {
			t.Errorf("%s: no independent pair checked", name)
		}
	}
}

// stepTwo takes a's step then b's from a clone of s; nil when b is not
// enabled after a, failed when a check broke.
func stepTwo(t *testing.T, s *State, a, b int) (*State, bool) {
	c := s.Clone()
	info, err := c.Step(a)
	if err != nil {
		t.Fatal(err)
	}
	if info.Failure != nil {
		return c, true
	}
	if !c.IsEnabled(b) {
		return nil, false
	}
	info, _ = c.Step(b)
	return c, info.Failure != nil
}

func TestInvariantVars(t *testing.T) {
	t.Parallel()
	p := prog(t, "flaglock")
	if got := p.fpString(Footprint{Reads: p.InvariantVars()}); got != "r:var count" {
		t.Errorf("InvariantVars: %s", got)
	}
}
