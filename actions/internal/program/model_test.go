package program

import (
	"strings"
	"testing"
)

// TestStepEffects takes each operation through a schedule and checks what
// it changed and who can step next.
func TestStepEffects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, program, schedule string
		enabled                 string            // the enabled threads after the schedule
		sems                    map[string]int64  // semaphore values after it
		holders                 map[string]string // mutex holders after it ("" free)
		vars                    map[string]any
		blocked                 bool   // the last step left its thread waiting
		woken                   string // the threads the last step released
	}{
		{name: "a semaphore at 0 blocks its waiters", program: "sem", enabled: "S", sems: map[string]int64{"s": 0}},
		{name: "a signal enables every waiter", program: "sem", schedule: "S", enabled: "W0 W1 W2 S", sems: map[string]int64{"s": 1}},
		{name: "any waiter may take the unit", program: "sem", schedule: "S W2", enabled: "S", sems: map[string]int64{"s": 0}},
		{name: "two units, two waiters through", program: "sem", schedule: "S S W1 W0", enabled: "S", sems: map[string]int64{"s": 0}},
		{name: "a FIFO wait is always enabled", program: "fifo", enabled: "W0 W1 W2 S"},
		{name: "a FIFO wait at 0 queues", program: "fifo", schedule: "W2", enabled: "W0 W1 S", blocked: true, sems: map[string]int64{"s": 0}},
		{name: "a FIFO wait above 0 takes", program: "fifo", schedule: "S W1", enabled: "W0 W1 W2 S", sems: map[string]int64{"s": 0}},
		{name: "a FIFO signal hands to the oldest", program: "fifo", schedule: "W2 W0 W1 S", enabled: "W2 S", woken: "W2", sems: map[string]int64{"s": 0}},
		{name: "then to the next oldest", program: "fifo", schedule: "W2 W0 W1 S S", enabled: "W0 W2 S", woken: "W0", sems: map[string]int64{"s": 0}},
		{name: "lock takes a free mutex", program: "mutex", schedule: "A", enabled: "A", holders: map[string]string{"m": "A"}},
		{name: "unlock frees it", program: "mutex", schedule: "A A", enabled: "B", holders: map[string]string{"m": ""}},
		{name: "cond_wait releases and queues", program: "cond", schedule: "W0 W0 W0", enabled: "W1 S", blocked: true, holders: map[string]string{"m": ""}},
		{name: "broadcast wakes all, who need the mutex", program: "cond", schedule: "W0 W0 W0 W1 W1 W1 S S S", enabled: "S", woken: "W0 W1", vars: map[string]any{"ready": true}},
		{name: "unlock lets both reacquire", program: "cond", schedule: "W0 W0 W0 W1 W1 W1 S S S S", enabled: "W0 W1", holders: map[string]string{"m": ""}},
		{name: "reacquire takes the mutex back", program: "cond", schedule: "W0 W0 W0 W1 W1 W1 S S S S W1", enabled: "W1", holders: map[string]string{"m": "W1"}},
		{name: "Mesa: the woken thread tests again", program: "cond", schedule: "W0 W0 W0 W1 W1 W1 S S S S W1 W1", enabled: "W1", holders: map[string]string{"m": "W1"}},
		{name: "cond_signal wakes the oldest only", program: "cond_signal", schedule: "W1 W1 W0 W0 S", enabled: "W1 S", woken: "W1"},
		{name: "a cond_signal nobody waits for is lost", program: "cond_signal", schedule: "S", enabled: "W0 W1 S"},
		{name: "set reads", program: "lost", schedule: "A", enabled: "A B", vars: map[string]any{"count": 0}},
		{name: "then writes", program: "lost", schedule: "A A", enabled: "B", vars: map[string]any{"count": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := prog(t, tt.program)
			s, infos := play(t, p, tt.schedule)
			if got := names(p, s.Enabled()); got != tt.enabled {
				t.Errorf("enabled = %q, want %q (state %v)", got, tt.enabled, s)
			}
			for name, want := range tt.sems {
				if got, _ := s.Semaphore(name); got != want {
					t.Errorf("semaphore %s = %d, want %d", name, got, want)
				}
			}
			for name, want := range tt.holders {
				got := ""
				if h := s.Holder(name); h >= 0 {
					got = p.threads[h].name
				}
				if got != want {
					t.Errorf("holder of %s = %q, want %q", name, got, want)
				}
			}
			final := s.Final()
			for name, want := range tt.vars {
				if final[name] != want {
					t.Errorf("%s = %v, want %v", name, final[name], want)
				}
			}
			if len(infos) > 0 {
				last := infos[len(infos)-1]
				if last.Blocked != tt.blocked {
					t.Errorf("blocked = %v, want %v", last.Blocked, tt.blocked)
				}
				if got := names(p, last.Woken); got != tt.woken {
					t.Errorf("woken = %q, want %q", got, tt.woken)
				}
				if last.Failure != nil {
					t.Errorf("unexpected failure: %v", last.Failure)
				}
			}
		})
	}
}

// TestFailures checks every verdict a step can give, and its message.
func TestFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program, schedule string
		verdict           Verdict
		msg               string
	}{
		{"unlock_free", "A", Misuse, "unlock m by A, which is not locked"},
		{"unlock_other", "A B", Misuse, "unlock m by B, held by A"},
		{"relock", "A A", Misuse, "lock m: A already holds it (a mutex is not recursive)"},
		{"cond_wait_unlocked", "A", Misuse, "cond_wait c without holding m (which is not locked)"},
		{"sem_max", "A", Misuse, "signal s past its max 1 (value 1)"},
		{"exclusion", "A B", MutualExclusion, "B entered critical while A is inside (capacity 1)"},
		{"broken_multiplex", "W0 W1 W2 W3", MutualExclusion, "W3 entered room while W0, W1, W2 are inside (capacity 3)"},
		{"asserts", "A", Assert, "assert x == 2 failed: x = 1"},
		{"divide", "A", Assert, "10 % x: division by zero: x = 0"},
		{"invariant", "A A", Invariant, "invariant x >= 0 does not hold: x = -1"},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			p := prog(t, tt.program)
			_, infos := play(t, p, tt.schedule)
			f := infos[len(infos)-1].Failure
			if f == nil {
				t.Fatalf("no failure, want %s", tt.verdict)
			}
			if f.Verdict != tt.verdict || f.Msg != tt.msg {
				t.Errorf("got %s: %q\nwant %s: %q", f.Verdict, f.Msg, tt.verdict, tt.msg)
			}
		})
	}
}

func TestEndChecks(t *testing.T) {
	t.Parallel()
	t.Run("expect", func(t *testing.T) {
		p := prog(t, "expect")
		res, err := p.Run(Replay(nil), RunOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Expect || res.Failure.Msg != "expect x == 2 failed: x = 1" {
			t.Errorf("got %s: %v", res.Verdict, res.Failure)
		}
	})
	t.Run("a spin reaches the step limit", func(t *testing.T) {
		p := prog(t, "spin")
		res, err := p.Run(Replay(nil), RunOptions{MaxSteps: 50})
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != MaxSteps || res.Steps != 50 {
			t.Errorf("got %s after %d steps, want max_steps after 50", res.Verdict, res.Steps)
		}
	})
	t.Run("a loop of locals alone fails at once", func(t *testing.T) {
		_, f := prog(t, "hidden_loop").NewState()
		if f == nil || f.Verdict != MaxSteps || f.Thread != "A" {
			t.Fatalf("got %v, want max_steps in A", f)
		}
	})
	t.Run("a finished run with expect true passes", func(t *testing.T) {
		s, _ := play(t, prog(t, "lost"), "A A B B")
		if f := s.End(); f != nil {
			t.Errorf("End = %v, want nil", f)
		}
	})
	t.Run("a run with a thread enabled has not ended", func(t *testing.T) {
		s, _ := play(t, prog(t, "lost"), "A")
		if f := s.End(); f != nil {
			t.Errorf("End = %v, want nil", f)
		}
	})
}

// TestLostUpdate is the first lab: count = count + 1 in two threads.
func TestLostUpdate(t *testing.T) {
	t.Parallel()
	p := prog(t, "lost")
	tests := []struct {
		schedule string
		count    int
		verdict  Verdict
	}{
		{"A A B B", 2, Pass},
		{"B B A A", 2, Pass},
		{"A B A B", 1, Expect}, // both read 0
		{"A B B A", 1, Expect},
	}
	for _, tt := range tests {
		s, _ := play(t, p, tt.schedule)
		if got := s.Final()["count"]; got != tt.count {
			t.Errorf("%s: count = %v, want %d", tt.schedule, got, tt.count)
		}
		verdict := Pass
		if f := s.End(); f != nil {
			verdict = f.Verdict
		}
		if verdict != tt.verdict {
			t.Errorf("%s: verdict %s, want %s", tt.schedule, verdict, tt.verdict)
		}
	}
}

// TestVisibleSteps counts the steps of a program that mixes operations
// that are steps with some that are not (see the comments in
// testdata/model.yaml).
func TestVisibleSteps(t *testing.T) {
	t.Parallel()
	res, err := prog(t, "steps").Run(Replay(nil), RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Pass || res.Steps != 20 || res.Final.Final()["x"] != 10 {
		t.Errorf("got %s after %d steps with x = %v, want pass after 20 with x = 10", res.Verdict, res.Steps, res.Final.Final()["x"])
	}
}

// TestInterleavings counts every interleaving of small programs by brute
// force, against counts worked out by hand.
func TestInterleavings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program  string
		runs     int
		verdicts map[Verdict]int
	}{
		{"two_by_two", 6, map[Verdict]int{Pass: 6}},      // 4! / (2! 2!)
		{"three_by_one", 6, map[Verdict]int{Pass: 6}},    // 3!
		{"three_and_two", 10, map[Verdict]int{Pass: 10}}, // 5! / (3! 2!)
		{"lost", 6, map[Verdict]int{Pass: 2, Expect: 4}}, // only the two serial orders count 2
		{"fixed", 2, map[Verdict]int{Pass: 2}},           // the mutex serializes: who locks first
		{"rendezvous", 4, map[Verdict]int{Pass: 4}},      // each signal before the other's wait
		{"rendezvous_wrong", 1, map[Verdict]int{Deadlock: 1}},
		{"opposite", 6, map[Verdict]int{Pass: 4, Deadlock: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			s, f := prog(t, tt.program).NewState()
			if f != nil {
				t.Fatal(f)
			}
			got := map[Verdict]int{}
			runs := enumerate(t, s, 100, func(_ *State, f *Failure) {
				if f == nil {
					got[Pass]++
				} else {
					got[f.Verdict]++
				}
			})
			if runs != tt.runs {
				t.Errorf("%d runs, want %d", runs, tt.runs)
			}
			for v, n := range tt.verdicts {
				if got[v] != n {
					t.Errorf("%s: %d runs, want %d (all: %v)", v, got[v], n, got)
				}
			}
		})
	}
}

// TestMultiplex checks Downey's multiplex in every reachable state: with
// the semaphore nobody breaks the region's capacity; without it someone
// does.
func TestMultiplex(t *testing.T) {
	t.Parallel()
	for program, wantFailure := range map[string]bool{"multiplex": false, "broken_multiplex": true} {
		s, _ := prog(t, program).NewState()
		failed := 0
		explore(t, s, func(f *Failure) {
			if f.Verdict != MutualExclusion {
				t.Errorf("%s: %v", program, f)
			}
			failed++
		})
		if (failed > 0) != wantFailure {
			t.Errorf("%s: %d failing steps", program, failed)
		}
	}
}

func TestFlagLock(t *testing.T) {
	t.Parallel()
	p := prog(t, "flaglock")
	// Both test the flag before either sets it.
	_, infos := play(t, p, "A B A B A B")
	f := infos[len(infos)-1].Failure
	if f == nil || f.Verdict != MutualExclusion || f.Thread != "B" {
		t.Fatalf("got %v, want B breaking mutual exclusion", f)
	}
	res, err := p.Run(Replay(nil), RunOptions{})
	if err != nil || res.Verdict != Pass {
		t.Fatalf("serial run: %v %v", res.Failure, err)
	}
}

func TestStepErrors(t *testing.T) {
	t.Parallel()
	p := prog(t, "mutex")
	s, _ := play(t, p, "A")
	before := s.Hash()
	if _, err := s.Step(1); err == nil || !strings.Contains(err.Error(), "thread B cannot take a step now") {
		t.Errorf("stepping a blocked thread: %v", err)
	}
	if _, err := s.Step(7); err == nil {
		t.Error("stepping thread 7 of 2: no error")
	}
	if s.Hash() != before {
		t.Error("a refused step changed the state")
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program, schedule, thread string
		want                      string
	}{
		{"cond", "W0 W0 W0", "W0", "blocked on condition c"},
		{"cond", "W0 W0 W0", "W1", "runs"},
		{"cond", "W0 W0 W0 W1 W1 W1 S S S", "W0", "blocked on mutex m"},
		{"sem", "", "W1", "blocked on semaphore s"},
		{"mutex", "A", "B", "blocked on mutex m"},
		{"exclusion", "A", "A", "runs in critical"},
		{"multiplex", "W0 W0", "W0", "runs in room"},
		{"mutex", "A A", "A", "finished"},
	}
	for _, tt := range tests {
		p := prog(t, tt.program)
		s, _ := play(t, p, tt.schedule)
		th, _ := p.Thread(tt.thread)
		st := s.Status(th)
		got := "runs"
		switch {
		case st.Finished:
			got = "finished"
		case st.Blocked:
			got = "blocked on " + st.Waiting
		}
		if len(st.Regions) > 0 {
			got += " in " + strings.Join(st.Regions, ",")
		}
		if got != tt.want {
			t.Errorf("%s after %q: %s %s, want %s", tt.program, tt.schedule, tt.thread, got, tt.want)
		}
	}
}

// TestRuleSaysTheVerdictOnce: the failure at the foot of a table, and as
// an error, names its verdict once, though a deadlock's, an assert's, an
// expect's and an invariant's messages begin with it.
func TestRuleSaysTheVerdictOnce(t *testing.T) {
	t.Parallel()
	tests := []struct{ program, schedule, rule string }{
		{"asserts", "A", "assert x == 2 failed: x = 1"},
		{"invariant", "A A", "invariant x >= 0 does not hold: x = -1"},
		{"exclusion", "A B", "mutual_exclusion: B entered critical while A is inside (capacity 1)"},
	}
	for _, tt := range tests {
		p := prog(t, tt.program)
		res, err := p.Run(Replay(mustThreads(t, p, tt.schedule)), RunOptions{Record: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Failure.Error(); !strings.HasSuffix(got, ": "+tt.rule) {
			t.Errorf("%s: rule %q, want %q", tt.program, got, tt.rule)
		}
		if il := res.Interleaving.Format(); !strings.HasSuffix(il, "\n"+tt.rule+"\n") {
			t.Errorf("%s: the table does not end with %q:\n%s", tt.program, tt.rule, il)
		}
	}
	p := prog(t, "expect")
	res, err := p.Run(Replay(nil), RunOptions{Record: true})
	if err != nil {
		t.Fatal(err)
	}
	if il := res.Interleaving.Format(); strings.Contains(il, "expect: expect") {
		t.Errorf("expect said twice:\n%s", il)
	}
	d := &Failure{Verdict: Deadlock, Msg: "deadlock: 2 of 2 threads blocked\nA waits for m", Pos: Pos{Line: 3, Col: 1}}
	if got := d.Error(); got != "3:1: deadlock: 2 of 2 threads blocked\nA waits for m" {
		t.Errorf("deadlock error %q", got)
	}
}

// mustThreads turns thread names separated by spaces into indices.
func mustThreads(t *testing.T, p *Program, names string) []int {
	t.Helper()
	var out []int
	for _, name := range strings.Fields(names) {
		th, err := p.Thread(name)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, th)
	}
	return out
}
