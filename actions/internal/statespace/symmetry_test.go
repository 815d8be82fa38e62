package statespace

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// symOps are randomOps and the operations that name threads in the
// state: FIFO queues, condition queues, a mutex's holder, and self.
var symOps = []string{
	"wait: q", "signal: q",
	"lock: m\n      - cond_wait: {cond: c, mutex: m}\n      - unlock: m",
	"cond_signal: c", "cond_broadcast: c",
}

// symProgram writes a program with a counted thread W (2 or 3 alike
// threads) and maybe a thread T of its own, and maybe U with T's body (a
// YAML alias, or written out again), of random operations.
func symProgram(r *rand.Rand, name string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  vars: {x: 0, y: 0}\n  semaphores: {s: %d, q: {value: %d, fifo: true}}\n  mutexes: [m]\n  conds: [c]\n  threads:\n", name, r.IntN(2), r.IntN(2))
	op := func(self bool) string {
		k := r.IntN(len(randomOps) + len(symOps) + 1)
		switch {
		case k < len(randomOps):
			return randomOps[k].yaml
		case k < len(randomOps)+len(symOps):
			return symOps[k-len(randomOps)]
		case self:
			return "local: t = self\n      - atomic_set: y = t"
		}
		return "yield"
	}
	fmt.Fprintf(&b, "    W:\n      count: %d\n      body:\n", 2+r.IntN(2))
	for range 1 + r.IntN(4) {
		fmt.Fprintf(&b, "      - %s\n", op(true))
	}
	if k := r.IntN(4); k > 0 {
		var body strings.Builder
		for range 1 + r.IntN(3) {
			fmt.Fprintf(&body, "      - %s\n", op(false))
		}
		b.WriteString("    T: &t\n" + body.String())
		switch k {
		case 2: // a thread of its own with the same body
			b.WriteString("    U: *t\n")
		case 3: // the same body written out again, at other lines
			b.WriteString("    U:\n" + body.String())
		}
	}
	if r.IntN(2) == 0 {
		b.WriteString("  invariants: [x + y < 4]\n")
	}
	if r.IntN(2) == 0 {
		b.WriteString("  expect: x != 2\n")
	}
	return b.String()
}

// sameKinds is the kinds of failure with the alike threads' names made
// one (W0, W1 → W; U → T), as a symmetry reduction sees them; when U's
// body is written out again, its lines (from line from on, shift lines
// below T's) are taken for T's.
func sameKinds(kinds map[Kind]int64, shift, from int) map[Kind]bool {
	out := map[Kind]bool{}
	for k := range kinds {
		k.Thread = strings.TrimRight(k.Thread, "0123456789")
		if k.Thread == "U" {
			k.Thread = "T"
			if k.Pos.Line >= from && k.Pos.Line < from+shift-1 { // U: and its body
				k.Pos.Line -= shift
			}
		}
		out[k] = true
	}
	return out
}

// TestSymmetryIsSound compares the search with program.Symmetry's
// canonical form against the search without it on random programs with
// alike threads: the same failures (by what, where and by the threads'
// declaration), the same final values, the failure shown of the same
// fewest steps and a real run that ends in it, a passing run that is a
// real one, and never more states.
func TestSymmetryIsSound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(23, 2026))
	programs := 300
	if testing.Short() || raceOn {
		programs = 60
	}
	reduced := 0
	for i := range programs {
		name := fmt.Sprintf("sym%d", i)
		src := symProgram(r, name)
		p := programtest.One(t, src, name)
		if _, f := p.NewState(); f != nil {
			continue
		}
		canon := p.Symmetry()
		if canon == nil {
			if !strings.Contains(src, "self") {
				t.Errorf("%s: no symmetry found\n%s", name, src)
			}
			continue
		}
		if compareSym(t, p, canon, src, name) {
			reduced++
		}
	}
	if reduced < programs/4 {
		t.Errorf("symmetry reduced only %d programs of %d", reduced, programs)
	}
}

// compareSym searches p (written src) with canon and without, and
// checks that the two searches agree (see TestSymmetryIsSound); it says
// whether canon saved states.
func compareSym(t *testing.T, p *program.Program, canon func([]int64, []int), src, name string) bool {
	t.Helper()
	ends := func(m *sync.Map) func([]int64) {
		return func(w []int64) { m.Store(fmt.Sprint(w[:2]), true) }
	}
	var plainEnds, symEnds sync.Map
	plain := mustSearch(t, p, Options{Workers: 2, MaxSteps: 1000, OnEnd: ends(&plainEnds)})
	sym := mustSearch(t, p, Options{Workers: 2, MaxSteps: 1000, OnEnd: ends(&symEnds), Canon: canon})
	if !plain.Complete || !sym.Complete {
		t.Fatalf("%s: not complete\n%s", name, src)
	}
	if sym.States > plain.States {
		t.Errorf("%s: %d states with symmetry, %d without\n%s", name, sym.States, plain.States, src)
	}
	shift, from := 0, 0
	if u := strings.Index(src, "    U:\n"); u >= 0 {
		shift = strings.Count(src[strings.Index(src, "    T: &t"):u], "\n")
		from = strings.Count(src[:u], "\n") + 2
	}
	pk, sk := sameKinds(plain.Kinds, shift, from), sameKinds(sym.Kinds, shift, from)
	if fmt.Sprint(pk) != fmt.Sprint(sk) {
		t.Errorf("%s: failures %v with symmetry, %v without\n%s", name, sk, pk, src)
	}
	plainEnds.Range(func(k, _ any) bool {
		if _, ok := symEnds.Load(k); !ok {
			t.Errorf("%s: final values %v missed with symmetry\n%s", name, k, src)
		}
		return true
	})
	symEnds.Range(func(k, _ any) bool {
		if _, ok := plainEnds.Load(k); !ok {
			t.Errorf("%s: final values %v found only with symmetry\n%s", name, k, src)
		}
		return true
	})
	switch {
	case (plain.Failure == nil) != (sym.Failure == nil):
		t.Errorf("%s: failure %v with symmetry, %v without\n%s", name, sym.Failure, plain.Failure, src)
	case plain.Failure != nil:
		if len(sym.Failure.Steps) != len(plain.Failure.Steps) {
			t.Errorf("%s: a failure in %d steps with symmetry, %d without\n%s", name, len(sym.Failure.Steps), len(plain.Failure.Steps), src)
		}
		if _, f := replay(t, p, sym.Failure.Steps); f == nil || f.Verdict != sym.Failure.Failure.Verdict || f.Pos != sym.Failure.Failure.Pos {
			t.Errorf("%s: the steps shown %v end in %v, not %v\n%s", name, sym.Failure.Steps, f, sym.Failure.Failure, src)
		}
	}
	if (plain.Final == nil) != (sym.Final == nil) {
		t.Errorf("%s: a passing run %v with symmetry, %v without\n%s", name, sym.Final, plain.Final, src)
	} else if sym.Final != nil {
		st, f := replay(t, p, sym.Final)
		if f != nil || len(st.Enabled()) > 0 || len(sym.Final) != len(plain.Final) {
			t.Errorf("%s: the passing run %v shown is not one (%v)\n%s", name, sym.Final, f, src)
		}
	}
	return sym.States < plain.States
}

// ringOps are operations on the element of an array that a thread of a
// ring names by self (I: self, or a neighbour's index).
var ringOps = []string{
	"atomic_set: \"a[I] = a[I] + 1\"",
	"set: \"x = a[I] + 1\"",
	"atomic_set: \"a[I] = x\"",
	"wait: \"f[I]\"", "signal: \"f[I]\"",
	"wait: \"g[I]\"", "signal: \"g[I]\"",
	"lock: \"fork[I]\"\n      - atomic_set: x = x + 1\n      - unlock: \"fork[I]\"",
	"lock: \"fork[I]\"\n      - cond_wait: {cond: \"cv[I]\", mutex: \"fork[I]\"}\n      - unlock: \"fork[I]\"",
	"cond_signal: \"cv[I]\"",
	"if: a[I] > 0\n        then: [atomic_set: y = y + 1]",
	"assert: a[I] < 2",
	"critical: {region: \"r[I]\", do: [yield]}",
	"lock: \"fork[I]\"\n      - lock: \"fork[J]\"\n      - unlock: \"fork[J]\"\n      - unlock: \"fork[I]\"",
}

// ringProgram writes a program with a ring P of 2 or 3 threads (count:
// N, arrays of N elements indexed by self and by neighbours), random
// operations on shared objects and on elements, and maybe a thread T of
// shared operations. One in four breaks the rotation in one of four
// ways: a philosopher takes its forks lower first, T names element 0,
// array a does not start even (still a ring: see sameDecl), or an
// invariant reads a[0]. Broken says the first, with three
// philosophers: then there is no symmetry (with two, both take fork 0
// first, the same code; with the others, P's threads may run the same
// code still).
func ringProgram(r *rand.Rand, name string) (src string, broken bool) {
	var b strings.Builder
	n := 2 + r.IntN(2)
	asym := r.IntN(4) == 0
	how := r.IntN(4)
	a := fmt.Sprintf("{count: %d, value: %d}", n, r.IntN(2))
	if asym && how == 2 {
		a = "[1" + strings.Repeat(", 0", n-1) + "]"
	}
	fmt.Fprintf(&b, "%s:\n  vars: {x: 0, y: 0, a: %s}\n", name, a)
	fmt.Fprintf(&b, "  semaphores: {s: %d, q: {value: %d, fifo: true}, f: {count: %d, value: %d}, g: {count: %d, value: %d, fifo: true}}\n",
		r.IntN(2), r.IntN(2), n, r.IntN(2), n, r.IntN(2))
	fmt.Fprintf(&b, "  mutexes: [m, {fork: %d}]\n  conds: [c, {cv: %d}]\n  regions: {r: {count: %d, capacity: 1}}\n  threads:\n", n, n, n)
	index := func() string {
		return []string{"self", fmt.Sprintf("(self + 1) %% %d", n), fmt.Sprintf("(self + %d) %% %d", n-1, n)}[r.IntN(3)]
	}
	op := func() string {
		k := r.IntN(len(randomOps) + len(symOps) + len(ringOps))
		switch {
		case k < len(randomOps):
			return randomOps[k].yaml
		case k < len(randomOps)+len(symOps):
			return symOps[k-len(randomOps)]
		}
		return strings.ReplaceAll(strings.ReplaceAll(ringOps[k-len(randomOps)-len(symOps)], "I", index()), "J", index())
	}
	fmt.Fprintf(&b, "    P:\n      count: %d\n      body:\n", n)
	ops := 1 + r.IntN(4)
	ordered := -1
	if asym && how == 0 {
		ordered = r.IntN(ops)
	}
	for i := range ops {
		if i == ordered {
			fmt.Fprintf(&b, "      - lock: \"fork[min(self, (self + 1) %% %d)]\"\n      - lock: \"fork[max(self, (self + 1) %% %d)]\"\n", n, n)
			fmt.Fprintf(&b, "      - unlock: \"fork[max(self, (self + 1) %% %d)]\"\n      - unlock: \"fork[min(self, (self + 1) %% %d)]\"\n", n, n)
			continue
		}
		fmt.Fprintf(&b, "      - %s\n", op())
	}
	if asym && how == 1 || r.IntN(2) == 0 {
		b.WriteString("    T:\n")
		for range 1 + r.IntN(2) {
			fmt.Fprintf(&b, "      - %s\n", randomOps[r.IntN(len(randomOps))].yaml)
		}
		if asym && how == 1 {
			b.WriteString([]string{"      - lock: \"fork[0]\"\n      - unlock: \"fork[0]\"\n", "      - if: a[0] > 0\n        then: [atomic_set: y = y + 1]\n"}[r.IntN(2)])
		}
	}
	switch {
	case asym && how == 3:
		b.WriteString("  invariants: [x + y < 4, \"a[0] < 2\"]\n")
	case r.IntN(2) == 0:
		b.WriteString("  invariants: [x + y < 4]\n")
	}
	if r.IntN(2) == 0 {
		b.WriteString("  expect: x != 2\n")
	}
	return b.String(), asym && how == 0 && n == 3
}

// TestRingSymmetryIsSound: as TestSymmetryIsSound, for rings of threads
// (rotational symmetry) on random programs; and no symmetry is found in
// a program whose rotation is broken.
func TestRingSymmetryIsSound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(23, 2027))
	programs := 300
	if testing.Short() || raceOn {
		programs = 60
	}
	symmetric, rings, reduced := 0, 0, 0
	for i := range programs {
		name := fmt.Sprintf("ring%d", i)
		src, broken := ringProgram(r, name)
		p := programtest.One(t, src, name)
		if _, f := p.NewState(); f != nil {
			continue
		}
		canon := p.Symmetry()
		if canon == nil {
			continue
		}
		if broken {
			t.Errorf("%s: a symmetry found in a program without one\n%s", name, src)
		}
		symmetric++
		if strings.Contains(src, "self") {
			rings++ // P's threads run code of their own
		}
		if compareSym(t, p, canon, src, name) {
			reduced++
		}
	}
	t.Logf("%d programs, %d with a symmetry (%d rings), %d reduced", programs, symmetric, rings, reduced)
	if reduced < programs/4 || rings < programs/4 {
		t.Errorf("symmetry reduced only %d programs of %d (%d rings found)", reduced, programs, rings)
	}
}
