package control

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// bruteForce explores every state of p breadth-first, every step of every
// state, with nothing but a map of hashes: the states it reaches without
// a failure, the failures (failureKind) of every step and final state,
// and the fewest steps of a failing run (-1: none).
func bruteForce(t testing.TB, p *program.Program) (map[uint64]bool, map[string]bool, int) {
	t.Helper()
	s0, f := p.NewState()
	if f != nil {
		t.Fatalf("%s fails at the start: %v", p.Name(), f)
	}
	states := map[uint64]bool{s0.Hash(): true}
	kinds := map[string]bool{}
	shortest := -1
	level := []*program.State{s0}
	for depth := 0; len(level) > 0; depth++ {
		var next []*program.State
		for _, s := range level {
			enabled := s.Enabled()
			if len(enabled) == 0 {
				if f := s.End(); f != nil {
					kinds[failureKind(f)] = true
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
					kinds[failureKind(info.Failure)] = true
					if shortest < 0 || shortest > depth+1 {
						shortest = depth + 1
					}
					continue
				}
				if h := n.Hash(); !states[h] {
					states[h] = true
					next = append(next, n)
				}
			}
		}
		level = next
	}
	return states, kinds, shortest
}

// failureKind names a failure by what, where and by whom.
func failureKind(f *program.Failure) string {
	return fmt.Sprintf("%s %s %s", f.Verdict, f.Pos, f.Thread)
}

// randomProgram writes a program of two or three threads, each a few
// operations drawn from every kind the reduction has to get right:
// reads and writes of shared variables, semaphores, a mutex, a critical
// region, asserts, branches on shared values, an invariant.
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
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  vars: {x: 0, y: 0}\n  semaphores: {s: %d}\n  mutexes: [m]\n  threads:\n", name, r.IntN(2))
	for th := range 2 + r.IntN(2) {
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

// TestExhaustiveIsSound compares the exhaustive strategy (the search of
// the states on the model, then the run shown replayed on the real
// threads) against a brute-force walk of every state on random programs:
// it must visit every state that can be reached without a failure, fail
// exactly when some run fails, show a failure that some step makes with
// the fewest steps there are, and count the interleavings a count of
// every path finds. (Package statespace compares every failure found,
// what, where and by whom, and the states themselves.)
func TestExhaustiveIsSound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(16, 2010))
	programs := 150
	if testing.Short() {
		programs = 30
	}
	for i := range programs {
		name := fmt.Sprintf("random%d", i)
		src := randomProgram(r, name)
		p := programtest.One(t, src, name)
		if _, f := p.NewState(); f != nil {
			continue
		}
		states, kinds, shortest := bruteForce(t, p)
		out, err := Search(t.Context(), p, Options{Scheduler: Exhaustive, Shrink: true})
		if err != nil {
			t.Fatalf("%s: %v\n%s", name, err, src)
		}
		if !out.Complete {
			t.Fatalf("%s: not complete\n%s", name, src)
		}
		if out.States != len(states) {
			t.Errorf("%s: %d states visited, %d reachable\n%s", name, out.States, len(states), src)
		}
		if out.OK != (len(kinds) == 0) {
			t.Errorf("%s: ok %v, brute force finds %v\n%s", name, out.OK, kinds, src)
		}
		if !out.OK && (!kinds[failureKind(out.Failure)] || out.Steps != shortest) {
			t.Errorf("%s: shows %s in %d steps; brute force finds %v, the fewest steps %d\n%s", name, failureKind(out.Failure), out.Steps, kinds, shortest, src)
		}
		if want := countAll(t, p); out.Interleavings == nil || out.Interleavings.Int64() != want {
			t.Errorf("%s: %v interleavings, brute force counts %d\n%s", name, out.Interleavings, want, src)
		}
	}
}

// countAll counts every maximal path of p, recursively over its states
// (a program without loops has no cycle), remembering each state's count.
func countAll(t testing.TB, p *program.Program) int64 {
	s, _ := p.NewState()
	memo := map[uint64]int64{}
	var walk func(s *program.State) int64
	walk = func(s *program.State) int64 {
		h := s.Hash()
		if n, ok := memo[h]; ok {
			return n
		}
		enabled := s.Enabled()
		if len(enabled) == 0 {
			memo[h] = 1
			return 1
		}
		var n int64
		for _, th := range enabled {
			c := s.Clone()
			info, err := c.Step(th)
			if err != nil {
				t.Fatal(err)
			}
			if info.Failure != nil {
				n++
				continue
			}
			n += walk(c)
		}
		memo[h] = n
		return n
	}
	return walk(s)
}
