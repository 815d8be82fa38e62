package native

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// A search finds each kind of failure in a program written for it, and
// passes the fixed version.
func TestSearchFinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prog string
		flags      []string
		args       []string
		opts       Options
		verdict    program.Verdict
		says       string // in the failure, or in the deadlock's explanation
	}{
		{"lost update", "lost", nil, nil, Options{Runs: 40}, program.Assert, "assertion `count == 4' failed"},
		{"abba", "abba", nil, nil, Options{Runs: 40}, program.Deadlock, "cycle: left1 → b → right1 → a → left1"},
		{"cond if", "condif", nil, nil, Options{Runs: 60}, program.Assert, "items > 0"},
		{"swapped waits", "buffer", []string{"-DSWAPPED"}, nil, Options{Runs: 60}, program.Deadlock, "waits on semaphore empty (value 0)"},
		{"buffer", "buffer", nil, nil, Options{Runs: 30, Expect: Expect{Stdout: regexp.MustCompile(`sum 15`)}}, program.Pass, ""},
		{"barrier", "barrier", nil, nil, Options{Runs: 30}, program.Pass, ""},
		{"no barrier", "barrier", []string{"-DNOBARRIER"}, nil, Options{Runs: 40}, program.Assert, "done[i] >= round"},
		{"processes", "procs", nil, nil, Options{Runs: 20}, program.Pass, ""},
		{"processes, no lock", "procs", []string{"-DNOLOCK"}, nil, Options{Runs: 40}, program.Assert, "s->count == 4"},
		{"named semaphore", "procs", []string{"-DNAMED"}, nil, Options{Runs: 20}, program.Pass, ""},
		{"misuse", "misc", nil, []string{"misuse"}, Options{Runs: 1}, program.Misuse, "main unlocks m, which holder1 holds"},
		{"rwlock", "misc", nil, []string{"rwlock"}, Options{Runs: 30}, program.Pass, ""},
		{"trylock", "misc", nil, []string{"trylock"}, Options{Runs: 1}, program.Pass, ""},
		{"timed", "misc", nil, []string{"timed"}, Options{Runs: 1}, program.Pass, ""},
		{"exit status", "misc", nil, []string{"exit"}, Options{Runs: 1}, Exit, "status 3, not 0"},
		{"expected exit", "misc", nil, []string{"exit"}, Options{Runs: 1, Expect: Expect{Exit: 3}}, program.Pass, ""},
		{"output", "misc", nil, []string{"trylock"}, Options{Runs: 1, Expect: Expect{Stdout: regexp.MustCompile(`^nothing`)}}, Output, `no match of "^nothing"`},
		{"spin under pct", "spin", nil, nil, Options{Runs: 20, Scheduler: PCT, MaxSteps: 1000}, program.Pass, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := prepare(t, tc.prog, tc.flags...)
			p.Argv = append(p.Argv, tc.args...)
			tc.opts.Seed = 7
			out, err := p.Search(t.Context(), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if out.Verdict != tc.verdict {
				t.Fatalf("verdict %s (%v), want %s; %d of %d runs failed\n%s", out.Verdict, out.Failure, tc.verdict, out.Failures, out.Runs, table(out))
			}
			if tc.says == "" {
				return
			}
			text := out.Failure.Error()
			if d := out.Failure.Deadlock; d != nil {
				text += "\n" + d.Text
			}
			if !strings.Contains(text, tc.says) {
				t.Errorf("the failure says\n%s\nwant %q", text, tc.says)
			}
		})
	}
}

// table prints a run's rows for a test's log.
func table(o Outcome) string {
	var b strings.Builder
	for _, r := range o.Rows {
		fmt.Fprintf(&b, "%s %s %s\n", o.Threads[r.Thread], r.Pos, r.Op)
	}
	return b.String()
}

// A failure found replays exactly: the same verdict, the same rows, the
// same schedule.
func TestReplay(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{"lost", "abba", "condif"} {
		t.Run(prog, func(t *testing.T) {
			t.Parallel()
			p := prepare(t, prog)
			found, err := p.Search(t.Context(), Options{Runs: 60, Seed: 3})
			if err != nil || found.OK {
				t.Fatalf("search: %v, ok %v", err, found.OK)
			}
			sched, err := schedule.Parse(found.Schedule.String())
			if err != nil {
				t.Fatal(err)
			}
			again, err := p.Replay(t.Context(), sched, 0, Expect{})
			if err != nil {
				t.Fatal(err)
			}
			if again.OK || again.Verdict != found.Verdict || again.Schedule.String() != found.Schedule.String() || table(again) != table(found) {
				t.Errorf("search:\n%s%s\nreplay:\n%s%s", table(found), found.Schedule, table(again), again.Schedule)
			}
		})
	}
}

// The same seed gives the same runs and the same schedule.
func TestDeterminism(t *testing.T) {
	t.Parallel()
	p := prepare(t, "condif")
	var first string
	for i := range 2 {
		out, err := p.Search(t.Context(), Options{Runs: 30, Seed: 11, Scheduler: PCT})
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%s %s %d", out.Schedule, out.Verdict, out.Failures)
		if i == 0 {
			first = got
		} else if got != first {
			t.Errorf("two searches with one seed: %s, then %s", first, got)
		}
	}
}

// A schedule for another binary, or for this one before a rebuild, is
// refused; one that names a thread that cannot go does not fit.
func TestReplayRefuses(t *testing.T) {
	t.Parallel()
	p := prepare(t, "lost")
	rebuilt := prepare(t, "lost", "-O2") // another build of the same source
	found, err := p.Search(t.Context(), Options{Runs: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	_, err = rebuilt.Replay(t.Context(), found.Schedule, 0, Expect{})
	var rb *RebuiltError
	if !errors.As(err, &rb) || !errors.Is(err, schedule.ErrMismatch) || !strings.Contains(err.Error(), "rebuilt since the schedule was made") {
		t.Errorf("a rebuilt binary: %v", err)
	}
	bad := schedule.Schedule{Program: p.Name, Hash: p.Hash, Steps: []int{0, 0, 1, 0, 2, 1, 1, 1, 1, 1}}
	_, err = p.Replay(t.Context(), bad, 0, Expect{})
	var nf *NotFitError
	if !errors.As(err, &nf) {
		t.Fatalf("a schedule that does not fit: %v", err)
	}
	t.Log(err)
}

// Programs pmrun cannot control are refused before they run, with why.
func TestUncontrollable(t *testing.T) {
	t.Parallel()
	static := compile(t, "lost", "-static")
	_, err := Prepare(t.Context(), Config{Argv: []string{static}})
	if !errors.Is(err, ErrUncontrollable) || !strings.Contains(err.Error(), "statically linked") {
		t.Errorf("a static binary: %v", err)
	}
}

// A program that never calls the library (here a script whose
// interpreter is a static binary) fails the handshake, whether it ends
// or goes on.
func TestNoHandshake(t *testing.T) {
	t.Parallel()
	static := compile(t, "lost", "-static")
	p := prepare(t, "lost")
	p.Argv = []string{static}
	_, err := p.Search(t.Context(), Options{Runs: 1})
	if !errors.Is(err, ErrNoHandshake) || !strings.Contains(err.Error(), "without calling pmrun's library") {
		t.Errorf("a program that ends without the library: %v", err)
	}
	p.Argv = []string{"/bin/sleep", "30"}
	p.Env = map[string]string{"LD_PRELOAD": "", "PMRUN_TEST": "1"}
	p.Handshake = 300 * time.Millisecond
	p.Library = "/nonexistent/libpmrun.so"
	_, err = p.Search(t.Context(), Options{Runs: 1})
	if !errors.Is(err, ErrNoHandshake) || !strings.Contains(err.Error(), "did not call pmrun's library within") {
		t.Errorf("a program that goes on without the library: %v", err)
	}
}

// A thread blocked in a call pmrun does not control is let run, and the
// result says so.
func TestBlockedOutside(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ prog, call string }{{"blocked", "read()"}, {"rawfutex", "futex()"}} {
		t.Run(tc.prog, func(t *testing.T) {
			t.Parallel()
			p := prepare(t, tc.prog)
			noted := false
			for seed := range uint64(10) {
				out, err := p.Search(t.Context(), Options{Runs: 1, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				if out.Verdict != program.Pass {
					t.Fatalf("seed %d: %v", seed, out.Failure)
				}
				for _, n := range out.Notes {
					if strings.Contains(n, "blocked in "+tc.call+", a call pmrun does not control") {
						noted = true
					}
				}
			}
			if !noted {
				t.Errorf("no run noted a thread blocked in %s", tc.call)
			}
		})
	}
}
