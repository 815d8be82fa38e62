package program

import (
	"strings"
	"testing"
)

// TestArrays: an array's elements are objects of their own; an index
// that reads self is computed for each alike thread, which then has code
// of its own; a run passes the token round the ring.
func TestArrays(t *testing.T) {
	t.Parallel()
	set := loadFile(t, "testdata/arrays.yaml")
	p, err := set.Program("ring")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(p.Vars(), " "); got != "got[0] got[1] got[2]" {
		t.Errorf("vars %s", got)
	}
	if p.threads[0].code == p.threads[1].code {
		t.Error("the alike threads share code, though their indices read self")
	}
	s, infos := play(t, p, "T0 T0 T0 T1 T1 T1 T2 T2 T2")
	if infos[0].Text != "wait token[0]" || infos[2].Text != "signal token[1]" || infos[8].Text != "signal token[0]" {
		t.Errorf("steps %q %q %q", infos[0].Text, infos[2].Text, infos[8].Text)
	}
	if f := s.End(); f != nil {
		t.Errorf("end: %v", f)
	}
	if v, _ := s.Semaphore("token[0]"); v != 1 {
		t.Errorf("token[0] = %d at the end, want 1", v)
	}
	// Out of order, a thread waits for its token.
	s, _ = p.NewState()
	if got := names(p, s.Enabled()); got != "T0" {
		t.Errorf("enabled at the start: %s", got)
	}
}

// TestProcedures: Tanenbaum's test(i), called for self and each
// neighbour, puts its body in place with the number each call gives, and
// the table is correct in every interleaving; the same lightswitch works
// two rooms; a value argument is computed when the call starts.
func TestProcedures(t *testing.T) {
	t.Parallel()
	set := loadFile(t, "testdata/arrays.yaml")
	tan, _ := set.Program("tanenbaum")
	s, _ := tan.NewState()
	states := explore(t, s, func(f *Failure) { t.Errorf("tanenbaum: %v", f) })
	if states != 54462 {
		t.Errorf("tanenbaum: %d states, want 54462 (as the lab written out by hand)", states)
	}
	sw, _ := set.Program("switches")
	s, infos := play(t, sw, "R R R R R W W W W W")
	want := []string{"wait rmutex", "readers = count + 1 (read)", "readers = count + 1 (write)", "if count == 1", "wait no_writers",
		"wait wmutex", "writers = count + 1 (read)", "writers = count + 1 (write)", "if count == 1", "wait no_readers"}
	for i, w := range want {
		if infos[i].Text != w {
			t.Errorf("step %d: %q, want %q", i+1, infos[i].Text, w)
		}
	}
	if r, _ := s.Semaphore("no_readers"); r != 0 {
		t.Errorf("the writers' switch did not lock no_readers: %v", s)
	}
	if w, _ := s.Semaphore("no_writers"); w != 0 {
		t.Errorf("the readers' switch did not lock no_writers: %v", s)
	}
	vals, _ := set.Program("values")
	res, err := vals.Run(Replay(nil), RunOptions{})
	if err != nil || res.Verdict != Pass {
		t.Errorf("values: %v %v", res.Failure, err)
	}
}

// TestDynamicIndex: an index only a run knows reads the whole array, and
// one outside it fails the step with verdict assert, not a panic.
func TestDynamicIndex(t *testing.T) {
	t.Parallel()
	set := loadFile(t, "testdata/arrays.yaml")
	p, _ := set.Program("dynamic")
	s, _ := p.NewState()
	var failure *Failure
	explore(t, s, func(f *Failure) { failure = f })
	if failure == nil || failure.Verdict != Assert || !strings.Contains(failure.Msg, "sum + a[k]: index out of range: 3 (array length is 3)") {
		t.Errorf("failure %v", failure)
	}
	if fp := p.threads[0].code.instrs[2].fp; len(fp.Reads) != 4 {
		t.Errorf("the step reads %v, want the whole array and sum", fp.Reads)
	}
}
