package control

import (
	"errors"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// play has the game take each thread of steps in turn (0 is A), failing
// the test on an error.
func play(t *testing.T, g *Game, steps ...int) {
	t.Helper()
	for i, th := range steps {
		if _, err := g.Step(t.Context(), th); err != nil {
			t.Fatalf("step %d (thread %d): %v", i+1, th, err)
		}
	}
}

// TestGameLostUpdate: the person schedules the lost update by hand (A
// reads, B reads, B writes, A writes); every step is taken by its own
// named OS thread; the run fails as a search finds it, the schedule is the
// one Search prints for it, and it replays to the same end.
func TestGameLostUpdate(t *testing.T) {
	p := prog(t, "lost")
	var tids = map[string]int{}
	var traced []int
	var ends []engine.RunInfo
	g, err := NewGame(p, Options{
		Trace: func(si engine.StepInfo) {
			tids[si.Name] = si.TID
			th, _ := p.Thread(si.Name)
			traced = append(traced, th)
		},
		OnRun: func(ri engine.RunInfo) { ends = append(ends, ri) },
	})
	if err != nil {
		t.Fatal(err)
	}
	play(t, g, 0, 1, 1)
	if over, _ := g.Over(); over {
		t.Fatal("over after three of four steps")
	}
	play(t, g, 0)
	over, f := g.Over()
	if !over || f == nil || f.Verdict != program.Expect {
		t.Fatalf("over %v, failure %v; want the expect failure", over, f)
	}
	out, err := g.Finish(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := schedule.Schedule{Program: "lost", Hash: p.TextHash(), Steps: []int{0, 1, 1, 0}}.String()
	if out.ScheduleText != want || out.OK || !out.Complete || out.Verdict != program.Expect || out.Final["count"] != 1 || out.Switches != 2 {
		t.Errorf("outcome %s ok=%v complete=%v %s %v switches %d; want %s, a complete failed run, count 1, 2 switches",
			out.ScheduleText, out.OK, out.Complete, out.Verdict, out.Final, out.Switches, want)
	}
	if len(traced) != 4 || len(ends) != 1 || ends[0].Verdict != program.Expect {
		t.Errorf("Finish traced steps %v and ends %v; want the 4 steps and one expect end", traced, ends)
	}
	if tids["A"] == 0 || tids["A"] == tids["B"] || len(out.Threads) != 2 || out.Threads[0].TID != tids["A"] {
		t.Errorf("thread ids %v, outcome threads %v: want A and B on OS threads of their own", tids, out.Threads)
	}
	if il := out.Interleaving; il == nil || len(il.Rows) != 4 || il.Failure == nil || il.Failure.Verdict != program.Expect {
		t.Errorf("interleaving %+v: want the 4 steps, then the expect failure", il)
	}
	gone(t, tids["A"], tids["B"])

	s, err := schedule.Parse(out.ScheduleText)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Replay(t.Context(), p, s, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Verdict != out.Verdict || again.Final["count"] != out.Final["count"] || again.Failure.Pos != out.Failure.Pos {
		t.Errorf("the game's schedule replays to %s %v, the game ended %s %v", again.Verdict, again.Final, out.Verdict, out.Final)
	}
}

// TestGameUndo: undo restores the state before the step, even after the
// run has ended; with nothing to undo it says so; a step after the end is
// ErrGameOver.
func TestGameUndo(t *testing.T) {
	p := prog(t, "lost")
	g, err := NewGame(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	start := g.State().Clone()
	if g.Undo() {
		t.Fatal("Undo with no step taken said it undid one")
	}
	play(t, g, 0)
	afterOne := g.State().Clone()
	play(t, g, 1, 1, 0)
	if _, err := g.Step(t.Context(), 0); !errors.Is(err, ErrGameOver) {
		t.Fatalf("a step after the end: %v, want ErrGameOver", err)
	}
	for range 3 {
		if !g.Undo() {
			t.Fatal("Undo failed with steps to undo")
		}
	}
	if over, _ := g.Over(); over || !g.State().Equal(afterOne) || len(g.Steps()) != 1 {
		t.Fatalf("after three undos: over %v, state %v, steps %v; want the state after the first step", over, g.State(), g.Steps())
	}
	// Another order from there: A writes before B reads, and nothing is lost.
	play(t, g, 0, 1, 1)
	over, f := g.Over()
	if !over || f != nil || g.State().Final()["count"] != 2 {
		t.Fatalf("over %v, failure %v, final %v; want a pass with count 2", over, f, g.State().Final())
	}
	g.Undo()
	g.Undo()
	g.Undo()
	g.Undo()
	if !g.State().Equal(start) || len(g.Steps()) != 0 {
		t.Errorf("after undoing every step: %v, steps %v; want the initial state", g.State(), g.Steps())
	}
}

// TestGameBlockedThread: choosing a thread that cannot take a step is an
// error that names it and what it waits on, and changes nothing; playing
// into the deadlock ends the run with the model's explanation.
func TestGameBlockedThread(t *testing.T) {
	p := prog(t, "opposite")
	g, err := NewGame(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	play(t, g, 0, 0) // A holds m1 and m2
	before := g.State().Clone()
	_, err = g.Step(t.Context(), 1)
	var nf *NotFitError
	if !errors.As(err, &nf) || nf.Thread != "B" || !g.State().Equal(before) || len(g.Steps()) != 2 {
		t.Errorf("stepping blocked B: %v; want a NotFitError naming B, the state unchanged", err)
	}
	g.Undo()
	play(t, g, 1) // A holds m1, B holds m2
	if over, f := g.Over(); !over || f == nil || f.Verdict != program.Deadlock {
		t.Fatalf("after each took its first mutex: over %v, %v; want a deadlock", over, f)
	}
	out, err := g.Finish(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Deadlock || out.Verdict != program.Deadlock || len(out.Cycle) != 5 || out.Explanation == "" {
		t.Errorf("outcome deadlock %v %s cycle %v explanation %q; want the deadlock explained", out.Deadlock, out.Verdict, out.Cycle, out.Explanation)
	}
}

// TestGameStopped: a game finished before the run ended reports what was
// done and says so; it is not complete, not a failure, and not a pass
// either: verdict incomplete, ok false.
func TestGameStopped(t *testing.T) {
	p := prog(t, "fixed")
	g, err := NewGame(p, Options{})
	if err != nil {
		t.Fatal(err)
	}
	play(t, g, 0, 0)
	out, err := g.Finish(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if out.OK || out.Verdict != program.Incomplete || out.Failure != nil || out.Complete || out.Steps != 2 || out.Note == "" || out.Final["count"] != 0 {
		t.Errorf("stopped game: ok %v verdict %s complete %v steps %d note %q final %v; want incomplete, 2 steps, a note", out.OK, out.Verdict, out.Complete, out.Steps, out.Note, out.Final)
	}
	if _, err := g.Step(t.Context(), 1); err == nil {
		t.Error("a step after Finish did not fail")
	}
	gone(t, tids(out)...)
}
