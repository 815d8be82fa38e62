package statespace

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// bruteForce explores every state of p breadth-first, every step of
// every state, with nothing but a map of hashes: the states it reaches
// without a failure, the failures (kinds) of every step and final state,
// and the fewest steps to any failure (-1: none).
func bruteForce(t testing.TB, p *program.Program) (map[uint64]bool, map[Kind]bool, int) {
	t.Helper()
	s0, f := p.NewState()
	if f != nil {
		t.Fatalf("%s fails at the start: %v", p.Name(), f)
	}
	states := map[uint64]bool{fingerprintOf(s0.Words()): true}
	kinds := map[Kind]bool{}
	shortest := -1
	level := []*program.State{s0}
	for depth := 0; len(level) > 0; depth++ {
		var next []*program.State
		for _, s := range level {
			enabled := s.Enabled()
			if len(enabled) == 0 {
				if f := s.End(); f != nil {
					kinds[kindOf(f)] = true
					if shortest < 0 {
						shortest = depth
					}
				}
				continue
			}
			for _, th := range enabled {
				n := s.Clone()
				info, err := n.Step(th)
				if err != nil {
					t.Fatal(err)
				}
				if info.Failure != nil {
					kinds[kindOf(info.Failure)] = true
					if shortest < 0 || shortest > depth+1 {
						shortest = depth + 1
					}
					continue
				}
				if h := fingerprintOf(n.Words()); !states[h] {
					states[h] = true
					next = append(next, n)
				}
			}
		}
		level = next
	}
	return states, kinds, shortest
}

// countAll counts every maximal path of p recursively over its states (a
// program without loops has no cycle), remembering each state's count.
func countAll(t testing.TB, p *program.Program) *big.Int {
	s, _ := p.NewState()
	memo := map[uint64]*big.Int{}
	var walk func(s *program.State) *big.Int
	walk = func(s *program.State) *big.Int {
		h := s.Hash()
		if n, ok := memo[h]; ok {
			return n
		}
		enabled := s.Enabled()
		n := new(big.Int)
		if len(enabled) == 0 {
			n.SetInt64(1)
		}
		for _, th := range enabled {
			c := s.Clone()
			info, err := c.Step(th)
			if err != nil {
				t.Fatal(err)
			}
			if info.Failure != nil {
				n.Add(n, big.NewInt(1))
				continue
			}
			n.Add(n, walk(c))
		}
		memo[h] = n
		return n
	}
	return walk(s)
}

// randomOps are the operations of random programs, each as a program's
// operation and in Promela (the same steps: a set whose expression reads
// a shared variable is a read into tmp, then the write, which clears
// tmp as the model does).
var randomOps = []struct{ yaml, promela string }{
	{"atomic_set: x = x + 1", "x = x + 1"},
	{"set: y = x + 1", "tmp = x + 1; atomic { y = tmp; tmp = 0 }"},
	{"set: x = y", "tmp = y; atomic { x = tmp; tmp = 0 }"},
	{"atomic_set: y = y - 1", "y = y - 1"},
	{"wait: s", "atomic { s > 0 -> s-- }"},
	{"signal: s", "s++"},
	{"assert: x < 3", "assert(x < 3)"},
	{"yield", "skip"},
	{"log: x is ${{ x }}", "skip"},
	{"if: x == 1\n        then: [atomic_set: y = y + 2]", "if :: x == 1 -> y = y + 2 :: else -> skip fi"},
	{"critical: [yield]", "atomic { assert(inside == 0); inside++ }; skip; inside--"},
	{"lock: m\n      - atomic_set: x = x * 2\n      - unlock: m", "atomic { m == 0 -> m = 1 }; x = x * 2; m = 0"},
	{"local: t = x % 3\n      - atomic_set: y = t", "t = x % 3; y = t"},
}

// randomProgram writes a program of two to four threads, each a few
// operations of every kind a search has to get right: reads and writes
// of shared variables, semaphores, a mutex, a critical region, asserts,
// branches on shared values, an invariant, an expect; and the same in
// Promela, for SPIN.
func randomProgram(r *rand.Rand, name string) (yaml, promela string) {
	var b, pm strings.Builder
	sem := r.IntN(2)
	fmt.Fprintf(&b, "%s:\n  vars: {x: 0, y: 0}\n  semaphores: {s: %d}\n  mutexes: [m]\n  threads:\n", name, sem)
	fmt.Fprintf(&pm, "/* %s */\nint x = 0;\nint y = 0;\nbyte s = %d;\nbit m = 0;\nbyte inside = 0;\nbyte ended = 0;\n", name, sem)
	threads := 2 + r.IntN(3)
	for th := range threads {
		fmt.Fprintf(&b, "    T%d:\n", th)
		fmt.Fprintf(&pm, "active proctype T%d() {\n  int tmp = 0;\n  int t = 0;\n", th)
		for range 1 + r.IntN(4) {
			op := randomOps[r.IntN(len(randomOps))]
			fmt.Fprintf(&b, "      - %s\n", op.yaml)
			fmt.Fprintf(&pm, "  %s;\n", op.promela)
		}
		pm.WriteString("  ended++\n}\n")
	}
	if r.IntN(2) == 0 {
		b.WriteString("  invariants: [x + y < 4]\n")
		pm.WriteString("active proctype Invariant() { end: atomic { !(x + y < 4) -> assert(false) } }\n")
	}
	if r.IntN(2) == 0 {
		b.WriteString("  expect: x != 2\n")
		fmt.Fprintf(&pm, "active proctype Expect() { ended == %d; assert(x != 2) }\n", threads)
	}
	return b.String(), pm.String()
}

// TestSearchIsSound compares the search against a brute-force walk of
// every state on random programs, with one worker and with several: it
// visits every state that can be reached without a failure and no other,
// finds every failure (what, where and by whom) that any step can make
// and no other, shows a failure with the fewest steps there are (and the
// failure its steps make), and counts the interleavings a count of every
// path finds.
func TestSearchIsSound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(16, 2010))
	programs := 200
	if testing.Short() || raceOn {
		programs = 40
	}
	for i := range programs {
		name := fmt.Sprintf("random%d", i)
		src, _ := randomProgram(r, name)
		p := programtest.One(t, src, name)
		if _, f := p.NewState(); f != nil {
			continue
		}
		states, kinds, shortest := bruteForce(t, p)
		for _, workers := range []int{1, 3} {
			s := newTestSearch(t, p, Options{Workers: workers, Count: true, MaxSteps: 1000, MaxStates: 1 << 20, MaxBytes: 1 << 30})
			res := s.run()
			if !res.Complete {
				t.Fatalf("%s: not complete (%s)\n%s", name, res.Stop, src)
			}
			visited := s.visited()
			if len(visited) != len(states) || res.States != int64(len(states)) {
				t.Errorf("%s: %d states visited (%d in the table), %d reachable\n%s", name, res.States, len(visited), len(states), src)
			}
			for h := range visited {
				if !states[h] {
					t.Errorf("%s: visited a state brute force does not reach\n%s", name, src)
					break
				}
			}
			for k := range kinds {
				if res.Kinds[k] == 0 {
					t.Errorf("%s: missed failure %s\n%s", name, k, src)
				}
			}
			for k := range res.Kinds {
				if !kinds[k] {
					t.Errorf("%s: found failure %s that brute force does not\n%s", name, k, src)
				}
			}
			switch {
			case shortest < 0 && res.Failure != nil:
				t.Errorf("%s: shows %v, brute force finds no failure\n%s", name, res.Failure.Failure, src)
			case shortest >= 0 && res.Failure == nil:
				t.Errorf("%s: shows no failure\n%s", name, src)
			case shortest >= 0:
				if len(res.Failure.Steps) != shortest {
					t.Errorf("%s: shows a failure in %d steps, the fewest are %d\n%s", name, len(res.Failure.Steps), shortest, src)
				}
				if _, f := replay(t, p, res.Failure.Steps); f == nil || kindOf(f) != kindOf(res.Failure.Failure) {
					t.Errorf("%s: the steps shown end in %v, not %v\n%s", name, f, res.Failure.Failure, src)
				}
			}
			if want := countAll(t, p); res.Interleavings == nil || res.Interleavings.Cmp(want) != 0 {
				t.Errorf("%s: %v interleavings, brute force counts %v\n%s", name, res.Interleavings, want, src)
			}
		}
	}
}
