package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
)

// realSteps are the steps of sc that run a real program under pmrun's
// scheduler: a C program (controlled) or processes at points (scripts).
// pmrun has no model of these to play; pmrun play shows the run such a
// step found instead.
func realSteps(sc *lang.Scenario) []*lang.Step {
	var out []*lang.Step
	for _, st := range sc.Steps {
		if st.Action == "controlled" || st.Action == "scripts" {
			out = append(out, st)
		}
	}
	return out
}

// stepCalled is the step of steps whose id or name is name, or nil.
func stepCalled(steps []*lang.Step, name string) *lang.Step {
	for _, st := range steps {
		if st.ID == name || st.Name == name {
			return st
		}
	}
	return nil
}

// errShown ends the run of a scenario's steps once the run to show is in.
var errShown = errors.New("pmrun play: the run to show is in")

// playShown is pmrun play of a file whose steps run real programs: it
// runs the file's steps, as pmrun run does, up to the step to show (the
// one called name, else the first controlled or scripts step; with
// --replay, the first whose run is of the schedule's binary or scripts),
// then serves that step's run as a page to step through.
func (c *cli) playShown(ctx context.Context, path string, sc *lang.Scenario, name string, f playFlags) error {
	steps := realSteps(sc)
	var (
		target   *lang.Step
		replayOf string // the program of the schedule to replay
		sched    []string
	)
	switch {
	case f.replay != "":
		text, err := readSchedule(f.replay)
		if err != nil {
			return usageErrorf("play: --replay %s: %v", f.replay, err)
		}
		if replayOf, err = actions.ScheduleProgram(text); err != nil {
			return usageErrorf("play: --replay: %v", err)
		}
		sched = []string{text}
	case name != "":
		if target = stepCalled(steps, name); target == nil {
			var ids []string
			for _, st := range steps {
				ids = append(ids, st.Label())
			}
			return usageErrorf("play: %s has no program and no controlled or scripts step called %q; its steps that run programs: %s", path, name, strings.Join(ids, ", "))
		}
	default:
		target = steps[0]
	}
	if target != nil {
		fmt.Fprintf(c.stdout, "pmrun play: running the steps of %s up to step %d (%s)…\n", path, target.Index+1, target.Label())
	} else {
		fmt.Fprintf(c.stdout, "pmrun play: running the steps of %s up to the first that replays %s…\n", path, replayOf)
	}

	// The steps run as pmrun run runs them, with no log file: the event
	// log is read for the run each step shows.
	var (
		mu    sync.Mutex
		views = map[int]*view.Run{}
	)
	events := runner.NewEventLog(io.Discard, hclog.Info)
	events.Tee(func(_ time.Time, _ hclog.Level, _ string, args []any) {
		step, v := -1, (*view.Run)(nil)
		for i := 0; i+1 < len(args); i += 2 {
			switch args[i] {
			case "step":
				step, _ = args[i+1].(int)
			case "view":
				v, _ = args[i+1].(*view.Run)
			}
		}
		if v != nil {
			mu.Lock()
			views[step] = v
			mu.Unlock()
		}
	})
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	rep := &shownReporter{stdout: c.stdout, pick: func(st *lang.Step) (*view.Run, bool) {
		mu.Lock()
		v := views[st.Index]
		mu.Unlock()
		switch {
		case v == nil:
			return nil, false
		case target != nil:
			return v, st == target
		default:
			return v, v.Program == replayOf
		}
	}, stop: stop}
	opt := runner.Options{RunID: newRunID(), Log: events, Reporter: rep,
		SectionOptions: map[string]any{actions.ProgramsKey: &actions.ProgramOptions{Schedules: sched}}}
	if f.seed != 0 {
		opt.Seed = &f.seed
	}
	out := runner.Run(runCtx, sc, opt)
	if ctx.Err() != nil {
		return nil // Ctrl-C before the run was in
	}
	if rep.shown == nil {
		what := "the first step that replays " + replayOf
		if target != nil {
			what = fmt.Sprintf("step %d (%s)", target.Index+1, target.Label())
		}
		if out.Err != nil {
			return fmt.Errorf("play: %s: the steps up to %s did not run through: %w", path, what, out.Err)
		}
		return fmt.Errorf("play: %s: its steps ended and %s showed no run", path, what)
	}
	again := []string{path}
	for _, v := range sc.VarArgs {
		again = append(again, "--var", v)
	}
	if name != "" {
		again = append(again, name)
	}
	return actions.PlayRun(ctx, rep.shown, actions.ShownOptions{Step: rep.step.Label(), Action: rep.step.Action, Again: again},
		actions.PlayOptions{File: path, Limit: f.timeout,
			Ready: func(url string) {
				fmt.Fprintf(c.stdout, "pmrun play: the run of %s that step %d (%s) showed: %s\n  %s\nOpen it in a browser; Ctrl-C ends pmrun play.\n",
					rep.shown.Program, rep.step.Index+1, rep.step.Label(), rep.shown.Verdict, url)
				if f.open {
					c.openBrowser(url)
				}
			},
			Say: func(format string, args ...any) { fmt.Fprintf(c.stdout, format+"\n", args...) },
		})
}

// shownReporter follows the steps pmrun play runs: it prints how each
// ended, and stops the run once the step to show has ended.
type shownReporter struct {
	stdout io.Writer
	pick   func(st *lang.Step) (*view.Run, bool)
	stop   context.CancelCauseFunc
	shown  *view.Run
	step   *lang.Step
}

func (r *shownReporter) ScenarioStart(*lang.Scenario, uint64) {}
func (r *shownReporter) ScenarioEnd(*lang.Outcome)            {}

func (r *shownReporter) StepEnd(_ *lang.Scenario, st *lang.Step, res *lang.StepResult) {
	fmt.Fprintf(r.stdout, "  %s: %s\n", st.Label(), res.Status)
	if r.shown != nil {
		return
	}
	if v, ok := r.pick(st); ok {
		r.shown, r.step = v, st
		r.stop(errShown)
	}
}
