package native

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// control's strategies find each kind of failure in a program written for
// it, and pass the fixed version.
func TestSearchFinds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prog string
		flags      []string
		args       []string
		ex         Expect
		opts       control.Options
		verdict    program.Verdict
		says       string // in the failure, or in the deadlock's explanation
	}{
		{"lost update", "lost", nil, nil, Expect{}, control.Options{Runs: 40}, program.Assert, "assertion `count == 4' failed"},
		{"abba", "abba", nil, nil, Expect{}, control.Options{Runs: 40}, program.Deadlock, "cycle: left1 → b → right1 → a → left1"},
		{"cond if", "condif", nil, nil, Expect{}, control.Options{Runs: 60}, program.Assert, "items > 0"},
		{"swapped waits", "buffer", []string{"-DSWAPPED"}, nil, Expect{}, control.Options{Runs: 60}, program.Deadlock, "waits on semaphore empty (value 0)"},
		{"buffer", "buffer", nil, nil, Expect{Stdout: regexp.MustCompile(`sum 15`)}, control.Options{Runs: 30}, program.Pass, ""},
		{"barrier", "barrier", nil, nil, Expect{}, control.Options{Runs: 30}, program.Pass, ""},
		{"no barrier", "barrier", []string{"-DNOBARRIER"}, nil, Expect{}, control.Options{Runs: 40}, program.Assert, "done[i] >= round"},
		{"processes", "procs", nil, nil, Expect{}, control.Options{Runs: 20}, program.Pass, ""},
		{"processes, no lock", "procs", []string{"-DNOLOCK"}, nil, Expect{}, control.Options{Runs: 40}, program.Assert, "s->count == 4"},
		{"named semaphore", "procs", []string{"-DNAMED"}, nil, Expect{}, control.Options{Runs: 20}, program.Pass, ""},
		{"misuse", "misc", nil, []string{"misuse"}, Expect{}, control.Options{Runs: 1}, program.Misuse, "main unlocks m, which holder1 holds"},
		{"rwlock", "misc", nil, []string{"rwlock"}, Expect{}, control.Options{Runs: 30}, program.Pass, ""},
		{"trylock", "misc", nil, []string{"trylock"}, Expect{}, control.Options{Runs: 1}, program.Pass, ""},
		{"timed", "misc", nil, []string{"timed"}, Expect{}, control.Options{Runs: 1}, program.Pass, ""},
		{"exit status", "misc", nil, []string{"exit"}, Expect{}, control.Options{Runs: 1}, Exit, "status 3, not 0"},
		{"expected exit", "misc", nil, []string{"exit"}, Expect{Exit: 3}, control.Options{Runs: 1}, program.Pass, ""},
		{"output", "misc", nil, []string{"trylock"}, Expect{Stdout: regexp.MustCompile(`^nothing`)}, control.Options{Runs: 1}, Output, `no match of "^nothing"`},
		{"spin under pct", "spin", nil, nil, Expect{}, control.Options{Runs: 20, Scheduler: control.PCT, MaxSteps: 1000}, program.Pass, ""},
		{"lost update under pct", "lost", nil, nil, Expect{}, control.Options{Runs: 40, Scheduler: control.PCT}, program.Assert, "count == 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := prepare(t, tc.prog, tc.flags...)
			p.Argv = append(p.Argv, tc.args...)
			tc.opts.Seed = 7
			out, err := search(t, p, tc.ex, tc.opts)
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

// A failure found replays exactly: the same verdict, the same rows, the
// same schedule.
func TestReplay(t *testing.T) {
	t.Parallel()
	for _, prog := range []string{"lost", "abba", "condif"} {
		t.Run(prog, func(t *testing.T) {
			t.Parallel()
			p := prepare(t, prog)
			found, err := search(t, p, Expect{}, control.Options{Runs: 60, Seed: 3})
			if err != nil || found.OK {
				t.Fatalf("search: %v, ok %v", err, found.OK)
			}
			sched, err := schedule.Parse(found.ScheduleText)
			if err != nil {
				t.Fatal(err)
			}
			again, err := search(t, p, Expect{}, control.Options{Replay: &sched})
			if err != nil {
				t.Fatal(err)
			}
			if again.OK || again.Verdict != found.Verdict || again.ScheduleText != found.ScheduleText || table(again) != table(found) {
				t.Errorf("search:\n%s%s\nreplay:\n%s%s", table(found), found.ScheduleText, table(again), again.ScheduleText)
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
		out, err := search(t, p, Expect{}, control.Options{Runs: 30, Seed: 11, Scheduler: control.PCT})
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%s %s %d", out.ScheduleText, out.Verdict, out.Failures)
		if i == 0 {
			first = got
		} else if got != first {
			t.Errorf("two searches with one seed: %s, then %s", first, got)
		}
	}
}

// A schedule for this binary before a rebuild is refused; one that names a
// thread that cannot go does not fit.
func TestReplayRefuses(t *testing.T) {
	t.Parallel()
	p := prepare(t, "lost")
	rebuilt := prepare(t, "lost", "-O2") // another build of the same source
	found, err := search(t, p, Expect{}, control.Options{Runs: 40, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	err = rebuilt.CheckSchedule(found.Schedule)
	var rb *RebuiltError
	if !errors.As(err, &rb) || !errors.Is(err, schedule.ErrMismatch) || !strings.Contains(err.Error(), "rebuilt since the schedule was made") {
		t.Errorf("a rebuilt binary: %v", err)
	}
	if _, err := search(t, rebuilt, Expect{}, control.Options{Replay: &found.Schedule}); !errors.Is(err, schedule.ErrMismatch) {
		t.Errorf("control's replay of a rebuilt binary's schedule: %v", err)
	}
	bad := schedule.Schedule{Program: p.Name, Hash: p.Hash, Steps: []int{0, 0, 1, 0, 2, 1, 1, 1, 1, 1}}
	_, err = search(t, p, Expect{}, control.Options{Replay: &bad})
	var nf *control.NotFitError
	if !errors.As(err, &nf) {
		t.Fatalf("a schedule that does not fit: %v", err)
	}
	t.Log(err)
}

// Programs pmrun cannot control are refused before they run, with why.
func TestUncontrollable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, flags, says string }{
		{"static", "-static", "a statically linked program"},
		{"go", "-DLOOKS_LIKE=runtime.main", "a Go program"},
		{"rust", "-DLOOKS_LIKE=rust_begin_unwind", "a Rust program"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			bin := compile(t, "lost", tc.flags)
			_, err := Prepare(t.Context(), Config{Argv: []string{bin}})
			if !errors.Is(err, ErrUncontrollable) || !strings.Contains(err.Error(), tc.says) {
				t.Errorf("%s: %v", tc.name, err)
			}
		})
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
	_, err := search(t, p, Expect{}, control.Options{Runs: 1})
	if !errors.Is(err, ErrNoHandshake) || !strings.Contains(err.Error(), "without calling pmrun's library") {
		t.Errorf("a program that ends without the library: %v", err)
	}
	p.Argv = []string{"/bin/sleep", "30"}
	p.Handshake = 300 * time.Millisecond
	p.Library = "/nonexistent/libpmrun.so"
	_, err = search(t, p, Expect{}, control.Options{Runs: 1})
	if !errors.Is(err, ErrNoHandshake) || !strings.Contains(err.Error(), "did not call pmrun's library within") {
		t.Errorf("a program that goes on without the library: %v", err)
	}
}

// A thread blocked in a call pmrun does not control is let run, and the
// result says so.
func TestBlockedOutside(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, prog string
		flags      []string
		call       string // a regular expression
	}{
		{"read", "blocked", nil, `read\(\)`},
		{"poll", "blocked", []string{"-DPOLL"}, `p?poll\(\)`},
		{"raw futex", "rawfutex", nil, `futex\(\)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := prepare(t, tc.prog, tc.flags...)
			says := regexp.MustCompile(`blocked in ` + tc.call + `, a call pmrun does not control`)
			noted := false
			for seed := range uint64(10) {
				out, err := search(t, p, Expect{}, control.Options{Runs: 1, Seed: seed})
				if err != nil {
					t.Fatal(err)
				}
				if out.Verdict != program.Pass {
					t.Fatalf("seed %d: %v", seed, out.Failure)
				}
				for _, n := range out.notes {
					if says.MatchString(n) {
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

// pmrun.h's point is inlined even unoptimized, so a point's row names the
// line that calls it, not pmrun.h's.
func TestPointLineUnoptimized(t *testing.T) {
	t.Parallel()
	p := prepare(t, "lost", "-O0")
	out, err := search(t, p, Expect{}, control.Options{Runs: 1, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if text := table(out); !strings.Contains(text, "26: point read") || strings.Contains(text, "pmrun.h") {
		t.Errorf("the points' lines:\n%s", text)
	}
}

// A race on plain memory that no pmrun_point marks is not searched: the
// lost update without its point passes every run. (The README says so,
// and points to pmrun.h and ThreadSanitizer.)
func TestRaceWithoutPointNotSearched(t *testing.T) {
	t.Parallel()
	p := prepare(t, "lost", "-DNOPOINT")
	out, err := search(t, p, Expect{}, control.Options{Runs: 30, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if !out.OK {
		t.Errorf("without a point the race was found: %v", out.Failure)
	}
	if n := p.PassNote(); !strings.Contains(n, "a race on plain memory between two of them is outside pmrun's control") || !strings.Contains(n, "ThreadSanitizer") {
		t.Errorf("a program without points: note %q", n)
	}
	if n := prepare(t, "lost").PassNote(); n != "" {
		t.Errorf("a program with points: note %q", n)
	}
}

// The table gives each call its source file and line where the binary
// has debug information (DWARF, from -g), and none without it.
func TestLinesFromDWARF(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		flag  string
		lines bool
	}{{"-g", true}, {"-g0", false}} {
		t.Run(tc.flag, func(t *testing.T) {
			t.Parallel()
			out, err := search(t, prepare(t, "abba", tc.flag), Expect{}, control.Options{Runs: 1, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if out.Interleaving == nil || len(out.Interleaving.Rows) == 0 {
				t.Fatal("no rows")
			}
			for _, row := range out.Interleaving.Rows[1:] { // main's start has no line
				if has := row.Pos.File == "abba.c" && row.Pos.Line > 0; has != tc.lines {
					t.Errorf("%s: row %q at %q line %d\n%s", tc.flag, row.Op, row.Pos.File, row.Pos.Line, table(out))
					break
				}
			}
		})
	}
}
