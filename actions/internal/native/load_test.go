package native

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// busyLoops starts n shell loops that spin on the CPUs until the test
// ends: a busy machine.
func busyLoops(t *testing.T, n int) {
	t.Helper()
	tab, err := proc.NewTable(proc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tab.Close(context.Background(), 0) })
	for i := range n {
		if _, err := tab.Start(proc.Spec{Name: fmt.Sprint("busy", i), Argv: []string{"/bin/sh", "-c", "while :; do :; done"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// A failure found replays the same, call for call, 20 times out of 20,
// with two busy loops on the machine: the threads' timing plays no part.
// Threads (the condition waited with if) and processes (a forked child on
// shared memory) alike.
func TestReplayUnderLoad(t *testing.T) {
	busyLoops(t, 2)
	for _, tc := range []struct {
		prog  string
		flags []string
		runs  int
	}{{"condif", nil, 100}, {"procs", []string{"-DNOLOCK"}, 20}, {"buffer", []string{"-DSWAPPED"}, 20}} {
		t.Run(tc.prog, func(t *testing.T) {
			p := prepare(t, tc.prog, tc.flags...)
			found, err := search(t, p, Expect{}, control.Options{Runs: tc.runs, Seed: 5})
			if err != nil || found.OK {
				t.Fatalf("search: %v, ok %v", err, found.OK)
			}
			want := fmt.Sprintf("%s %s\n%s", found.Verdict, found.ScheduleText, table(found))
			start := time.Now()
			for i := range 20 {
				again, err := search(t, p, Expect{}, control.Options{Replay: &found.Schedule})
				if err != nil {
					t.Fatalf("replay %d: %v", i+1, err)
				}
				if got := fmt.Sprintf("%s %s\n%s", again.Verdict, again.ScheduleText, table(again)); got != want {
					t.Fatalf("replay %d of 20 differs:\n%s\nthe search found:\n%s", i+1, got, want)
				}
			}
			t.Logf("20 replays of %s in %v", found.ScheduleText, time.Since(start))
		})
	}
}
