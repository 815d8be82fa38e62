package actions

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/picture"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// The programs: section and the program action that runs its programs:
// synchronization code a student writes in the scenario (the language is
// package program's), run on real OS threads, free (scheduler: os, package
// freerun) or one at a time under a controlled scheduler.

// ProgramsKey is the top-level key of the scenario's programs.
const ProgramsKey = "programs"

// ChecksKept is in the message of every load error that refuses a
// student's change to a lab's checks (pmrun grade tells those apart).
const ChecksKept = program.WhyKept

func init() {
	registerSection(&Section{
		Key:      ProgramsKey,
		Doc:      "Programs: synchronization code the program action runs on real OS threads.",
		Declares: ProgramRef,
		Load:     loadPrograms,
		Schema:   program.Schema,
		Overlay:  overlayPrograms,
	})
	register(&Spec{
		Name: "program",
		Summary: "Runs a program of the programs: section on real, kernel-named OS threads and checks it (invariants, expect, mutual exclusion, misuse, deadlock). " +
			"A failure found is the result (ok: false), not a failed step, with the schedule that replays it.",
		Params: []Param{
			{Name: "run", Kind: String, Required: true, Ref: ProgramRef, Doc: "the program to run, by its name under programs:"},
			{Name: "scheduler", Kind: String, Default: control.DefaultScheduler, Enum: control.Schedulers(), Doc: control.SchedulersDoc()},
			{Name: "runs", Kind: Int, Default: 100, Min: intp(1), Max: intp(maxRuns), Doc: "how many runs (random, pct, os; bounded: the runs after which it stops, incomplete, no limit unless set; exhaustive searches states, not runs, and does not use it)"},
			{Name: "depth", Kind: Int, Default: 3, Min: intp(1), Max: intp(64), Doc: "pct: the depth of the bugs it looks for (depth-1 priority change points a run)"},
			{Name: "preemptions", Kind: Int, Default: control.DefaultPreemptions, Min: intp(0), Max: intp(maxPreemptions),
				Doc: "bounded: the most preemptions a run may take (a preemption: a switch away from a thread that could go on); it makes every run with none, then every run with one, … up to this, and stops after the bound that found a failure"},
			{Name: "replay", Kind: String, Doc: "a schedule (pmrun1:…) to run exactly, on real threads, instead of searching; --replay on the command line sets it for the steps of its program"},
			{Name: "max_steps", Kind: Int, Default: program.DefaultMaxSteps, Min: intp(1), Max: intp(maxSteps), Doc: "a run that takes more steps ends with verdict max_steps (a spin, a livelock)"},
			{Name: "max_states", Kind: Int, Default: control.DefaultMaxStates, Min: intp(1), Max: intp(maxStates),
				Doc: "exhaustive: the distinct states it may visit; a search that reaches it stops, incomplete"},
			{Name: "max_memory", Kind: Size, Default: int(control.DefaultMaxBytes), Min: intp(1 << 20), Max: intp(maxMemory),
				Doc: "exhaustive: the memory it may keep (the states seen, the state graph, the states to expand; 25 to 75 bytes a state at the peak), e.g. 4GiB; a search that reaches it stops, incomplete"},
			{Name: "bitstate", Kind: Size, Default: 0, Min: intp(0), Max: intp(maxMemory),
				Doc: "exhaustive: search with bitstate hashing (supertrace) in a bit array of this size, e.g. 512MiB: three bits a state instead of the state, so spaces far beyond max_memory fit, but states may be missed; never complete, never a proof (the note gives the hash factor and the expected coverage); 0: off"},
			{Name: "symmetry", Kind: Bool, Default: true,
				Doc: "exhaustive: a symmetry reduction, on unless false: threads that run the same code (declared with count, whose body does not read self; or whose bodies are written alike, by a YAML alias or out again) are interchangeable, and so are the threads of a count: N declaration that name elements of arrays of N by self (fork[self], fork[(self + 1) % N]: dining philosophers) when rotating threads and elements together maps each one's code to the next's and changes nothing else; the search keeps one state of those that differ only by such a permutation (fewer states; the failure shown is still a real run of the fewest steps). Found when the program loads, conservatively: a step that reads self as a value, or another thread or a check that names one element, means no rotation; a program without any searches as with false. Interleavings are counted only without it (false, or a program without symmetry); a livelock found is shown by a search without it; ignored with bitstate and with dpor"},
			{Name: "dpor", Kind: Bool, Default: false,
				Doc: "exhaustive: a stateless search with a dynamic partial-order reduction (source sets and sleep sets): it walks runs instead of keeping states, and tries another order of two steps only where they race (one writes what the other reads or writes: a variable, semaphore, mutex, condition or region; a failing step races with every step). Little memory, and few runs when the threads mostly touch different objects; many more when they all touch the same ones. A program whose runs need not end (a run that comes back to a state it was in, or takes more than max_steps) is searched by state hashing instead, and the note says so; states counts the states of the runs walked; no interleaving count; not with bitstate or symmetry"},
			{Name: "allow_incomplete", Kind: Bool, Default: false,
				Doc: "accept a search that stopped before it did all it was asked (max_states, max_memory, bitstate, runs, time) and found no failure: the step passes with verdict incomplete; without it such a step fails, since it proves nothing"},
			{Name: "shrink", Kind: Bool, Default: true, Doc: "shrink a failing schedule to fewer context switches before showing it"},
			{Name: "work", Kind: Duration, Doc: "os: real time each thread spends after each of its visible steps, so that the others take steps in between (widens race windows)"},
			{Name: "jitter", Kind: Duration, Doc: "os: a random pause below this before each visible step, drawn from the run's seed"},
			{Name: "detect", Kind: Duration, Doc: "os: fail the step when no thread has taken a step for this long (threads in long work); 0: wait as long as the step's timeout allows"},
			{Name: "trace", Kind: Bool, Default: false, Doc: "log a program_step event for every visible operation (thread, operation, line, what it changed), and the threads' waits, for the timeline"},
		},
		Results: fieldsOf[programResult](),
		Check:   checkProgram,
		Events:  programEvents,
		Note:    programNote,
		Found:   programFound,
		New:     newProgram,
	})
}

const (
	maxRuns   = 10_000_000
	maxSteps  = 1 << 24
	maxStates = 1 << 30
	maxMemory = 1 << 40
	// maxPreemptions bounds bounded's preemptions: the runs with a few
	// are already more than a search can make in a long program.
	maxPreemptions = 16
)

// programResult is what the runs found. It shows one run: the first that
// failed, or else the last.
type programResult struct {
	OK           bool           `result:"ok" doc:"the verdict is pass: no run failed and the search did all it was asked"`
	Verdict      string         `result:"verdict" doc:"the shown run's failure: assert, expect, invariant, mutual_exclusion, misuse, deadlock, max_steps or starvation (a thread that never makes progress again: see the op progress); else pass, or incomplete for a search that stopped before it did all it was asked (max_states, runs, time), which proves nothing"`
	Failure      string         `result:"failure" doc:"what broke, where and by whom: FILE:LINE:COL: message; empty on a pass"`
	Schedule     string         `result:"schedule" doc:"the shown run's interleaving as one line (pmrun1:PROGRAM:HASH:STEPS), which replay: or --replay runs again exactly"`
	Replay       string         `result:"replay" doc:"the command line that replays the shown failure; empty on a pass"`
	Run          int            `result:"run" doc:"the number of the shown run, from 0 (for a failure shrunk, the run that found it: steps, switches, schedule, interleaving and final are then the shrunk run's, original_steps and original_switches the run's own); -1 for a replay, or when no run was made"`
	Runs         int            `result:"runs" doc:"how many runs were made"`
	Complete     bool           `result:"complete" doc:"every run asked for was made (exhaustive: every reachable state was explored); when false, note says why"`
	Steps        int            `result:"steps" doc:"the shown run's visible steps"`
	Switches     int            `result:"switches" doc:"the shown run's context switches: steps taken by another thread than the step before"`
	Interleaving string         `result:"interleaving" doc:"the shown run step by step: the shared values after each step and a column per thread (OSTEP's style), the failure at the bottom"`
	Final        map[string]any `result:"final" doc:"the shared variables after the shown run, by name"`
	Deadlock     bool           `result:"deadlock" doc:"the shown run deadlocked: no thread could take a step, some had not finished"`
	Cycle        []string       `result:"cycle" doc:"a deadlock's circular wait: thread, what it waits for, the thread that could release it, …, back to the first"`
	Explanation  string         `result:"explanation" doc:"a deadlock's explanation: every blocked thread, what it waits on, who could release it"`
	Failures     int            `result:"failures" doc:"how many runs failed"`
	Threads      []string       `result:"threads" doc:"the program's threads, each a real OS thread of that name"`
	Runtime      time.Duration  `result:"runtime" doc:"how long the runs took"`
	// What the controlled schedulers add.
	OriginalSteps    int     `result:"original_steps" doc:"the shown failure's steps before it was shrunk: the steps of run run"`
	OriginalSwitches int     `result:"original_switches" doc:"the shown failure's context switches before it was shrunk"`
	Bound            int     `result:"bound" doc:"bounded: every run with at most this many preemptions was made (-1: not even every run with none); 0 under the other schedulers"`
	PCTBound         float64 `result:"pct_bound" doc:"pct: the chance that one run finds a bug of the depth asked for, at least (1/(n·k^(d−1)), n threads, k steps with a choice); 0 under the other schedulers"`
	States           int     `result:"states" doc:"exhaustive: the distinct states explored (with dpor: the states of the runs walked, a state on two runs counted twice)"`
	Interleavings    int64   `result:"interleavings" doc:"exhaustive, complete, without a spin: how many distinct interleavings the program has (before reduction; saturates at 2^63-1); 0 when not counted (symmetry: false counts them in a program with alike threads)"`
	Note             string  `result:"note" doc:"what to know about how the shown run was made (a replay that went on past its schedule), why a search stopped before it finished, or, for a pass of a search that only sampled the runs (random, pct, os, bounded short of every run), that it is not a proof and what would be; random and pct cut the runs of a program with progress steps at max_steps and say so (only exhaustive judges starvation)"`
}

type programStep struct {
	name, scheduler, replay          string
	runs, depth, maxSteps, maxStates int
	maxMemory, bitstate              int64
	symmetry, dpor                   bool
	preemptions                      int
	runsSet, shrink, trace           bool
	allowIncomplete                  bool
	work, jitter, detect             time.Duration
}

func newProgram(a Args) (Action, error) {
	return &programStep{
		name: a.String("run"), scheduler: a.String("scheduler"), replay: a.String("replay"),
		runs: a.Int("runs"), runsSet: a.Has("runs"), depth: a.Int("depth"), preemptions: a.Int("preemptions"), maxSteps: a.Int("max_steps"), maxStates: a.Int("max_states"),
		maxMemory: int64(a.Int("max_memory")), bitstate: int64(a.Int("bitstate")),
		shrink: a.Bool("shrink"), trace: a.Bool("trace"), allowIncomplete: a.Bool("allow_incomplete"), symmetry: a.Bool("symmetry") && !a.Bool("dpor"), dpor: a.Bool("dpor"),
		work: a.Duration("work"), jitter: a.Duration("jitter"), detect: a.Duration("detect"),
	}, nil
}

// checkProgram checks at load what the literal parameters allow: the
// options only a free run uses, and that a literal schedule parses and
// was made for this program as it is now.
func checkProgram(s Static) []error {
	var errs []error
	if s.Has("scheduler") {
		if st, err := control.For(control.Options{Scheduler: s.String("scheduler")}); err == nil {
			var opts control.Options
			for name, d := range map[string]*time.Duration{"work": &opts.Work, "jitter": &opts.Jitter, "detect": &opts.Detect} {
				if s.Set(name) {
					*d = 1 // given: the strategy says whether it takes it
				}
			}
			var p *program.Program
			if !s.Has("replay") { // a replay does not search
				p = staticProgram(s)
			}
			for _, e := range st.Check(p, opts) {
				errs = append(errs, Paramf(e.Option, "%s", e.Msg))
			}
		}
	}
	// Symmetry is on unless set false; a DPOR search goes without it.
	if s.Bool("dpor") && (s.Has("symmetry") && s.Bool("symmetry") || s.Int("bitstate") > 0) {
		errs = append(errs, Paramf("dpor", "a DPOR search takes neither symmetry nor bitstate: choose one"))
	}
	if !s.Has("replay") {
		return errs
	}
	sc, err := schedule.Parse(s.String("replay"))
	if err != nil {
		return append(errs, Paramf("replay", "%v", err))
	}
	if p := staticProgram(s); p != nil {
		if err := sc.Check(p.Name(), p.TextHash()); err != nil {
			errs = append(errs, Paramf("replay", "%v", err))
		}
	}
	return errs
}

// staticProgram is the program a step runs, when the loader knows it;
// nil otherwise.
func staticProgram(s Static) *program.Program {
	if !s.Has("run") || s.Section == nil {
		return nil
	}
	set, _ := s.Section(ProgramsKey).(*program.Set)
	if set == nil {
		return nil
	}
	p, _ := set.Program(s.String("run"))
	return p
}

// loadPrograms reads the programs: section. Its names are the mapping's
// keys, declared even when a program has errors, so that a step's run: is
// not reported as well.
func loadPrograms(n *yaml.Node) (any, []SectionName, []SectionError) {
	var names []SectionName
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode {
				names = append(names, SectionName{Name: k.Value, Line: k.Line, Col: k.Column})
			}
		}
	}
	set, err := program.Load(n)
	if err == nil {
		return set, names, nil
	}
	var errs []SectionError
	var list program.Errors
	if errors.As(err, &list) {
		for _, e := range list {
			errs = append(errs, SectionError{Line: e.Line, Col: e.Col, Msg: e.Msg})
		}
	} else {
		errs = append(errs, SectionError{Line: n.Line, Col: n.Column, Msg: err.Error()})
	}
	return nil, names, errs
}

// overlayPrograms puts the programs of a student's file in place of the
// lab's programs of the same names (see [program.Set.Overlay]).
func overlayPrograms(base any, file string, n *yaml.Node, want []string) (any, []SectionError) {
	set, _ := base.(*program.Set)
	if set == nil {
		return nil, []SectionError{{Line: n.Line, Col: n.Column, Msg: "the lab's programs did not load"}}
	}
	out, errs := set.Overlay(file, n, want)
	if errs == nil {
		return out, nil
	}
	list := make([]SectionError, len(errs))
	for i, e := range errs {
		list[i] = SectionError{Line: e.Line, Col: e.Col, Msg: e.Msg}
	}
	return nil, list
}

// ScheduleProgram returns the program that text, a schedule (the
// --replay flag's value), was made for, or why it is not a schedule pmrun
// can replay.
func ScheduleProgram(text string) (string, error) {
	sc, err := schedule.Parse(text)
	return sc.Program, err
}

func (s *programStep) Run(ctx context.Context, env *Env) (Result, error) {
	set, _ := env.Host.Section(ProgramsKey).(*program.Set)
	if set == nil {
		return nil, fmt.Errorf("program: the scenario has no programs: section")
	}
	p, err := set.Program(s.name)
	if err != nil {
		return nil, fmt.Errorf("program: %w", err)
	}
	replay, err := s.replayFor(p, programOptions(env).Schedules)
	if err != nil {
		return nil, err
	}
	opts := control.Options{
		Scheduler: s.scheduler, Replay: replay, Depth: s.depth, Preemptions: s.preemptions, Seed: uint64(env.Seed()),
		MaxSteps: s.maxSteps, MaxStates: s.maxStates, MaxBytes: s.maxMemory, Bitstate: s.bitstate, Symmetry: s.symmetry, DPOR: s.dpor, Shrink: s.shrink,
		Work: s.work, Jitter: s.jitter, Detect: s.detect,
	}
	if s.runsSet {
		opts.Runs = s.runs // else the scheduler's own: 100 runs, or every path
	}
	po := programOptions(env)
	if sh := po.SearchShard; sh.Count > 1 {
		opts.Shard = control.Shard{Index: sh.Index, Count: sh.Count}
	}
	file, rerun := env.Host.File(), hostOf(env).Rerun()
	if po.Terminal != nil {
		opts.Player = po.Terminal.player(programFile(file, p), programReplay(file, rerun, p))
	}
	strategy, err := control.For(opts)
	if err != nil {
		return nil, fmt.Errorf("program %s: %w", p.Name(), err)
	}
	tr := newProgramTracer(env, p, strategy.Name(), s.trace)
	opts.OnRun = tr.onRun
	opts.Explored = tr.explored
	if s.trace {
		opts.Trace = tr.onStep
	}
	out, err := control.Run(ctx, control.ProgramSystem(p), opts)
	tr.searched(out)
	if err != nil {
		err = fmt.Errorf("program %s: %w", p.Name(), err)
	}
	res := programResultOf(file, rerun, p, out)
	tr.found(out, res)
	tr.showPicture(s.picture(env.Host.File(), p, out, res), out.Run)
	if err == nil && out.Verdict == program.Incomplete && !s.allowIncomplete {
		err = &IncompleteError{Program: p.Name(), Why: out.Note}
	}
	return resultOf(res), err
}

// IncompleteError is a program step whose search stopped before it did
// all it was asked and found no failure: it proves nothing, so the step
// fails unless allow_incomplete says that is enough.
type IncompleteError struct {
	Program string
	Why     string // why it stopped, and what would let it finish
}

func (e *IncompleteError) Error() string {
	return fmt.Sprintf("program %s: not a pass: %s; no failure was found, but a search or a game that did not finish proves nothing (verdict incomplete; allow_incomplete: true accepts it)", e.Program, e.Why)
}

// replayFor is the schedule the step replays: its replay parameter, else
// the first schedule of the command line made for its program.
func (s *programStep) replayFor(p *program.Program, given []string) (*schedule.Schedule, error) {
	if s.replay != "" {
		sc, err := schedule.Parse(s.replay)
		if err != nil {
			return nil, fmt.Errorf("program: replay: %w", err)
		}
		return &sc, nil
	}
	for _, text := range given {
		if sc, err := schedule.Parse(text); err == nil && sc.Program == p.Name() {
			return &sc, nil
		}
	}
	return nil, nil
}

// programResultOf is what the scheduler found, as the step's result;
// rerun are the arguments that run the scenario file again ([Host.Rerun]).
func programResultOf(file string, rerun []string, p *program.Program, o engine.Outcome) programResult {
	r := programResult{
		OK: o.OK, Verdict: string(o.Verdict), Run: o.Run, Runs: o.Runs, Complete: o.Complete,
		Schedule: o.ScheduleText, Steps: o.Steps, Switches: o.Switches, Final: o.Final, Failures: o.Failures,
		Threads: p.Threads(), Runtime: o.Runtime,
		Deadlock: o.Deadlock, Cycle: o.Cycle, Explanation: o.Explanation,
		OriginalSteps: o.OriginalSteps, OriginalSwitches: o.OriginalSwitches, Bound: o.Bound, PCTBound: o.PCTBound, States: o.States, Note: o.Note,
	}
	if n := o.Interleavings; n != nil {
		r.Interleavings = math.MaxInt64
		if n.IsInt64() {
			r.Interleavings = n.Int64()
		}
	}
	if r.Verdict == "" {
		r.Verdict = string(program.Pass)
	}
	if r.Final == nil {
		r.Final = map[string]any{}
	}
	if o.Interleaving != nil {
		r.Interleaving = o.Interleaving.Format()
	}
	if f := o.Failure; f != nil {
		r.Failure = failureText(programFile(file, p), f)
		r.Replay = programReplay(file, rerun, p)(r.Schedule)
	}
	return r
}

// programReplay is what writes the command line that replays a schedule
// of p: pmrun run with rerun, or pmrun grade for a student's program.
func programReplay(file string, rerun []string, p *program.Program) func(sched string) string {
	if p.File() != "" {
		return func(sched string) string { return gradeReplayCommand(file, p.File(), sched) }
	}
	return func(sched string) string { return replayCommand(rerun, sched) }
}

// programFile is the file p was read from: the scenario's, or a student's
// (see [Section.Overlay]).
func programFile(scenario string, p *program.Program) string {
	if f := p.File(); f != "" {
		return f
	}
	return scenario
}

// failureText says what broke and where, FILE:LINE:COL: message; the
// message names the thread and the verdict is a field of its own.
func failureText(file string, f *program.Failure) string {
	at := f.Pos.String()
	if file != "" {
		at = file + ":" + at
	}
	return at + ": " + f.Msg
}

// replayCommand is the command line that replays schedule: pmrun run with
// rerun, the arguments that run the scenario again as this run did
// ([Host.Rerun]: the file, its --var values, its seed), and the schedule.
func replayCommand(rerun []string, sched string) string { return picture.ReplayCommand(rerun, sched) }

// gradeReplayCommand is the command line that replays schedule on a
// student's program in the lab.
func gradeReplayCommand(lab, student, sched string) string {
	if sched == "" {
		return ""
	}
	return "pmrun grade " + picture.ShellQuote(lab) + " " + picture.ShellQuote(student) + " --replay " + sched
}

// resultFields reads a result's fields as text.
type resultFields Result

// Str is the field as text; "" when there is none.
func (r resultFields) Str(name string) string {
	v, ok := r[name]
	if !ok {
		return ""
	}
	return fmt.Sprint(v)
}

// programNote is what the console prints under a program step that found
// a failure: which, and how to replay it; under one whose search did not
// finish, allowed by allow_incomplete: why; under a pass, its note (a
// search that sampled the runs: not a proof).
func programNote(r Result) []string {
	if ok, _ := r["ok"].(bool); ok {
		if note, _ := r["note"].(string); note != "" && r["verdict"] == string(program.Pass) {
			return []string{"note: " + note} // a pass that is not a proof says so
		}
		return nil
	}
	if r["verdict"] == string(program.Incomplete) {
		return []string{fmt.Sprintf("incomplete, allowed by allow_incomplete: %v", r["note"])}
	}
	f, _ := r["failure"].(string)
	if f == "" {
		return nil
	}
	where := fmt.Sprintf("in run %v (%v of %v runs failed)", r["run"], r["failures"], r["runs"])
	run, _ := r["run"].(int)
	states, _ := r["states"].(int)
	switch {
	case run < 0:
		where = "in the replay"
	case states > 0: // a search of states, not runs
		where = fmt.Sprintf("in %v steps (%v failing among %v states)", r["steps"], r["failures"], states)
	}
	if shrunk := shrunkText(resultFields(r)); shrunk != "" {
		where += ", " + shrunk // the values shown are the shrunk run's, not run r["run"]'s own
	}
	lines := []string{fmt.Sprintf("found %v %s: %s", r["verdict"], where, f)}
	if ex, _ := r["explanation"].(string); ex != "" && !strings.Contains(f, ex) {
		lines = append(lines, ex)
	}
	if cmd, _ := r["replay"].(string); cmd != "" {
		lines = append(lines, "replay: "+printableReplay(cmd, resultFields(r).Str("schedule")))
	}
	return lines
}

// printableReplay is cmd, the command line that replays sched, as a
// console shows it: whole, or, for a schedule too long to print (a run
// of thousands of steps), where to find the schedule and the command
// that reads it from a file.
func printableReplay(cmd, sched string) string {
	if _, ok := schedule.Printable(sched); ok {
		return cmd
	}
	prefix := cmd
	if i := strings.LastIndex(cmd, " --replay "); i >= 0 {
		prefix = cmd[:i]
	}
	return fmt.Sprintf("the schedule is %d bytes, too long to print; the step's result holds it (schedule), as does the log: "+
		"write it to a file and run %s --replay @FILE", len(sched), prefix)
}
