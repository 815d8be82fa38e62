package control

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// exhaustiveSearch runs the exhaustive search on a crew of its own and returns
// what it found, visited states and failures included.
func exhaustiveSearch(t testing.TB, p *program.Program, opts Options) searchResult {
	t.Helper()
	opts.Scheduler = Exhaustive
	opts, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	th, err := Start(p)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := th.Close(); err != nil {
			t.Error(err)
		}
	}()
	res, err := searchExhaustive(t.Context(), th, p, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// bruteForce explores every state of p breadth-first, every step of every
// state, with no reduction: the states it reaches without a failure, and
// the failures (failureKind) of every step and final state.
func bruteForce(t testing.TB, p *program.Program) (map[uint64]bool, map[string]bool) {
	t.Helper()
	s0, f := p.NewState()
	if f != nil {
		t.Fatalf("%s fails at the start: %v", p.Name(), f)
	}
	states := map[uint64]bool{s0.Hash(): true}
	kinds := map[string]bool{}
	queue := []*program.State{s0}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		enabled := s.Enabled()
		if len(enabled) == 0 {
			if f := s.End(); f != nil {
				kinds[failureKind(f)] = true
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
				continue
			}
			if h := n.Hash(); !states[h] {
				states[h] = true
				queue = append(queue, n)
			}
		}
	}
	return states, kinds
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

// TestReductionIsSound compares the exhaustive search, with its state
// hashing and sleep sets, against a brute-force walk of every state on
// random programs: it must visit every state that can be reached without
// a failure, and find every failure (what, where and by whom) that any
// step can make; its count of interleavings must match a count of every
// path by brute force.
func TestReductionIsSound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(16, 2010))
	programs := 150
	if testing.Short() {
		programs = 30
	}
	reduced := 0
	for i := range programs {
		name := fmt.Sprintf("random%d", i)
		src := randomProgram(r, name)
		var n yaml.Node
		if err := yaml.Unmarshal([]byte(src), &n); err != nil {
			t.Fatal(err)
		}
		set, err := program.Load(&n)
		if err != nil {
			t.Fatalf("%s:\n%s", err, src)
		}
		p, _ := set.Program(name)
		if _, f := p.NewState(); f != nil {
			continue
		}
		states, kinds := bruteForce(t, p)
		res := exhaustiveSearch(t, p, Options{})
		if !res.complete {
			t.Fatalf("%s: not complete\n%s", name, src)
		}
		if len(res.visited) != len(states) {
			t.Errorf("%s: %d states visited, %d reachable\n%s", name, len(res.visited), len(states), src)
		}
		for h := range res.visited {
			if !states[h] {
				t.Errorf("%s: visited a state brute force does not reach\n%s", name, src)
				break
			}
		}
		for k := range kinds {
			if !res.kinds[k] {
				t.Errorf("%s: missed failure %s\n%s", name, k, src)
			}
		}
		for k := range res.kinds {
			if !kinds[k] {
				t.Errorf("%s: found failure %s that brute force does not\n%s", name, k, src)
			}
		}
		if want := countAll(t, p); res.interleavings == nil || res.interleavings.Int64() != want {
			t.Errorf("%s: %v interleavings, brute force counts %d\n%s", name, res.interleavings, want, src)
		}
		if res.trans < countEdges(t, p) {
			reduced++
		}
	}
	if reduced == 0 {
		t.Error("the sleep sets never saved a step")
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

// countEdges counts the steps of every reachable state: what a search
// without sleep sets would take.
func countEdges(t testing.TB, p *program.Program) int {
	s0, _ := p.NewState()
	seen := map[uint64]bool{s0.Hash(): true}
	queue := []*program.State{s0}
	edges := 0
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, th := range s.Enabled() {
			edges++
			c := s.Clone()
			if info, _ := c.Step(th); info.Failure != nil {
				continue
			}
			if h := c.Hash(); !seen[h] {
				seen[h] = true
				queue = append(queue, c)
			}
		}
	}
	return edges
}
