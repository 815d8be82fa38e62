package program

import (
	"os"
	"strings"
	"sync"
	"testing"
)

// loadFile loads the programs: mapping of a YAML file in testdata.
func loadFile(t testing.TB, path string) *Set {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	set, err := LoadText(data)
	if err != nil {
		t.Fatalf("%s:\n%v", path, err)
	}
	return set
}

var modelSet = sync.OnceValues(func() (*Set, error) {
	data, err := os.ReadFile("testdata/model.yaml")
	if err != nil {
		return nil, err
	}
	return LoadText(data)
})

// prog returns a program of testdata/model.yaml.
func prog(t testing.TB, name string) *Program {
	t.Helper()
	set, err := modelSet()
	if err != nil {
		t.Fatal(err)
	}
	p, err := set.Program(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// play takes the steps of schedule (thread names separated by spaces) from
// the start and returns the state and what each step did. A step that is
// not possible, or a failure before the last step, fails the test.
func play(t testing.TB, p *Program, schedule string) (*State, []StepInfo) {
	t.Helper()
	s, f := p.NewState()
	if f != nil {
		t.Fatalf("start: %v", f)
	}
	var infos []StepInfo
	names := strings.Fields(schedule)
	for i, name := range names {
		th, err := p.Thread(name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Step(th)
		if err != nil {
			t.Fatalf("step %d of %q: %v (state %v)", i+1, schedule, err, s)
		}
		if info.Failure != nil && i < len(names)-1 {
			t.Fatalf("step %d of %q failed early: %v", i+1, schedule, info.Failure)
		}
		infos = append(infos, info)
	}
	return s, infos
}

// names turns thread indices into their names, separated by spaces.
func names(p *Program, ts []int) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = p.threads[t].name
	}
	return strings.Join(out, " ")
}

// enumerate walks every interleaving from s depth first, calling leaf
// with the final state and failure (nil: pass) of each complete run; a
// run longer than limit steps ends as a leaf with verdict max_steps. It
// returns the number of runs. This brute force is the reference a
// reducing search must agree with.
func enumerate(t testing.TB, s *State, limit int, leaf func(*State, *Failure)) int {
	t.Helper()
	enabled := s.Enabled()
	if len(enabled) == 0 {
		leaf(s, s.End())
		return 1
	}
	if s.Steps() >= limit {
		leaf(s, &Failure{Verdict: MaxSteps})
		return 1
	}
	runs := 0
	for _, th := range enabled {
		next := s.Clone()
		info, err := next.Step(th)
		if err != nil {
			t.Fatal(err)
		}
		if info.Failure != nil {
			leaf(next, info.Failure)
			runs++
			continue
		}
		runs += enumerate(t, next, limit, leaf)
	}
	return runs
}

// explore visits every state reachable from s once (by hash) and takes
// every step from each, calling fail for each step or end that broke a
// check; it returns the number of distinct states. Unlike enumerate it
// stays small when interleavings are many and states few.
func explore(t testing.TB, s *State, fail func(*Failure)) int {
	t.Helper()
	seen := map[uint64]bool{s.Hash(): true}
	stack := []*State{s}
	for len(stack) > 0 {
		cur := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		enabled := cur.Enabled()
		if len(enabled) == 0 {
			if f := cur.End(); f != nil {
				fail(f)
			}
		}
		for _, th := range enabled {
			next := cur.Clone()
			info, err := next.Step(th)
			if err != nil {
				t.Fatal(err)
			}
			if info.Failure != nil {
				fail(info.Failure)
				continue
			}
			if h := next.Hash(); !seen[h] {
				seen[h] = true
				stack = append(stack, next)
			}
		}
	}
	return len(seen)
}
