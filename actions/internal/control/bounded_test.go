package control

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// TestBoundedFindsWhatRandomMisses: a lost update that needs one
// preemption, after a hundred steps of one thread and before a hundred of
// the other. Bounded finds it among the runs with one preemption; random,
// with as many runs, never has the two updates meet.
func TestBoundedFindsWhatRandomMisses(t *testing.T) {
	t.Parallel()
	out := mustSearch(t, "late_lost", Options{Scheduler: Bounded, Preemptions: 2, Shrink: true})
	if out.Verdict != program.Expect || out.Bound != 1 {
		t.Fatalf("bounded: verdict %s, bound %d; want expect, 1\n%s", out.Verdict, out.Bound, format(out))
	}
	if out.Complete {
		t.Errorf("complete after stopping at the round that found the failure (note %q)", out.Note)
	}
	rnd := mustSearch(t, "late_lost", Options{Scheduler: Random, Runs: out.Runs, Seed: 1, Shrink: true})
	if rnd.Failures != 0 {
		t.Errorf("random found the late lost update in %d of %d runs: the test's program no longer needs bounded", rnd.Failures, rnd.Runs)
	}
	sc, err := schedule.Parse(out.ScheduleText)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Replay(t.Context(), prog(t, "late_lost"), sc, Options{})
	if err != nil || again.Verdict != program.Expect {
		t.Errorf("the schedule %s replays with verdict %s (%v)", out.ScheduleText, again.Verdict, err)
	}
}

// TestBoundedVerdicts: what bounded says of the classic programs.
func TestBoundedVerdicts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program     string
		preemptions int
		verdict     program.Verdict
		bound       int
		complete    bool
	}{
		{"lost", 0, program.Pass, 0, true}, // no lost update without a preemption
		{"lost", 1, program.Expect, 1, true},
		{"lost", 2, program.Expect, 1, false}, // stops after the round that found it
		{"fixed", 2, program.Pass, 2, true},
		{"opposite", 2, program.Deadlock, 1, false},
		{"flaglock", 2, program.MutualExclusion, 2, true},
		{"spin", 1, program.Pass, 1, true},
		// Every run goes round: bounded cannot tell (exhaustive can).
		{"livelock", 2, program.Incomplete, 2, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/%d", tt.program, tt.preemptions), func(t *testing.T) {
			t.Parallel()
			out := mustSearch(t, tt.program, Options{Scheduler: Bounded, Preemptions: tt.preemptions, Shrink: true, MaxSteps: 500})
			if out.Verdict != tt.verdict || out.Bound != tt.bound || out.Complete != tt.complete {
				t.Fatalf("verdict %s, bound %d, complete %v; want %s, %d, %v (note %q)\n%s", out.Verdict, out.Bound, out.Complete,
					tt.verdict, tt.bound, tt.complete, out.Note, format(out))
			}
			if !out.Complete && out.Note == "" {
				t.Error("not complete, and no note says why")
			}
		})
	}
}

// TestBoundedRunsLimit: a search stopped by its runs limit before it made
// every run of its bound is incomplete, and says how far it got.
func TestBoundedRunsLimit(t *testing.T) {
	t.Parallel()
	out := mustSearch(t, "barrier", Options{Scheduler: Bounded, Preemptions: 2, Runs: 50})
	if out.Verdict != program.Incomplete || out.Complete || out.Runs != 50 {
		t.Fatalf("verdict %s, complete %v, runs %d; want incomplete after 50 runs", out.Verdict, out.Complete, out.Runs)
	}
	if out.Bound >= 2 || out.Note == "" {
		t.Errorf("bound %d, note %q", out.Bound, out.Note)
	}
}

// TestBoundedMakesEveryRunOnce compares bounded with a walk of every run
// of random programs, counting each run's preemptions: the search must
// make each run with at most the bound once — or, when some run fails,
// every run with at most as many preemptions as the fewest a failing run
// takes, and stop there — and say the bound it reached. Shards make the
// same runs between them, the first round's in each.
func TestBoundedMakesEveryRunOnce(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(23, 2007))
	programs := 60
	if testing.Short() {
		programs = 15
	}
	checked := 0
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
		runs, ok := walkRuns(t, p, 2, 2000)
		if !ok {
			continue // too many runs to make on real threads in a test
		}
		checked++
		for _, bound := range []int{0, 1, 2} {
			want := bound
			if m := runs.fewestFailing; m >= 0 && m < bound {
				want = m
			}
			out, err := Search(t.Context(), p, Options{Scheduler: Bounded, Preemptions: bound, MaxSteps: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if out.Runs != runs.upTo(want) || out.Failures != runs.failingUpTo(want) || out.Bound != want {
				t.Fatalf("%s, bound %d: %d runs, %d failing, bound %d; every run counted: %d, %d failing, bound %d\n%s",
					name, bound, out.Runs, out.Failures, out.Bound, runs.upTo(want), runs.failingUpTo(want), want, src)
			}
			if bound != 1 {
				continue
			}
			total := 0
			for i := range 3 {
				sh, err := Search(t.Context(), p, Options{Scheduler: Bounded, Preemptions: bound, MaxSteps: 1000, Shard: Shard{i, 3}})
				if err != nil {
					t.Fatal(err)
				}
				total += sh.Runs
			}
			if w := out.Runs + 2*runs.upTo(0); total != w {
				t.Errorf("%s: 3 shards make %d runs, want %d (the whole search's and the first round twice more)\n%s", name, total, w, src)
			}
		}
	}
	if checked < programs/2 {
		t.Errorf("only %d of %d random programs were small enough to check", checked, programs)
	}
	t.Logf("%d of %d programs checked", checked, programs)
}

// everyRun is every run of a program by its preemptions.
type everyRun struct {
	all, failing  map[int]int
	fewestFailing int // -1: no run fails
}

func (e everyRun) upTo(b int) int {
	n := 0
	for p, c := range e.all {
		if p <= b {
			n += c
		}
	}
	return n
}

func (e everyRun) failingUpTo(b int) int {
	n := 0
	for p, c := range e.failing {
		if p <= b {
			n += c
		}
	}
	return n
}

// walkRuns walks every run of p (a program without loops) with at most
// bound preemptions on the model, counting each one's preemptions:
// switches away from a thread that could have taken the step. It gives
// up (false) past limit runs.
func walkRuns(t testing.TB, p *program.Program, bound, limit int) (everyRun, bool) {
	e := everyRun{all: map[int]int{}, failing: map[int]int{}, fewestFailing: -1}
	n := 0
	end := func(pre int, failed bool) {
		n++
		e.all[pre]++
		if failed {
			e.failing[pre]++
			if e.fewestFailing < 0 || pre < e.fewestFailing {
				e.fewestFailing = pre
			}
		}
	}
	var walk func(s *program.State, last, pre int)
	walk = func(s *program.State, last, pre int) {
		if pre > bound || n > limit {
			return
		}
		enabled := s.Enabled()
		if len(enabled) == 0 {
			end(pre, s.End() != nil)
			return
		}
		for _, th := range enabled {
			c := s.Clone()
			info, err := c.Step(th)
			if err != nil {
				t.Fatal(err)
			}
			p := pre
			if last >= 0 && th != last && s.IsEnabled(last) {
				p++
			}
			if info.Failure != nil {
				end(p, true)
				continue
			}
			walk(c, th, p)
		}
	}
	s, _ := p.NewState()
	walk(s, -1, 0)
	return e, n <= limit
}
