package program

import (
	"fmt"
	"testing"
)

// TestSymmetryGroups: threads are taken for interchangeable when they
// run the same code: counted threads that do not read self, and threads
// whose body is a YAML alias of another's; not counted threads that read
// self, nor bodies written twice.
func TestSymmetryGroups(t *testing.T) {
	t.Parallel()
	src := `
counted: {vars: {x: 0}, threads: {W: {count: 3, body: [set: x = x + 1]}, S: [yield]}}
byself: {vars: {x: 0}, threads: {W: {count: 2, body: [local: i = self, set: x = x + i]}}}
alias: {vars: {x: 0}, threads: {A: &b [set: x = x + 1], B: *b, C: [set: x = x + 1]}}
twice:
  vars: {x: 0}
  threads:
    A: [set: x = x + 1]
    B: [set: x = x + 1]
`
	set, err := LoadText([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"counted": "[[0 1 2]]", "byself": "[]", "alias": "[[0 1]]", "twice": "[]"} {
		p, err := set.Program(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(p.symmetricGroups()); got != want {
			t.Errorf("%s: groups %s, want %s", name, got, want)
		}
		if (p.Symmetry() == nil) != (want == "[]") {
			t.Errorf("%s: Symmetry() nil is %v", name, p.Symmetry() == nil)
		}
	}
}

// TestSymmetryCanon: the states that differ by which of the alike
// threads holds the mutex or waits in a queue have one canonical form,
// and the permutation given leads from the state to it.
func TestSymmetryCanon(t *testing.T) {
	t.Parallel()
	set, err := LoadText([]byte(`
p:
  semaphores: {q: {value: 0, fifo: true}}
  mutexes: [m]
  threads:
    W: {count: 3, body: [lock: m, wait: q, unlock: m]}
    S: [signal: q]
`))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := set.Program("p")
	canon := p.Symmetry()
	forms := map[string]bool{}
	for w := range 3 {
		s, _ := p.NewState()
		for _, th := range []int{w, w} { // lock, then queue on q holding m
			if f := s.Advance(th); f != nil {
				t.Fatal(f)
			}
		}
		orig := s.Clone()
		perm := make([]int, 4)
		canon(s.Words(), perm)
		forms[fmt.Sprint(s.Words())] = true
		// Thread perm[i] of the original is thread i of the canonical:
		// the same step of each leads to states of one canonical form.
		for i, old := range perm {
			if !orig.IsEnabled(old) {
				continue
			}
			a, b := orig.Clone(), s.Clone()
			a.Advance(old)
			b.Advance(i)
			canon(a.Words(), nil)
			canon(b.Words(), nil)
			if !a.Equal(b) {
				t.Errorf("W%d holds m: thread %d's step and canonical %d's differ:\n%v\n%v", w, old, i, a.Words(), b.Words())
			}
		}
	}
	if len(forms) != 1 {
		t.Errorf("%d canonical forms of one state up to symmetry: %v", len(forms), forms)
	}
}
