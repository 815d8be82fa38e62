package control

import (
	"math/big"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// Outcome is what a search or a replay found. It shows one run, replayed on
// the real threads at the end with every step recorded: the first failing
// run (its schedule shrunk when asked), or else the last run made.
type Outcome struct {
	// OK: no run failed.
	OK bool
	// Verdict is the shown run's: pass, or the failure's verdict.
	Verdict program.Verdict
	Failure *program.Failure
	// Schedule is the shown run's interleaving; ScheduleText its one-line
	// form, what a replay takes.
	Schedule     schedule.Schedule
	ScheduleText string
	// Run is the number of the shown run (exhaustive: of the path that
	// failed); -1 when nothing ran or for a replay.
	Run int
	// Runs is how many runs were made (exhaustive: paths explored, each
	// ending at a final state, a failure, or a state already explored).
	Runs int
	// Complete: every run asked for was made; for exhaustive, every
	// reachable state was explored.
	Complete bool
	// Steps and Switches are the shown run's steps and context switches;
	// OriginalSteps and OriginalSwitches the failing run's before it was
	// shrunk (equal to them when it was not).
	Steps, Switches                 int
	OriginalSteps, OriginalSwitches int
	// Interleaving is the shown run step by step; its Format prints it in
	// the style of OSTEP's simulators.
	Interleaving *program.Interleaving
	// Final is the shared variables after the shown run.
	Final map[string]any
	// Deadlock, Cycle and Explanation describe a deadlock of the shown run.
	Deadlock    bool
	Cycle       []string
	Explanation string
	// Failures counts the failing runs; for exhaustive, the failing
	// steps and final states it found (each state once: many
	// interleavings may lead to it; FailingInterleavings counts those).
	Failures int
	// States and Transitions are what exhaustive explored: distinct
	// states and the steps taken to explore them.
	States, Transitions int
	// Interleavings is the number of distinct interleavings of the
	// program (maximal runs, a failing step ending one), counted over the
	// explored state graph before reduction; nil unless an unsharded
	// exhaustive search completed on an acyclic state graph. Cyclic says
	// the graph has a cycle (a spin): there are infinitely many.
	Interleavings *big.Int
	Cyclic        bool
	// FailingInterleavings counts those of Interleavings that fail.
	FailingInterleavings *big.Int
	// PCTBound is PCT's guarantee for one run: a bug of depth Depth is
	// found with probability at least 1/(n·k^(d−1)), n threads, k steps
	// with a choice (PCTSteps, from the probe run).
	PCTBound float64
	PCTSteps int
	// Threads are the program's threads and the OS threads that ran them.
	Threads []engine.Thread
	// Note says what a person should know about how the shown run was
	// made: a replay that went on past its schedule, a shard with no runs.
	Note    string
	Runtime time.Duration
}

// Fields is the outcome as the program action's result: the names of the
// documented result fields, and a few more (states, transitions,
// interleavings, pct_bound, original_switches, note).
func (o *Outcome) Fields() map[string]any {
	names := make([]string, len(o.Threads))
	for i, t := range o.Threads {
		names[i] = t.Name
	}
	cycle := o.Cycle
	if cycle == nil {
		cycle = []string{}
	}
	final := o.Final
	if final == nil {
		final = map[string]any{}
	}
	failure := ""
	if o.Failure != nil {
		failure = o.Failure.Error()
	}
	interleaving := ""
	if o.Interleaving != nil {
		interleaving = o.Interleaving.Format()
	}
	f := map[string]any{
		"ok":                o.OK,
		"verdict":           string(o.Verdict),
		"failure":           failure,
		"schedule":          o.ScheduleText,
		"run":               o.Run,
		"runs":              o.Runs,
		"complete":          o.Complete,
		"steps":             o.Steps,
		"switches":          o.Switches,
		"original_switches": o.OriginalSwitches,
		"interleaving":      interleaving,
		"final":             final,
		"deadlock":          o.Deadlock,
		"cycle":             cycle,
		"explanation":       o.Explanation,
		"failures":          o.Failures,
		"threads":           names,
		"runtime":           o.Runtime,
		"states":            o.States,
		"transitions":       o.Transitions,
		"pct_bound":         o.PCTBound,
		"note":              o.Note,
	}
	if o.Interleavings != nil {
		f["interleavings"] = number(o.Interleavings)
		f["failing_interleavings"] = number(o.FailingInterleavings)
	}
	return f
}

// number is n as an int64 when it fits, else as its decimal text.
func number(n *big.Int) any {
	if n.IsInt64() {
		return n.Int64()
	}
	return n.String()
}
