package control

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// TestReplayReproduces: the schedule a search prints, parsed back as a
// person would paste it, replays on real threads to the same verdict,
// the same final values and the same interleaving, for each bug and
// strategy.
func TestReplayReproduces(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"lost_loop", "flaglock", "opposite", "rendezvous_wrong", "barrier"} {
		for _, sched := range []string{Random, PCT, Exhaustive} {
			t.Run(name+"/"+sched, func(t *testing.T) {
				t.Parallel()
				runs := 50
				if sched == Exhaustive {
					runs = 0 // every path: a cut search is incomplete, which no replay is
				}
				found := mustSearch(t, name, Options{Scheduler: sched, Seed: 3, Runs: runs, Shrink: true})
				s, err := schedule.Parse(found.ScheduleText)
				if err != nil {
					t.Fatal(err)
				}
				again, err := Replay(t.Context(), prog(t, name), s, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if again.Verdict != found.Verdict || !reflect.DeepEqual(again.Final, found.Final) ||
					again.ScheduleText != found.ScheduleText || again.Note != "" {
					t.Errorf("replay: %s %v %s %q; search: %s %v %s", again.Verdict, again.Final, again.ScheduleText, again.Note,
						found.Verdict, found.Final, found.ScheduleText)
				}
				if a, b := again.Interleaving.Format(), found.Interleaving.Format(); a != b {
					t.Errorf("replay's interleaving:\n%s\nsearch's:\n%s", a, b)
				}
			})
		}
	}
}

// edited loads a program of testdata/programs.yaml with one line of its
// text changed.
func edited(t *testing.T, name, old, new string) *program.Program {
	t.Helper()
	data, err := os.ReadFile("testdata/programs.yaml")
	if err != nil {
		t.Fatal(err)
	}
	src := strings.Replace(string(data), old, new, 1)
	if src == string(data) {
		t.Fatalf("%q is not in the programs", old)
	}
	return programtest.One(t, src, name)
}

func TestReplayRefuses(t *testing.T) {
	t.Parallel()
	lost := prog(t, "lost")
	good := schedule.Schedule{Program: "lost", Hash: lost.TextHash(), Steps: []int{0, 1, 0, 1}}
	tests := []struct {
		name  string
		p     *program.Program
		sched schedule.Schedule
		want  string
		is    error
	}{
		{"edited program", edited(t, "lost", "expect: count == 2", "expect: count >= 2"), good,
			"program lost was edited since the schedule was made", schedule.ErrMismatch},
		{"another program", prog(t, "fixed"), good, "the schedule is for program lost, not fixed", schedule.ErrMismatch},
		// A locks m, then B's lock cannot happen.
		{"blocked thread", prog(t, "fixed"), schedule.Schedule{Program: "fixed", Hash: prog(t, "fixed").TextHash(), Steps: []int{0, 1}},
			"the schedule does not fit: step 2 names thread B, which is blocked on lock m", nil},
		{"finished thread", lost, schedule.Schedule{Program: "lost", Hash: lost.TextHash(), Steps: []int{0, 0, 0}},
			"the schedule does not fit: step 3 names thread A, which has finished", nil},
		{"no such thread", lost, schedule.Schedule{Program: "lost", Hash: lost.TextHash(), Steps: []int{4}},
			"the schedule does not fit: step 1 names thread #4, but program lost has 2 threads", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Replay(t.Context(), tt.p, tt.sched, Options{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			var nf *NotFitError
			if tt.is != nil && !errors.Is(err, tt.is) || tt.is == nil && !errors.As(err, &nf) {
				t.Errorf("%v does not match its kind", err)
			}
		})
	}
}

// TestReplayGoesOn: a schedule that ends before the program does goes on
// with the last thread while it can, then the lowest, and says so.
func TestReplayGoesOn(t *testing.T) {
	t.Parallel()
	p := prog(t, "lost")
	// A reads, B reads; then B (the last) writes and finishes, then A.
	out, err := Replay(t.Context(), p, schedule.Schedule{Program: "lost", Hash: p.TextHash(), Steps: []int{0, 1}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if out.ScheduleText != "pmrun1:lost:"+p.TextHash()+":ab2a" || out.Verdict != program.Expect || fmt.Sprint(out.Final["count"]) != "1" {
		t.Errorf("got %s, %s, %v", out.ScheduleText, out.Verdict, out.Final)
	}
	if !strings.Contains(out.Note, "the schedule ended after 2 steps; the run went on for 2 more") {
		t.Errorf("note %q", out.Note)
	}
}

// TestRealThreads: every step is taken by the OS thread of its program
// thread, named after it in the kernel (its first 15 bytes), and never
// two at once.
func TestRealThreads(t *testing.T) {
	t.Parallel()
	src := `
named:
  vars: {x: 0}
  threads:
    a_very_long_thread_name: &body [{repeat: 3, do: [atomic_set: x = x + 1, yield]}]
    B: *body
`
	p := programtest.One(t, src, "named")
	var inside, steps atomic.Int32
	seen := map[int]string{}
	out, err := Search(t.Context(), p, Options{Scheduler: Random, Runs: 20, Seed: 5, Trace: func(s engine.StepInfo) {
		if inside.Add(1) != 1 {
			t.Error("two threads stepped at once")
		}
		defer inside.Add(-1)
		steps.Add(1)
		if tid := unix.Gettid(); tid != s.TID {
			t.Errorf("step of %s taken by tid %d, its thread is %d", s.Name, tid, s.TID)
		}
		comm, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(s.TID) + "/comm")
		if err != nil {
			t.Error(err)
			return
		}
		seen[s.TID] = strings.TrimSpace(string(comm))
	}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{out.Threads[0].TID: "a_very_long_thr", out.Threads[1].TID: "B"}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("threads seen %v, want %v", seen, want)
	}
	if steps.Load() != 21*12 { // 20 runs and the shown run, 12 steps each
		t.Errorf("%d steps traced", steps.Load())
	}
}
