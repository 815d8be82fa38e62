package control

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/engine"
)

// The determinism matrix: programs (the lost update, a broken flag lock,
// two mutexes in opposite order, Downey's rendezvous done wrong, a correct
// reusable barrier, a correct lock) × seeds × strategies.
var (
	determinismPrograms = []string{"lost_loop", "flaglock", "opposite", "rendezvous_wrong", "barrier", "fixed"}
	determinismSeeds    = []uint64{1, 7, 42, 1 << 40}
)

const helperEnv = "PMRUN_CONTROL_HELPER"

// canonical prints everything an outcome says that a seed decides: all but
// the runtime and the threads' kernel ids.
func canonical(out engine.Outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ok=%v verdict=%s run=%d runs=%d failures=%d complete=%v steps=%d switches=%d original=%d/%d\n",
		out.OK, out.Verdict, out.Run, out.Runs, out.Failures, out.Complete, out.Steps, out.Switches, out.OriginalSteps, out.OriginalSwitches)
	fmt.Fprintf(&b, "states=%d transitions=%d interleavings=%v/%v cyclic=%v pct=%g k=%d note=%q\n",
		out.States, out.Transitions, out.Interleavings, out.FailingInterleavings, out.Cyclic, out.PCTBound, out.PCTSteps, out.Note)
	fmt.Fprintf(&b, "schedule=%s\nfinal=%v\ndeadlock=%v cycle=%v\n%s\n", out.ScheduleText, out.Final, out.Deadlock, out.Cycle, out.Explanation)
	if out.Failure != nil {
		fmt.Fprintf(&b, "failure: %s (thread %q)\n", out.Failure.Error(), out.Failure.Thread)
	}
	if out.Interleaving != nil {
		b.WriteString(out.Interleaving.Format())
	}
	return b.String()
}

// determinismReport runs the matrix and prints every outcome.
func determinismReport(t testing.TB) string {
	var b strings.Builder
	for _, name := range determinismPrograms {
		for _, sched := range []string{Random, PCT, Exhaustive} {
			for _, seed := range determinismSeeds {
				runs := 30
				if sched == Exhaustive {
					runs = 0 // every path: a cut search is incomplete
				}
				out := mustSearch(t, name, Options{Scheduler: sched, Seed: seed, Runs: runs, Shrink: true, MaxSteps: 2000})
				fmt.Fprintf(&b, "== %s %s seed %d\n%s", name, sched, seed, canonical(out))
			}
		}
	}
	return b.String()
}

// TestDeterminismHelper is the helper process of TestDeterminism: with
// the helper variable set, it prints the matrix's outcomes.
func TestDeterminismHelper(t *testing.T) {
	if os.Getenv(helperEnv) != "determinism" {
		t.Skip("the helper process of TestDeterminism")
	}
	fmt.Print(determinismReport(t))
}

// TestDeterminism runs the matrix in two processes of their own and
// compares what they print, byte for byte: a search depends on its seed
// alone. And seeds do matter: they do not all find the same.
func TestDeterminism(t *testing.T) {
	t.Parallel()
	run := func() string {
		cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestDeterminismHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), helperEnv+"=determinism")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("helper: %v\n%s", err, out)
		}
		return string(out)
	}
	first, second := run(), run()
	if first != second {
		a, b := strings.Split(first, "\n"), strings.Split(second, "\n")
		for i := range min(len(a), len(b)) {
			if a[i] != b[i] {
				t.Fatalf("the two processes differ at line %d:\n%s\n%s", i+1, a[i], b[i])
			}
		}
		t.Fatalf("the two processes printed %d and %d lines", len(a), len(b))
	}
	if !strings.Contains(first, "== barrier exhaustive seed 1\nok=true verdict=pass") {
		t.Errorf("the helper's report is not what the test expects:\n%.2000s", first)
	}
	// The lost update under random search, seed by seed: not all alike.
	schedules := map[string]bool{}
	for _, part := range strings.Split(first, "== lost_loop random seed ")[1:] {
		schedules[strings.SplitN(part, "\n", 2)[1]] = true
	}
	if len(schedules) < 2 {
		t.Errorf("every seed found the same: %v", schedules)
	}
}
