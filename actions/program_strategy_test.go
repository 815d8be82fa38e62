package actions_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// lowestFirst is a scheduler of this test's own: the lowest thread that
// can go on takes every step. It is written against package engine's
// interfaces alone, as a new strategy would be, and registered with
// control.Register; nothing else changes for a program step to use it.
type lowestFirst struct{}

func (lowestFirst) Name() string { return "lowest_first" }
func (lowestFirst) Doc() string  { return "the lowest thread that can go on, always" }

func (lowestFirst) Check(*program.Program, control.Options) []control.OptionError { return nil }

func (lowestFirst) Run(ctx context.Context, sys *control.System, opts control.Options) (engine.Outcome, error) {
	out := engine.Outcome{Run: -1, Verdict: program.Pass}
	th, err := sys.Threads()
	if err != nil {
		return out, err
	}
	d := &lowestDriver{th: th, trace: opts.Trace}
	if err := th.Drive(ctx, d, opts.Watchdog); err != nil {
		return out, err
	}
	if d.err != nil {
		return out, d.err
	}
	id := th.Identity()
	out.Run, out.Runs, out.Complete, out.Steps = 0, 1, true, len(d.steps)
	out.Schedule = schedule.Schedule{Program: id.Name, Hash: id.Hash, Steps: d.steps}
	out.ScheduleText = out.Schedule.String()
	out.Switches, out.OriginalSteps = schedule.Switches(d.steps), len(d.steps)
	out.OriginalSwitches = out.Switches
	out.Final, out.Failure, out.OK = d.run.Final(), d.failure, d.failure == nil
	if f := d.failure; f != nil {
		out.Verdict, out.Failures = f.Verdict, 1
		if f.Deadlock != nil {
			out.Deadlock, out.Cycle, out.Explanation = true, f.Deadlock.Cycle, f.Deadlock.Text
		}
	}
	if opts.OnRun != nil {
		opts.OnRun(engine.RunInfo{Run: 0, Verdict: out.Verdict, Failure: d.failure, Steps: out.Steps, Switches: out.Switches})
	}
	return out, nil
}

// lowestDriver makes one run, the lowest enabled thread at every step.
type lowestDriver struct {
	th      engine.Threads
	trace   func(engine.StepInfo)
	run     engine.Run
	enabled []int
	steps   []int
	failure *program.Failure
	over    bool
	err     error
}

func (d *lowestDriver) Next() int {
	if d.over {
		return -1
	}
	if d.run == nil {
		r, f, err := d.th.Start()
		if err != nil || f != nil {
			d.err, d.failure, d.over = err, f, true
			return -1
		}
		d.run = r
	}
	d.enabled = d.run.AppendEnabled(d.enabled[:0])
	if len(d.enabled) == 0 {
		d.failure, d.over = d.run.End(), true
		return -1
	}
	return d.enabled[0]
}

func (d *lowestDriver) Step(t int) {
	info, err := d.run.Step(t)
	if err != nil {
		d.err, d.over = err, true
		return
	}
	d.steps = append(d.steps, t)
	if d.trace != nil {
		d.trace(engine.StepInfo{Run: 0, Step: len(d.steps) - 1, Name: d.th.Names()[t], StepInfo: info})
	}
	if info.Failure != nil {
		d.failure, d.over = info.Failure, true
	}
}

// TestProgramWithARegisteredScheduler: a scheduler registered by a test
// is chosen by name like the built-in ones and runs a program step on the
// program's real threads; its result reads like theirs, and the schedule
// it found replays the same deadlock under the replay strategy.
func TestProgramWithARegisteredScheduler(t *testing.T) {
	control.Register(lowestFirst{})
	if !slices.Contains(control.Schedulers(), "lowest_first") {
		t.Fatalf("schedulers %v", control.Schedulers())
	}
	// The registry the loader checks steps against, with the program
	// action's scheduler: taking the new name (pmrun's own registry was
	// made with the schedulers of its start).
	reg := contract.NewRegistry()
	reg.Declare("pmrun", actions.Registry().Events()...)
	for _, s := range actions.Registry().Sections() {
		reg.RegisterSection(s)
	}
	for _, s := range actions.Registry().All() {
		if s.Name == "program" {
			c := *s
			c.Params = slices.Clone(s.Params)
			for i := range c.Params {
				if c.Params[i].Name == "scheduler" {
					c.Params[i].Enum = control.Schedulers()
				}
			}
			s = &c
		}
		reg.Register(s)
	}
	r := runNamed(t, t.Context(), "lowest.yaml", []byte(`name: lowest
programs:
  opposite:
    mutexes: [m1, m2]
    semaphores: {a_has: 0, b_has: 0}
    threads:
      A: [lock: m1, signal: a_has, wait: b_has, lock: m2, unlock: m2, unlock: m1]
      B: [lock: m2, signal: b_has, wait: a_has, lock: m1, unlock: m1, unlock: m2]
steps:
  - id: lowest
    program: {run: opposite, scheduler: lowest_first, trace: true}
  - assert: '!steps.lowest.ok && steps.lowest.verdict == "deadlock"'
  - id: again
    program: {run: opposite, replay: "${{ steps.lowest.schedule }}"}
  - assert: steps.again.verdict == "deadlock" && steps.again.explanation == steps.lowest.explanation
`), withRegistry(reg), withSeed(1))
	mustPass(t, r)
	res := r.step(t, "lowest").Result
	if !strings.HasSuffix(res["schedule"].(string), ":a2b2ab") || res["threads"] == nil {
		t.Errorf("schedule %v, threads %v: want the lowest thread first, a2b2ab", res["schedule"], res["threads"])
	}
	starts := r.events(t, "program_start")
	if len(starts) == 0 || starts[0]["scheduler"] != "lowest_first" {
		t.Errorf("program_start events %v: want the scheduler's name", starts)
	}
	if steps := r.events(t, "program_step"); len(steps) != 6 {
		t.Errorf("%d program_step events, want the run's 6", len(steps))
	}
}
