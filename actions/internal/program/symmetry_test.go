package program

import (
	"fmt"
	"testing"
)

// TestSymmetryGroups: threads are taken for interchangeable when they
// run the same code: counted threads that do not read self, and threads
// whose body is a YAML alias of another's or written out twice the same
// (in other words, or at other places); not counted threads that read
// self, nor bodies that differ.
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
    C:
      - set: x = x+1
    D: [set: x = x + 2]
`
	set, err := LoadText([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"counted": "[[0 1 2]]", "byself": "[]", "alias": "[[0 1 2]]", "twice": "[[0 1 2]]"} {
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

// TestSymmetryRing: the threads of a count: N declaration whose code
// names elements by self make a ring when one rotation maps each one's
// code to the next's, with the arrays they name, and fixes the rest of
// the program (dining philosophers, Tanenbaum's, a token passed round,
// though it starts at thread 0); not when one takes its forks in the
// other order, another thread or a check names one element, or a step
// reads self or a number made of it.
// Over every reachable state, the canonical form is
// canonical itself, and the permutation it gives maps each
// thread's step to one of the same canonical form.
func TestSymmetryRing(t *testing.T) {
	t.Parallel()
	set := loadFile(t, "testdata/symmetry.yaml")
	for name, want := range map[string]bool{
		"dining": true, "ordered": false, "token": true, "watcher": false, "checked": false,
		"readself": false, "byparam": false, "tanenbaum": true, "queues": true,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p, err := set.Program(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.findRing(p.symmetricGroups()) != nil; got != want {
				t.Fatalf("a ring: %v, want %v", got, want)
			}
			if !want {
				if p.Symmetry() != nil {
					t.Error("a symmetry without a ring")
				}
				return
			}
			states, forms := checkCanon(t, p, p.Symmetry())
			if forms*2 > states && name != "token" { // its one run has no two states alike
				t.Errorf("%d canonical forms of %d states", forms, states)
			}
			t.Logf("%d states, %d canonical forms", states, forms)
		})
	}
}

// checkCanon walks every reachable state of p and checks canon on each:
// its form is canonical (canon leaves it as it is), and thread perm[i]'s
// step of the state and thread i's of the form lead to states of one
// canonical form. It returns the states and the canonical forms.
func checkCanon(t *testing.T, p *Program, canon func([]int64, []int)) (states, forms int) {
	t.Helper()
	start, _ := p.NewState()
	seen := map[uint64]bool{start.Hash(): true}
	form := map[uint64]bool{}
	stack := []*State{start}
	perm := make([]int, len(p.Threads()))
	for len(stack) > 0 {
		s := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		c := s.Clone()
		canon(c.Words(), perm)
		form[c.Hash()] = true
		again := c.Clone()
		canon(again.Words(), nil)
		if !again.Equal(c) {
			t.Fatalf("the canonical form of %v is not canonical: %v", c.Words(), again.Words())
		}
		for i := range perm {
			if s.IsEnabled(perm[i]) != c.IsEnabled(i) {
				t.Fatalf("thread %d of %v and %d of its form %v: enabled %v and %v", perm[i], s.Words(), i, c.Words(), s.IsEnabled(perm[i]), c.IsEnabled(i))
			}
			if !c.IsEnabled(i) {
				continue
			}
			a, b := s.Clone(), c.Clone()
			fa, fb := a.Advance(perm[i]), b.Advance(i)
			if (fa == nil) != (fb == nil) || fa != nil && (fa.Verdict != fb.Verdict || fa.Pos != fb.Pos) {
				t.Fatalf("thread %d of %v fails with %v, %d of its form with %v", perm[i], s.Words(), fa, i, fb)
			}
			if fa != nil {
				continue
			}
			if h := a.Hash(); !seen[h] {
				seen[h] = true
				stack = append(stack, a)
			}
			ca := a.Clone()
			canon(ca.Words(), nil)
			canon(b.Words(), nil)
			if !ca.Equal(b) {
				t.Fatalf("thread %d's step of %v and %d's of its form differ:\n%v\n%v", perm[i], s.Words(), i, ca.Words(), b.Words())
			}
		}
	}
	return len(seen), len(form)
}
