// Package runner loads scenario files and runs their steps against the
// actions registry, reporting every step as structured log events.
package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
)

// Status of a step or scenario.
const (
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusSkipped     = "skipped"
	StatusPassed      = "passed"
	StatusInterrupted = "interrupted"
)

// Options configure how scenarios run.
type Options struct {
	RunID string
	// Seed overrides the scenario's seed (--seed).
	Seed *uint64
	// Timeout overrides the scenario's timeout (--timeout).
	Timeout time.Duration
	// Grace is how long cleanup waits between SIGTERM and SIGKILL.
	Grace time.Duration
	// Verbose adds detail to events (-v).
	Verbose bool
	// Log receives the JSON events; nil discards them.
	Log hclog.Logger
	// Reporter shows progress to people; nil shows nothing.
	Reporter Reporter
	// Hard is cancelled to abandon cleanup too (a second Ctrl-C); nil means
	// cleanup always runs to its own time limit.
	Hard context.Context
}

// Reporter shows a run to people as it happens.
type Reporter interface {
	ScenarioStart(sc *Scenario, seed uint64)
	StepEnd(sc *Scenario, st *Step, r *StepResult)
	ScenarioEnd(o *Outcome)
}

// StepResult is how one step ended.
type StepResult struct {
	Step     *Step
	Status   string
	Duration time.Duration
	Err      error
	Result   actions.Result
}

// Outcome is how one scenario ended.
type Outcome struct {
	Scenario *Scenario
	Status   string // passed, failed or interrupted
	Seed     uint64
	Started  time.Time
	Duration time.Duration
	Steps    []*StepResult
	// Err is the first failure: a step's error, a timeout or the
	// interruption.
	Err error
}

// Counts returns how many steps were ok, failed and skipped.
func (o *Outcome) Counts() (ok, failed, skipped int) {
	for _, s := range o.Steps {
		switch s.Status {
		case StatusOK:
			ok++
		case StatusFailed:
			failed++
		case StatusSkipped:
			skipped++
		}
	}
	return
}

// StepError is a step's failure, placed at the step in its file.
type StepError struct {
	Pos    Pos
	Label  string
	Err    error
	Status string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s: step %q: %v", e.Pos, e.Label, e.Err)
}
func (e *StepError) Unwrap() error { return e.Err }

// cleanupLimit bounds finally steps and cleanup after a scenario ends.
const cleanupLimit = time.Minute

// Run runs a scenario: its steps in order, then its finally steps, then the
// cleanup of everything it started. ctx's cancellation with cause
// [ErrInterrupted] interrupts it; finally and cleanup still run.
func Run(ctx context.Context, sc *Scenario, opt Options) *Outcome {
	x := newExecution(sc, opt)
	timeout := sc.Timeout
	if opt.Timeout > 0 {
		timeout = opt.Timeout
	}
	x.log.Info("scenario started", "event", "scenario_start", "file", sc.File, "seed", x.out.Seed, "steps", len(sc.Steps), "timeout", timeout.String())
	if opt.Reporter != nil {
		opt.Reporter.ScenarioStart(sc, x.out.Seed)
	}

	runCtx, cancel := context.WithTimeoutCause(ctx, timeout, &TimeoutError{What: "scenario " + sc.Name, Timeout: timeout.String()})
	bgCtx, cancelBG := context.WithCancelCause(runCtx)
	x.bgCtx = bgCtx
	if err := x.host.Open(runCtx); err != nil {
		x.fail(fmt.Errorf("setting up the run: %w", err))
	}
	for _, st := range sc.Steps {
		if x.out.Status != StatusPassed {
			break
		}
		if runCtx.Err() != nil {
			x.fail(context.Cause(runCtx))
			break
		}
		if st.Background {
			x.startBackground(st)
			continue
		}
		r := x.runStep(runCtx, st, true)
		if r.Status == StatusFailed && !st.ContinueOnError {
			x.fail(&StepError{Pos: st.Pos, Label: st.Label(), Err: r.Err})
			break
		}
	}
	if x.out.Status == StatusPassed {
		x.joinBackground(runCtx)
	} else {
		cancelBG(errors.New("scenario failed"))
		x.joinBackground(context.Background())
	}
	cancelBG(nil)
	cancel()

	// finally and cleanup run whatever happened, on a context that the
	// scenario's end does not cancel but a second Ctrl-C does.
	endCtx, endCancel := context.WithTimeout(x.hard, cleanupLimit)
	for _, st := range sc.Finally {
		if endCtx.Err() != nil {
			break // a second Ctrl-C, or cleanupLimit, abandons the rest
		}
		r := x.runStep(endCtx, st, true)
		if r.Status == StatusFailed && x.out.Err == nil {
			x.fail(&StepError{Pos: st.Pos, Label: st.Label(), Err: r.Err})
		}
	}
	x.finish(ctx, endCtx)
	endCancel()
	return x.out
}

// newExecution prepares a run of sc: its seed, its host of OS objects and
// its expression scope. Nothing is started and nothing logged yet.
func newExecution(sc *Scenario, opt Options) *execution {
	if opt.Log == nil {
		opt.Log = hclog.NewNullLogger()
	}
	if opt.Hard == nil {
		opt.Hard = context.Background()
	}
	seed := rand.Uint64() >> 1
	switch {
	case opt.Seed != nil:
		seed = *opt.Seed
	case sc.Seed != nil:
		seed = *sc.Seed
	}
	x := &execution{
		opt:  opt,
		sc:   sc,
		log:  opt.Log.With("run_id", opt.RunID, "scenario", sc.Name),
		out:  &Outcome{Scenario: sc, Seed: seed, Started: time.Now(), Status: StatusPassed},
		bg:   map[string]*background{},
		hard: opt.Hard,
	}
	channels := make([]actions.ChannelConfig, len(sc.Channels))
	for i, c := range sc.Channels {
		channels[i] = actions.ChannelConfig{Name: c.Name, Kind: c.Kind, Framing: c.Framing, MaxMessage: c.MaxMessage}
	}
	x.host = actions.NewHost(actions.HostConfig{
		RunID: opt.RunID, Scenario: sc.Name, Seed: seed, Grace: opt.Grace,
		Log: x.log, Verbose: opt.Verbose, Channels: channels,
	})
	x.scope = newScope(sc.Vars, map[string]any{"scenario": sc.Name, "seed": seed, "started": x.out.Started, "file": sc.File}, x.host.Alive)
	x.joinFunc = x.join
	x.events, _ = x.log.(*EventLog)
	return x
}

// finish releases everything the run still holds, within endCtx, and logs
// how it ended: interrupted when ctx was cancelled by [ErrInterrupted].
func (x *execution) finish(ctx, endCtx context.Context) {
	if err := x.host.Close(endCtx); err != nil {
		x.log.Error("cleanup failed", "event", "cleanup", "error", err.Error())
		if x.out.Err == nil {
			x.fail(fmt.Errorf("cleanup: %w", err))
		}
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrInterrupted) {
		x.out.Status = StatusInterrupted
		x.out.Err = cause // ErrInterrupted, or an error that wraps it and says more
	}
	x.out.Duration = time.Since(x.out.Started)
	ok, failed, skipped := x.out.Counts()
	args := []any{"event", "scenario_end", "status", x.out.Status, "seed", x.out.Seed,
		"duration_ms", ms(x.out.Duration), "ok", ok, "failed", failed, "skipped", skipped}
	if x.out.Err != nil {
		args = append(args, "error", x.out.Err.Error())
	}
	if x.out.Status == StatusInterrupted {
		args = append(args, "interrupted", true)
	}
	level := hclog.Info
	if x.out.Status != StatusPassed {
		level = hclog.Error
	}
	x.log.Log(level, "scenario "+x.out.Status, args...)
	if x.opt.Reporter != nil {
		x.opt.Reporter.ScenarioEnd(x.out)
	}
}

var stepMessages = map[string]string{StatusOK: "step ok", StatusFailed: "step failed", StatusSkipped: "step skipped"}

// execution is the state of one scenario run.
type execution struct {
	opt   Options
	sc    *Scenario
	log   hclog.Logger
	host  *actions.Host
	scope *scope
	hard  context.Context
	bgCtx context.Context

	mu  sync.Mutex // guards out and bg against background steps
	out *Outcome
	bg  map[string]*background
	bgs []*background

	joinFunc func(context.Context, string) (actions.Result, error) // x.join, made once
	events   *EventLog                                             // log, when it is one
}

// prepareEvents encodes, at load, the fields the step's step_start and
// step_end events share: index, action and id. Encoding them at every
// event was a tenth of a quick step's time.
func (st *Step) prepareEvents() {
	fields := []any{"step", st.Index, "action", st.Action}
	if st.ID != "" {
		fields = append(fields, "step_id", st.ID)
	}
	st.fields = encodePairs(fields...)
}

// background is a step running concurrently with the steps after it.
type background struct {
	st     *Step
	done   chan struct{}
	result *StepResult
	joined bool
}

func (x *execution) fail(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.out.Status = StatusFailed
	if x.out.Err == nil {
		x.out.Err = err
	}
}

func (x *execution) startBackground(st *Step) {
	b := &background{st: st, done: make(chan struct{})}
	x.mu.Lock()
	if st.ID != "" {
		x.bg[st.ID] = b
	}
	x.bgs = append(x.bgs, b)
	x.mu.Unlock()
	go func() {
		defer close(b.done)
		b.result = x.runStep(x.bgCtx, st, false)
	}()
}

// join waits for a background step; its failure is the joiner's failure.
func (x *execution) join(ctx context.Context, id string) (actions.Result, error) {
	x.mu.Lock()
	b := x.bg[id]
	x.mu.Unlock()
	if b == nil {
		return nil, fmt.Errorf("step %q has not started in the background (is it after this step?)", id)
	}
	select {
	case <-b.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	x.mu.Lock()
	b.joined = true
	x.mu.Unlock()
	if b.result.Status == StatusFailed {
		return b.result.Result, fmt.Errorf("background step %q failed: %w", b.st.Label(), b.result.Err)
	}
	return b.result.Result, nil
}

// joinBackground waits for every background step not yet joined; a failure
// among them fails the scenario.
func (x *execution) joinBackground(ctx context.Context) {
	x.mu.Lock()
	bgs := x.bgs
	x.mu.Unlock()
	for _, b := range bgs {
		select {
		case <-b.done:
		case <-ctx.Done():
			<-b.done // the step's own context is a child of ctx: it ends now
		}
		x.mu.Lock()
		joined := b.joined
		x.mu.Unlock()
		if !joined && b.result.Status == StatusFailed && !b.st.ContinueOnError {
			x.fail(&StepError{Pos: b.st.Pos, Label: b.st.Label(), Err: b.result.Err})
		}
	}
}

// stepRun is what one run of a step needs, allocated in one piece: its
// result and the Env its action sees.
type stepRun struct {
	r   StepResult
	env actions.Env
}

// runStep runs one step with its if, timeout and retry, logs it and
// records its result; main says whether it is in the main sequence (and so
// becomes last).
func (x *execution) runStep(ctx context.Context, st *Step, main bool) *StepResult {
	start := time.Now()
	sr := &stepRun{
		r: StepResult{Step: st, Status: StatusOK},
		env: actions.Env{
			Host:    x.host,
			Log:     x.log,
			Step:    st.Index,
			StepID:  st.ID,
			Action:  st.Action,
			Verbose: x.opt.Verbose,
			Join:    x.joinFunc,
		},
	}
	r := &sr.r
	x.event(start, hclog.Info, "step started", "step_start", st.fields)

	run := true
	if st.If != nil {
		v, err := x.scope.eval(st.If, nil)
		switch {
		case err != nil:
			r.Status, r.Err = StatusFailed, fmt.Errorf("if: %w", err)
			run = false
		case v != true:
			r.Status = StatusSkipped
			run = false
		}
	}
	if run {
		r.Result, r.Err = x.attempts(ctx, st, &sr.env)
		if r.Err != nil {
			r.Status = StatusFailed
		}
	}
	end := time.Now()
	r.Duration = end.Sub(start)

	res := r.Result
	if res == nil {
		res = make(actions.Result, 3)
	}
	status := boxStatus(r.Status)
	res["status"] = status
	res["duration"] = r.Duration
	res["error"] = ""
	if r.Err != nil {
		res["error"] = r.Err.Error()
	}
	r.Result = res
	x.scope.record(st.ID, res, main)

	if r.Err == nil {
		x.event(end, hclog.Info, stepMessages[r.Status], "step_end", st.fields, "status", status, "duration_ms", ms(r.Duration))
	} else {
		x.event(end, hclog.Error, stepMessages[r.Status], "step_end", st.fields, "status", status, "duration_ms", ms(r.Duration),
			"error", r.Err.Error(), "line", st.Pos.Line)
	}

	x.mu.Lock()
	x.out.Steps = append(x.out.Steps, r)
	x.mu.Unlock()
	if x.opt.Reporter != nil {
		x.opt.Reporter.StepEnd(x.sc, st, r)
	}
	return r
}

// event logs an event of a step stamped t, with the step's encoded fields
// pre: an [EventLog] writes them as they are, another logger gets them as
// pairs and reads the clock itself.
func (x *execution) event(t time.Time, level hclog.Level, msg, event string, pre *encodedPairs, args ...any) {
	if x.events != nil {
		x.events.logEncoded(t, level, msg, event, pre, args)
		return
	}
	x.log.Log(level, msg, allPairs(nil, event, pre, args)...)
}

// boxStatus returns a step status as an interface value without
// allocating: the constants are boxed at compile time, a string variable
// at every conversion.
func boxStatus(status string) any {
	switch status {
	case StatusOK:
		return StatusOK
	case StatusFailed:
		return StatusFailed
	case StatusSkipped:
		return StatusSkipped
	}
	return status
}

// attempts runs the action once, or until retry.until holds.
func (x *execution) attempts(ctx context.Context, st *Step, env *actions.Env) (actions.Result, error) {
	if st.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, st.Timeout, &TimeoutError{
			What:    fmt.Sprintf("step %d (%s)", st.Index, st.Action),
			Timeout: st.Timeout.String(),
		})
		defer cancel()
	}
	if st.Retry == nil {
		return x.once(ctx, st, env)
	}
	var res actions.Result
	var err error
	for attempt := 1; ; attempt++ {
		res, err = x.once(ctx, st, env)
		if st.Retry.Until == nil {
			if err == nil {
				return res, nil
			}
		} else {
			view := actions.Result{"status": StatusOK, "error": "", "attempt": attempt}
			if err != nil {
				view["status"], view["error"] = StatusFailed, err.Error()
			}
			for k, v := range res {
				view[k] = v
			}
			held, evalErr := x.scope.eval(st.Retry.Until, view)
			if evalErr != nil {
				return res, fmt.Errorf("retry.until: %w", evalErr)
			}
			if held == true {
				return res, nil
			}
		}
		if attempt >= st.Retry.Attempts {
			if err == nil {
				err = fmt.Errorf("retry: %s still false after %d attempts", st.Retry.Until.src, attempt)
			} else {
				err = fmt.Errorf("after %d attempts: %w", attempt, err)
			}
			return res, err
		}
		if ctx.Err() != nil {
			return res, context.Cause(ctx)
		}
		t := time.NewTimer(st.Retry.Interval)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return res, context.Cause(ctx)
		}
	}
}

// once resolves the step's parameters and runs its action.
func (x *execution) once(ctx context.Context, st *Step, env *actions.Env) (actions.Result, error) {
	args, err := x.args(st)
	if err != nil {
		return nil, err
	}
	act, err := st.spec.New(args)
	if err != nil {
		return nil, err
	}
	res, err := act.Run(ctx, env)
	if err != nil && ctx.Err() != nil {
		// Say why the step stopped: its timeout, the scenario's, or Ctrl-C.
		if cause := context.Cause(ctx); !errors.Is(err, cause) {
			err = fmt.Errorf("%w (%v)", cause, err)
		}
	}
	return res, err
}

// args resolves the step's parameters; a step whose parameters are all
// literals reuses the Args built at load.
func (x *execution) args(st *Step) (actions.Args, error) {
	if st.literal != nil {
		return *st.literal, nil
	}
	values := make([]any, len(st.spec.Params))
	for _, p := range st.params {
		v, err := p.v.resolve(x.scope, p.def)
		if err != nil {
			return actions.Args{}, fmt.Errorf("%s: %w", p.def.Name, err)
		}
		values[p.index] = v
	}
	return actions.NewArgs(st.spec, values), nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Join lines of an error for one-line contexts such as JUnit attributes.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
