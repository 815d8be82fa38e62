// Package view is how pmrun shows one run of a program's threads to a
// person: the run as data ([Run]: each thread's code, the steps in order,
// the shared values after each, the broken rule, a deadlock's wait-for
// graph, the search that found it) and the script and style sheet that
// draw it in a browser ([Script], [Style]). The HTML report draws the run a
// program step shows; `pmrun play` draws the game's run the same way.
//
// The package is a leaf: it imports nothing of pmrun, so that both the
// report (package runner/report) and the actions' own pages can use it.
package view

import (
	_ "embed"
)

// Run is one run of a program, laid out to be drawn: a lane per thread
// with its code, the steps numbered in order across the lanes, the shared
// values after each step. It travels as JSON (in the event log, in the
// report's page, from pmrun play's server), so its field names are its
// contract with the script.
type Run struct {
	// Program is the program's name; File the scenario file it is in.
	Program string `json:"program"`
	File    string `json:"file,omitempty"`
	// Kind says how the run was made: search (the run a search shows: the
	// failure it found, shrunk, or its last run), replay, manual (a game),
	// free (scheduler: os, as the kernel interleaved it).
	Kind string `json:"kind"`
	// Verdict is pass or what broke: assert, expect, invariant,
	// mutual_exclusion, misuse, deadlock, max_steps; or incomplete, a
	// search that stopped before it finished and found nothing.
	Verdict string `json:"verdict"`
	// Failure says what broke, where and by whom (FILE:LINE:COL:
	// message); Rule is the broken rule in a few words and Line its line
	// in the file.
	Failure string `json:"failure,omitempty"`
	Rule    string `json:"rule,omitempty"`
	Line    int    `json:"line,omitempty"`
	// Explanation is a deadlock's whole explanation.
	Explanation string `json:"explanation,omitempty"`
	// Schedule is the run as one line, which --replay runs again;
	// Replay the command line that does it.
	Schedule string `json:"schedule,omitempty"`
	Replay   string `json:"replay,omitempty"`
	// Play is the command line that opens the run in pmrun play, to step
	// through in a browser; "" when play cannot open it (a student's
	// program graded, a run with no failure).
	Play    string   `json:"play,omitempty"`
	Threads []Thread `json:"threads"`
	// Shared are the variables, semaphores and mutexes, in that order;
	// a step's Values follow it.
	Shared []Shared `json:"shared"`
	Steps  []Step   `json:"steps"`
	// Skipped counts the steps left out before the first one kept: a run
	// that spun until max_steps keeps its end.
	Skipped int `json:"skipped,omitempty"`
	// Deadlock is the wait-for graph of a deadlocked run.
	Deadlock *Graph `json:"deadlock,omitempty"`
	// Search is what the search that made the run did; nil for a replay,
	// a game, a single free run.
	Search *Search `json:"search,omitempty"`
	// Note is what to know about how the run was made.
	Note string `json:"note,omitempty"`
}

// Thread is one thread and its code.
type Thread struct {
	Name string `json:"name"`
	// File is the source file Code is from when it is not the scenario
	// file: a C program's (from its debug information), a script's.
	File string `json:"file,omitempty"`
	// Key is the letter that stands for the thread in schedules and
	// games: a, b, c…
	Key string `json:"key"`
	// Code is the lines of the thread's body in the file (or, when the
	// file cannot be read as it was, the operations written out), by line
	// number; threads that share a body share lines.
	Code []Line `json:"code"`
}

// Line is a line of code: its number in the file and its text.
type Line struct {
	N    int    `json:"n"`
	Text string `json:"text"`
}

// Shared is a shared object of the program: a variable, a semaphore or a
// mutex; Initial is its value before the first step (a mutex's holder, ""
// when free).
type Shared struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"` // var, semaphore, mutex
	Initial string `json:"initial"`
}

// Step is one step of a run.
type Step struct {
	// N is the step's number, from 1, across every thread.
	N      int `json:"n"`
	Thread int `json:"thread"`
	// Line is the operation's line in the file; Op says what the step
	// did ("count = count + 1 (read)").
	Line int    `json:"line"`
	Op   string `json:"op"`
	// File is the source file of Line when it is not its thread's File
	// (a C call made in another file than most of its thread's).
	File string `json:"file,omitempty"`
	// Values are the shared objects' values after the step, in the order
	// of Run.Shared; Changed the indices of those the step changed.
	Values  []string `json:"values"`
	Changed []int    `json:"changed,omitempty"`
	// Blocked: the step left its thread waiting.
	Blocked bool `json:"blocked,omitempty"`
	// Failed: this step broke the rule.
	Failed bool   `json:"failed,omitempty"`
	Log    string `json:"log,omitempty"`
}

// Graph is a deadlock's wait-for graph: each thread, what it holds and
// what it waits for, and who could release that.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
	// Cycle is the circular wait, thread and object alternating, the
	// first thread repeated at the end; empty when there is none.
	Cycle []string `json:"cycle,omitempty"`
}

// Node is a thread of a wait-for graph.
type Node struct {
	Thread string `json:"thread"`
	// State is blocked, finished or ready.
	State string `json:"state"`
	// Holds are the mutexes it holds.
	Holds []string `json:"holds,omitempty"`
	// Waits is what a blocked thread waits for ("semaphore s"), at Line
	// doing Op.
	Waits string `json:"waits,omitempty"`
	Line  int    `json:"line,omitempty"`
	Op    string `json:"op,omitempty"`
}

// Edge says that thread From waits for Object, which thread To could
// release (a mutex's holder, a thread whose code signals it).
type Edge struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Object string `json:"object"`
	// Holder: To holds Object (a mutex); otherwise To's code could signal
	// it.
	Holder bool `json:"holder,omitempty"`
	// Cycle: the edge is part of the circular wait.
	Cycle bool `json:"cycle,omitempty"`
}

// Search is what a search did, as numbers.
type Search struct {
	Scheduler string `json:"scheduler"` // random, pct, exhaustive, os
	Runs      int    `json:"runs"`      // runs made (exhaustive: paths)
	// Unit is what one of Runs is: "run", or "path" (a search of the
	// state graph); Proof says a complete search visited every
	// interleaving; Free, that the runs were free threads' (the kernel
	// decided), whose completeness says nothing.
	Unit     string `json:"unit"`
	Proof    bool   `json:"proof,omitempty"`
	Free     bool   `json:"free,omitempty"`
	Failures int    `json:"failures"`
	// States is what exhaustive explored.
	States int `json:"states,omitempty"`
	// Complete: every run asked for was made; exhaustive: every reachable
	// state was explored.
	Complete bool `json:"complete"`
	// Limit is the runs asked for (0 when it had no limit; exhaustive,
	// a search of states, has none); LimitReached says the search
	// stopped there.
	Limit        int  `json:"limit,omitempty"`
	LimitReached bool `json:"limit_reached,omitempty"`
	// PCTBound is PCT's chance to find a bug of Depth in one run, at
	// least; Chance the chance over all the runs made.
	PCTBound float64 `json:"pct_bound,omitempty"`
	Chance   float64 `json:"chance,omitempty"`
	Depth    int     `json:"depth,omitempty"`
	// Bounded says the runs were made by their preemptions, fewest
	// first: every run with at most Bound preemptions was made (-1: not
	// even every run with none).
	Bounded bool `json:"bounded,omitempty"`
	Bound   int  `json:"bound,omitempty"`
	// Interleavings counts the program's distinct interleavings (a
	// complete exhaustive search without a spin); 0 when not counted.
	Interleavings int64 `json:"interleavings,omitempty"`
	// Runtime is how long the search took, for people ("12.3ms").
	Runtime string `json:"runtime,omitempty"`
}

// Script is the JavaScript that draws runs (see the file's head for how a
// page gives it one), and Style its style sheet. Both work offline: they
// load nothing.
var (
	//go:embed view.js
	Script string
	//go:embed view.css
	Style string
)
