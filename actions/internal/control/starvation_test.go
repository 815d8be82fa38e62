package control

import (
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// TestStarvationShownAndReplayed: exhaustive finds a weak semaphore's
// starvation in a program that goes round for ever, shows it as a lasso
// replayed on the real threads, and its schedule replays as the same
// starvation; with a FIFO semaphore the program is proved free of it
// (not a livelock: its runs never end, but each thread keeps making
// progress).
func TestStarvationShownAndReplayed(t *testing.T) {
	t.Parallel()
	out := mustSearch(t, "weak_lock", Options{Scheduler: Exhaustive, Shrink: true})
	if out.Verdict != program.Starvation || out.Failure == nil || out.Failure.Thread != "T0" {
		t.Fatalf("verdict %s, failure %v; want T0 starving\n%s", out.Verdict, out.Failure, format(out))
	}
	if out.Interleaving == nil || out.Interleaving.Repeats == 0 || !strings.Contains(out.Interleaving.Format(), "↻") {
		t.Errorf("the run shown is not a lasso:\n%s", format(out))
	}
	sc, err := schedule.Parse(out.ScheduleText)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Replay(t.Context(), prog(t, "weak_lock"), sc, Options{})
	if err != nil || again.Verdict != program.Starvation || again.Failure.Msg != out.Failure.Msg {
		t.Errorf("the schedule %s replays with verdict %s (%v): %v", out.ScheduleText, again.Verdict, err, again.Failure)
	}
	fifo := mustSearch(t, "fifo_lock", Options{Scheduler: Exhaustive})
	if fifo.Verdict != program.Pass || !fifo.Complete {
		t.Errorf("fifo_lock: verdict %s, complete %v (note %q)", fifo.Verdict, fifo.Complete, fifo.Note)
	}
	capped := mustSearch(t, "fifo_lock", Options{Scheduler: Exhaustive, MaxBytes: 1 << 20, MaxStates: 4})
	if capped.Verdict == program.Pass || capped.Complete {
		t.Errorf("fifo_lock within 4 states: verdict %s, complete %v", capped.Verdict, capped.Complete)
	}
}
