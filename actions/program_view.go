package actions

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/picture"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// The run a program step shows, laid out to be drawn (package view): the
// report draws it below the step, a lane per thread with its code, the
// steps in order with the values after each, the broken rule, a
// deadlock's wait-for graph and the search as numbers. program.go runs
// the programs, program_events.go logs what their threads did; this file
// makes the picture and the words that say what a step found.

// programShown is the event that carries a program step's picture; -v
// prints a search's numbers from it, in one line.
var programShown = &Event{Name: "program_shown", Row: stepsRow, View: "view", Console: searchLine}

// maxSource bounds the scenario file read again for a picture's code.
const maxSource = 16 << 20

// picture lays out the run the step shows, with the search's numbers;
// o.How says how it was made. A schedule that does not fit the program
// (it cannot happen: the run was made on it) leaves the steps out and
// says why.
func (s *programStep) picture(file string, p *program.Program, o engine.Outcome, r programResult) *view.Run {
	src := readSource(file)
	var v *view.Run
	if o.ScheduleText != "" {
		var err error
		v, err = picture.Of(p, o.Schedule.Steps, src, file, o.Failure)
		if err != nil {
			v = nil
			r.Note = strings.TrimSpace(r.Note + " " + err.Error())
		}
	}
	if v == nil {
		v = &view.Run{Program: p.Name(), File: file, Verdict: r.Verdict, Failure: r.Failure, Threads: picture.Threads(p, src)}
		v.Shared = []view.Shared{}
		if f := o.Failure; f != nil {
			v.Rule, v.Line = picture.Rule(f), f.Pos.Line
		}
	}
	if o.Failure == nil {
		v.Verdict = r.Verdict // pass, or incomplete: a search that proves nothing
	}
	how := o.How
	v.Kind, v.Schedule, v.Replay, v.Note = how.Kind, r.Schedule, r.Replay, r.Note
	if args, ok := strings.CutPrefix(r.Replay, "pmrun run "); ok {
		v.Play = "pmrun play " + args // pmrun play takes run's file, --var, --seed and --replay
	}
	if how.Kind == engine.KindSearch || how.Kind == engine.KindFree && r.Runs > 1 {
		v.Search = s.searchOf(how, r)
	}
	return v
}

// searchOf is what the search did, as numbers.
func (s *programStep) searchOf(how engine.How, r programResult) *view.Search {
	sr := &view.Search{
		Scheduler: how.Scheduler, Unit: how.Unit, Proof: how.Proof, Free: how.Kind == engine.KindFree,
		Runs: r.Runs, Failures: r.Failures, States: r.States, Complete: r.Complete,
		Interleavings: r.Interleavings, Runtime: roundDuration(r.Runtime),
		Limit: how.Asked, LimitReached: !r.Complete && how.Asked > 0 && r.Runs >= how.Asked,
	}
	if how.Bounded {
		sr.Bounded, sr.Bound = true, r.Bound
	}
	if r.PCTBound > 0 {
		sr.PCTBound, sr.Depth = r.PCTBound, s.depth
		sr.Chance = -math.Expm1(float64(r.Runs) * math.Log1p(-r.PCTBound))
	}
	return sr
}

// readSource reads the scenario file again for the code a picture shows;
// nil when it cannot (the picture then writes the operations out).
func readSource(file string) []byte {
	if file == "" {
		return nil
	}
	f, err := os.Open(file)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSource+1))
	if err != nil || len(b) > maxSource {
		return nil
	}
	return b
}

// roundDuration writes d with about three significant digits.
func roundDuration(d time.Duration) string {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

// searchLine is -v's line for a search: its numbers; none for a replay or
// a game, whose interleaving schedule_found prints.
func searchLine(o Occurrence) string {
	v, _ := o.Fields.Get("view").(*view.Run)
	if v == nil || v.Search == nil {
		return ""
	}
	return v.Program + ": " + searchSummary(v.Search)
}

// searchSummary says what a search did in one line: "exhaustive search:
// 85 paths, 16 failed, 69 states, complete in 19.5ms".
func searchSummary(s *view.Search) string {
	what := s.Unit + "s"
	parts := []string{fmt.Sprintf("%d %s", s.Runs, what), fmt.Sprintf("%d failed", s.Failures)}
	if s.States > 0 {
		parts = append(parts, fmt.Sprintf("%d states", s.States))
	}
	switch {
	case s.LimitReached:
		parts = append(parts, fmt.Sprintf("stopped at its limit of %d %s, not complete", s.Limit, what))
	case s.Complete && s.Proof:
		parts = append(parts, "complete")
	case !s.Complete && !s.Free:
		parts = append(parts, "not complete")
	}
	if s.PCTBound > 0 {
		parts = append(parts, fmt.Sprintf("pct_bound %.3g a run, %.3g over the runs", s.PCTBound, s.Chance))
	}
	if s.Bounded {
		if s.Bound < 0 {
			parts = append(parts, "not every run with no preemption made")
		} else {
			parts = append(parts, "every run with up to "+preemptionsText(s.Bound)+" made")
		}
	}
	line := s.Scheduler + " search: " + strings.Join(parts, ", ")
	if s.Free {
		line = "free runs (scheduler: " + s.Scheduler + "): " + strings.Join(parts, ", ")
	}
	if s.Runtime != "" {
		line += " in " + s.Runtime
	}
	return line
}

// programFound is what a program step that went well found: the verdict
// of a failing run.
func programFound(r Result) string {
	if ok, _ := r["ok"].(bool); ok {
		return ""
	}
	if f, _ := r["failure"].(string); f == "" {
		return ""
	}
	v, _ := r["verdict"].(string)
	return v
}

// showPicture logs the step's picture.
func (t *programTracer) showPicture(v *view.Run, run int) {
	t.env.Event(programShown.Name, "program run shown", "program", t.p.Name(), "run", run, "verdict", v.Verdict, "view", v)
}

// preemptionsText is "1 preemption", "2 preemptions".
func preemptionsText(n int) string {
	if n == 1 {
		return "1 preemption"
	}
	return fmt.Sprintf("%d preemptions", n)
}
