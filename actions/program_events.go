package actions

// The program action's events and how the timeline draws them: a row per
// program with a span per run (red when it failed), a row per program
// thread with its steps as marks, grey while it waits, green while it is
// inside a critical region, blue while it runs; a found failure on the
// steps' row with the schedule that replays it. program.go runs the
// programs; this file turns what their threads did into events.

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

var (
	programRow       = Row{Kind: WorkerRow, Key: []string{"program"}, Label: Text("program {program}")}
	programThreadRow = Row{Kind: WorkerRow, Key: []string{"program", "worker"}, Label: Text("program {program}: thread {worker}")}

	programRunSpan = &Style{Name: "run", Color: "#9fb3d1", Legend: "a run of a program"}
	programRunning = &Style{Name: "running", Color: "#8a63b8", Legend: "a program thread running"}
	programWaiting = &Style{Name: "wait", Color: "#c9c9c9", Legend: "waiting"}
	programInside  = &Style{Name: "critical", Color: "#4c9f70", Legend: "inside a critical region"}
)

// The program action's events.
const (
	evProgramStart  = "program_start"
	evProgramEnd    = "program_end"
	evProgramStep   = "program_step"
	evProgramEnter  = "program_enter"
	evProgramLeave  = "program_leave"
	evProgramWait   = "program_wait"
	evProgramDone   = "program_done"
	evScheduleFound = "schedule_found"
	// A search's bounded account of itself, whatever its size: its runs
	// and states so far, now and then, and its numbers at the end.
	evProgramProgress = "program_progress"
	evProgramExplored = "program_explored"
	evProgramSearched = "program_searched"
)

// loggedRuns is how many runs of a step log their start and end when
// trace is off (the run shown always does): past them a search logs its
// progress at most once a second and its numbers at the end, so that one
// search adds a bounded amount to the log whatever its size (a run's two
// events take about 600 bytes).
const loggedRuns = 100

var programEvents = []*Event{
	{
		Name: evProgramStart, Row: programRow,
		Starts: []Start{{If: runDrawn, Style: programRunSpan, Label: Text("run {run} ({scheduler})")}},
	},
	{
		Name: evProgramEnd, Row: programRow,
		Mark:    &Mark{If: func(o Occurrence) bool { return runDrawn(o) && runFailed(o) }, Label: Text("run {run}: {failure}"), Failed: Always},
		Ends:    []End{{Style: programRunSpan, Status: Text("{verdict} after {steps} steps"), Failed: runFailed, KeepFields: true}},
		Console: programEndLine,
		Count:   &Count{Noun: "runs"}, // of a search, on the live progress line
	},
	{
		Name: evProgramStep, Row: programThreadRow,
		Mark:    &Mark{Label: stepLabel, Failed: IsTrue("failed")},
		Ends:    []End{{Style: programWaiting, Status: Text("woken")}},
		Starts:  []Start{{If: IsTrue("resumed"), Style: programRunning, Label: Text("runs")}},
		Console: stepLine,
	},
	{
		Name: evProgramEnter, Row: programThreadRow,
		Mark:    &Mark{Label: stepLabel, Failed: IsTrue("failed")},
		Ends:    []End{{Style: programWaiting, Status: Text("woken")}},
		Starts:  []Start{{Style: programInside, Label: Text("inside {region}")}},
		Console: stepLine,
	},
	{
		Name: evProgramLeave, Row: programThreadRow,
		Mark:    &Mark{Label: stepLabel, Failed: IsTrue("failed")},
		Ends:    []End{{Style: programInside, Status: Text("left")}},
		Starts:  []Start{{Style: programRunning, Label: Text("runs")}},
		Console: stepLine,
	},
	{
		Name: evProgramWait, Row: programThreadRow,
		Starts:  []Start{{Style: programWaiting, Label: Text("waits for {waiting}")}},
		Console: Text("{program} run {run}: {worker} waits for {waiting}"),
	},
	{
		Name: evProgramDone, Row: programThreadRow,
		Ends: []End{{Status: Text("{state}")}},
	},
	{
		Name:    evProgramProgress,
		Count:   &Count{Noun: "runs", Field: "runs"}, // the runs not logged one by one
		Console: Text("{program}: {scheduler} search, {made} runs so far"),
	},
	{
		Name:    evProgramExplored,
		Count:   &Count{Noun: "states", Field: "states"},
		Console: Text("{program}: {scheduler} search, {explored} states so far"),
	},
	{
		Name: evProgramSearched, Row: stepsRow,
		Mark: &Mark{Label: Text("{scheduler} search of {program}: {runs} runs, {failures} failed, {states} states, complete: {complete}")},
	},
	{
		Name: evScheduleFound, Row: stepsRow,
		Mark:    &Mark{Label: Text("{verdict} in run {run}: {schedule}"), Failed: Always},
		Console: foundLines,
	},
	programShown,
}

// runDrawn says whether a run's start and end are drawn on the timeline:
// a free run's (free: its threads announce their runs, the kernel
// interleaved them in real time), and the run a search shows; not the hundreds of runs of a search, which the report
// gives as numbers (program_shown).
func runDrawn(o Occurrence) bool {
	return o.Fields.Bool("shown") || o.Fields.Bool("free")
}

func runFailed(o Occurrence) bool { return o.Fields.Str("verdict") != string(program.Pass) }

func stepLabel(o Occurrence) string {
	label := fmt.Sprintf("%s (line %s)", o.Fields.Str("op"), o.Fields.Str("line"))
	if c := o.Fields.Str("changed"); c != "" {
		label += ": " + c
	}
	return label
}

func stepLine(o Occurrence) string {
	return fmt.Sprintf("%s run %s: %s: %s", o.Fields.Str("program"), o.Fields.Str("run"), o.Fields.Str("worker"), stepLabel(o))
}

// programEndLine is -v's line for the end of a run drawn (see runDrawn):
// a search's other runs are said in one line by program_shown.
func programEndLine(o Occurrence) string {
	if !runDrawn(o) {
		return ""
	}
	run := "run " + o.Fields.Str("run")
	if shrunk := shrunkText(o.Fields); shrunk != "" {
		run += ", " + shrunk // the steps and the failure are the shrunk run's
	}
	line := fmt.Sprintf("%s %s: %s after %s steps", o.Fields.Str("program"), run, o.Fields.Str("verdict"), o.Fields.Str("steps"))
	if f := o.Fields.Str("failure"); f != "" {
		line += ": " + f
	}
	return line
}

// shrunkText says how a shown run was shrunk from the run that found
// it, from an event's or a result's steps, switches, original_steps and
// original_switches: "shrunk from 25 switches to 3"; "" when it was
// not.
func shrunkText(f interface{ Str(string) string }) string {
	steps, switches := f.Str("steps"), f.Str("switches")
	fromSteps, fromSwitches := f.Str("original_steps"), f.Str("original_switches")
	if fromSteps == "" || fromSwitches == "" {
		return ""
	}
	switch {
	case fromSteps != steps && fromSwitches != switches:
		return fmt.Sprintf("shrunk from %s steps and %s switches to %s and %s", fromSteps, fromSwitches, steps, switches)
	case fromSteps != steps:
		return fmt.Sprintf("shrunk from %s steps to %s", fromSteps, steps)
	case fromSwitches != switches:
		return fmt.Sprintf("shrunk from %s switches to %s", fromSwitches, switches)
	}
	return ""
}

// foundLines is the failing interleaving, in OSTEP's style, and the
// schedule that replays it.
func foundLines(o Occurrence) string {
	where := "in run " + o.Fields.Str("run")
	if where == "in run -1" {
		where = "in the replay"
	}
	where += " of program " + o.Fields.Str("program")
	if shrunk := shrunkText(o.Fields); shrunk != "" {
		where += ", " + shrunk
	}
	sched, _ := schedule.Printable(o.Fields.Str("schedule"))
	return fmt.Sprintf("%s found %s; schedule %s\n%s",
		o.Fields.Str("verdict"), where, sched,
		strings.TrimRight(o.Fields.Str("interleaving"), "\n"))
}

// programTracer logs a program step's events. Its methods are called one
// at a time: by the runs' threads under their ticket or turn, and by the
// step between runs.
type programTracer struct {
	env       *Env
	p         *program.Program
	scheduler string
	trace     bool

	// What each thread of the current run did last, for the timeline: it
	// has taken a step, it is waiting.
	started, waiting []bool

	// The run under way: its number, whether it is the shown one, and
	// whether its program_start is logged; announced: runs announce their
	// start (free threads).
	run                     int
	shown, begun, announced bool

	// What the search has done, for its bounded account: runs ended,
	// those not logged one by one since the last progress event, and the
	// states an exhaustive search had then.
	runs, unlogged int
	states         int
	lastProgress   time.Time
}

func newProgramTracer(env *Env, p *program.Program, scheduler string, trace bool) *programTracer {
	n := len(p.Threads())
	return &programTracer{env: env, p: p, scheduler: scheduler, trace: trace, started: make([]bool, n), waiting: make([]bool, n)}
}

// begin logs the start of run r.
func (t *programTracer) begin(r int) {
	clear(t.started)
	clear(t.waiting)
	kv := []any{"program", t.p.Name(), "run", r, "scheduler", t.scheduler}
	if t.shown {
		kv = append(kv, "shown", true)
	}
	if t.announced {
		kv = append(kv, "free", true)
	}
	t.env.Event(evProgramStart, "program run started", kv...)
}

// ensureBegun logs the start of a run once: when it announces it (free
// threads), else at its first step, or at its end when no step was
// traced. The shown run, replayed at the end of a search, is logged again
// as a run of its own.
func (t *programTracer) ensureBegun(run int, shown bool) {
	if t.begun && t.run == run && t.shown == shown {
		return
	}
	t.run, t.shown, t.begun = run, shown, true
	t.begin(run)
}

// onStep is the scheduler's Trace: a step, or (free threads) a thread
// that went to sleep.
func (t *programTracer) onStep(si engine.StepInfo) {
	if si.Wait {
		t.wait(si.Run, si.Thread, si.TID, si.Waiting)
		return
	}
	if si.Run < 0 && !si.Shown { // PCT's probe run, which estimates its steps
		return
	}
	t.ensureBegun(si.Run, si.Shown)
	t.step(si.Run, si.Thread, si.Step, si.TID, si.StepInfo, si.Done)
}

// onRun is the scheduler's OnRun: a run's start (free threads announce
// it) or end. A run whose start was announced also logs, with trace on,
// how each unfinished thread was left.
func (t *programTracer) onRun(ri engine.RunInfo) {
	if ri.Run < 0 && !ri.Shown {
		return
	}
	if !ri.Shown && !t.trace {
		if t.runs >= loggedRuns { // runs ended so far
			if !ri.Start {
				t.runs++
				t.unlogged++
				t.progress(false)
			}
			return
		}
		if !ri.Start {
			t.runs++
		}
	}
	if ri.Start {
		t.announced = true
		t.ensureBegun(ri.Run, ri.Shown)
		return
	}
	t.ensureBegun(ri.Run, ri.Shown)
	var unfinished func(int) string
	if t.announced {
		unfinished = t.unfinished
	}
	t.end(ri, unfinished)
	t.begun = false
}

// end logs the end of run ri.Run, and with trace on how each unfinished
// thread was left.
func (t *programTracer) end(ri engine.RunInfo, unfinished func(i int) string) {
	r, f := ri.Run, ri.Failure
	verdict, failure, level := string(program.Pass), "", hclog.Info
	if f != nil {
		verdict, failure, level = string(f.Verdict), failureText(programFile(t.env.Host.File(), t.p), f), hclog.Warn
	}
	if t.trace && unfinished != nil {
		for i, name := range t.p.Threads() {
			if state := unfinished(i); state != "" {
				t.env.Event(evProgramDone, "program thread stopped", "program", t.p.Name(), "run", r, "worker", name, "state", state)
			}
		}
	}
	kv := []any{"program", t.p.Name(), "run", r, "scheduler", t.scheduler, "verdict", verdict,
		"failure", failure, "steps", ri.Steps, "switches", ri.Switches}
	if t.shown {
		kv = append(kv, "shown", true)
	}
	if ri.Shrunk {
		kv = append(kv, "original_steps", ri.OriginalSteps, "original_switches", ri.OriginalSwitches)
	}
	if t.announced {
		kv = append(kv, "free", true)
	}
	t.env.EventLevel(level, evProgramEnd, "program run ended", kv...)
}

// step logs one visible step of thread i in run r.
func (t *programTracer) step(r, i, index, tid int, info program.StepInfo, done bool) {
	event := evProgramStep
	switch {
	case info.Op == program.OpCritical && info.Phase == program.PhaseEnter:
		event = evProgramEnter
	case info.Op == program.OpCritical && info.Phase == program.PhaseLeave:
		event = evProgramLeave
	}
	resumed := !t.started[i] || t.waiting[i]
	t.started[i], t.waiting[i] = true, false
	name := t.p.Threads()[i]
	kv := []any{"program", t.p.Name(), "run", r, "worker", name, "tid", tid, "index", index, "op", info.Text,
		"line", info.Pos.Line, "resumed", resumed}
	if info.Op == program.OpCritical {
		kv = append(kv, "region", objectOf(info))
	}
	if info.Var >= 0 && info.Old != info.New {
		kv = append(kv, "changed", t.changed(info))
	}
	if info.Log != "" {
		kv = append(kv, "message", info.Log)
	}
	if info.Failure != nil {
		kv = append(kv, "failed", true, "failure", failureText(programFile(t.env.Host.File(), t.p), info.Failure))
	}
	t.env.Event(event, "program step", kv...)
	if info.Blocked {
		t.wait(r, i, tid, waitingFor(info))
	}
	if done {
		t.env.Event(evProgramDone, "program thread finished", "program", t.p.Name(), "run", r, "worker", name, "state", "finished")
	}
}

// objectOf is the object a step names: its text's second word ("wait
// s", "enter room", "cond_wait c (release m)").
func objectOf(info program.StepInfo) string {
	if f := strings.Fields(info.Text); len(f) > 1 {
		return f[1]
	}
	return ""
}

// waitingFor names what a step that blocked its thread waits for: a FIFO
// semaphore's signal, or a condition's.
func waitingFor(info program.StepInfo) string {
	if info.Op == program.OpCondWait {
		return "condition " + objectOf(info)
	}
	return "semaphore " + objectOf(info)
}

// changed says what a step wrote: "count: 0 → 1".
func (t *programTracer) changed(info program.StepInfo) string {
	v := t.p.Def().Vars[info.Var]
	if v.Bool {
		return fmt.Sprintf("%s: %v → %v", v.Name, info.Old != 0, info.New != 0)
	}
	return fmt.Sprintf("%s: %d → %d", v.Name, info.Old, info.New)
}

// wait logs thread i going to sleep on what it waits for.
func (t *programTracer) wait(r, i, tid int, waiting string) {
	if t.waiting[i] {
		return
	}
	t.waiting[i] = true
	t.env.Event(evProgramWait, "program thread waits", "program", t.p.Name(), "run", r, "worker", t.p.Threads()[i], "tid", tid, "waiting", waiting)
}

// progress logs, at most once a second (always when last), the runs made
// since it last did that were not logged one by one.
func (t *programTracer) progress(last bool) {
	now := time.Now()
	if t.unlogged == 0 || !last && now.Sub(t.lastProgress) < time.Second {
		return
	}
	t.lastProgress = now
	t.env.Event(evProgramProgress, "program search progress", "program", t.p.Name(), "scheduler", t.scheduler, "runs", t.unlogged, "made", t.runs)
	t.unlogged = 0
}

// explored is an exhaustive search's progress: states and steps so far,
// logged at most once a second.
func (t *programTracer) explored(states, transitions int) {
	now := time.Now()
	if now.Sub(t.lastProgress) < time.Second {
		return
	}
	t.lastProgress = now
	t.env.Event(evProgramExplored, "program search progress", "program", t.p.Name(), "scheduler", t.scheduler,
		"states", states-t.states, "explored", states, "transitions", transitions)
	t.states = states
}

// searched logs a search's numbers at its end.
func (t *programTracer) searched(o engine.Outcome) {
	t.progress(true)
	if o.How.Kind != engine.KindSearch && o.How.Kind != engine.KindFree {
		return
	}
	t.env.Event(evProgramSearched, "program search done", "program", t.p.Name(), "scheduler", t.scheduler,
		"runs", o.Runs, "failures", o.Failures, "states", o.States, "transitions", o.Transitions,
		"complete", o.Complete, "verdict", string(o.Verdict), "elapsed_ms", float64(o.Runtime.Microseconds())/1000)
}

// unfinished says how a thread of a free run that ended was left: "" if
// it finished (its program_done is logged), else waiting or stopped.
func (t *programTracer) unfinished(i int) string {
	switch {
	case !t.started[i]:
		return ""
	case t.waiting[i]:
		return "blocked"
	}
	return ""
}

// found logs what the step found: the failure of the shown run, with the
// schedule that replays it and its interleaving, and a deadlock's or an
// assertion's own event.
func (t *programTracer) found(o engine.Outcome, r programResult) {
	f := o.Failure
	if f == nil {
		return
	}
	t.env.EventLevel(hclog.Warn, evScheduleFound, "program failure found", "program", t.p.Name(), "run", o.Run,
		"verdict", string(f.Verdict), "failure", r.Failure, "schedule", r.Schedule, "replay", r.Replay, "interleaving", r.Interleaving,
		"steps", r.Steps, "switches", r.Switches, "original_steps", r.OriginalSteps, "original_switches", r.OriginalSwitches)
	switch f.Verdict {
	case program.Deadlock:
		t.env.EventLevel(hclog.Warn, evDeadlock, "deadlock detected", "program", t.p.Name(), "run", o.Run,
			"cycle", r.Cycle, "explanation", r.Explanation)
	case program.Assert:
		t.env.EventLevel(hclog.Warn, evAssertFailed, "assertion failed", "program", t.p.Name(), "run", o.Run,
			"expression", f.Msg, "line", f.Pos.Line)
	}
}
