package statespace

import (
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
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

// randomProgram writes a program of two to four threads, each a few
// operations of every kind a search has to get right: reads and writes
// of shared variables, semaphores, a mutex, a critical region, asserts,
// branches on shared values, an invariant, an expect.
func randomProgram(r *rand.Rand, name string) string {
	ops := []string{
		"atomic_set: x = x + 1",
		"set: y = x + 1",
		"set: x = y",
		"atomic_set: y = y - 1",
		"wait: s",
		"signal: s",
		"assert: x < 3",
		"yield",
		"log: x is ${{ x }}",
		"if: x == 1\n        then: [atomic_set: y = y + 2]",
		"critical: [yield]",
		"lock: m\n      - atomic_set: x = x * 2\n      - unlock: m",
		"local: t = x % 3\n      - atomic_set: y = t",
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  vars: {x: 0, y: 0}\n  semaphores: {s: %d}\n  mutexes: [m]\n  threads:\n", name, r.IntN(2))
	for th := range 2 + r.IntN(3) {
		fmt.Fprintf(&b, "    T%d:\n", th)
		for range 1 + r.IntN(4) {
			fmt.Fprintf(&b, "      - %s\n", ops[r.IntN(len(ops))])
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
	if testing.Short() {
		programs = 40
	}
	for i := range programs {
		name := fmt.Sprintf("random%d", i)
		src := randomProgram(r, name)
		set, err := load([]byte(src))
		if err != nil {
			t.Fatalf("%s:\n%s", err, src)
		}
		p, _ := set.Program(name)
		if _, f := p.NewState(); f != nil {
			continue
		}
		states, kinds, shortest := bruteForce(t, p)
		for _, workers := range []int{1, 3} {
			s := newSearch(t.Context(), p, Options{Workers: workers, Count: true, MaxSteps: 1000, MaxStates: 1 << 20, MaxBytes: 1 << 30})
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
