package statespace

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
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
// YAML alias), of random operations.
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
	if k := r.IntN(3); k > 0 {
		b.WriteString("    T: &t\n")
		for range 1 + r.IntN(3) {
			fmt.Fprintf(&b, "      - %s\n", op(false))
		}
		if k == 2 { // a thread of its own with the same body
			b.WriteString("    U: *t\n")
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
// one (W0, W1 → W; U → T), as a symmetry reduction sees them.
func sameKinds(kinds map[Kind]int64) map[Kind]bool {
	out := map[Kind]bool{}
	for k := range kinds {
		k.Thread = strings.TrimRight(k.Thread, "0123456789")
		if k.Thread == "U" {
			k.Thread = "T"
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
		set, err := program.LoadText([]byte(src))
		if err != nil {
			t.Fatalf("%s:\n%s", err, src)
		}
		p, _ := set.Program(name)
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
		if sym.States < plain.States {
			reduced++
		}
		pk, sk := sameKinds(plain.Kinds), sameKinds(sym.Kinds)
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
	}
	if reduced < programs/4 {
		t.Errorf("symmetry reduced only %d programs of %d", reduced, programs)
	}
}
