// Package runner runs scenarios: the steps of a [lang.Scenario], in order
// or in the background, with their if, timeout and retry, each step's
// action called from the actions registry, every step and action written
// to the structured log ([EventLog]) and shown to a [Reporter]. Loading a
// scenario is package lang's job, showing a run package report's.
package runner

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
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
	// SectionOptions are what the command line gives the steps of a
	// section of the file, by the section's key (actions.ProgramOptions
	// under programs): the runner hands them to the steps as they are.
	SectionOptions map[string]any
}

// Reporter shows a run to people as it happens; report.Console is one.
type Reporter interface {
	ScenarioStart(sc *lang.Scenario, seed uint64)
	StepEnd(sc *lang.Scenario, st *lang.Step, r *lang.StepResult)
	ScenarioEnd(o *lang.Outcome)
}

// ErrInterrupted is the cause of a run's cancellation by SIGINT or SIGTERM.
var ErrInterrupted = lang.ErrInterrupted

// TimeoutError is the cause of a context that a step's or scenario's timeout
// cancelled.
type TimeoutError struct {
	What    string // "step 3 (sleep)" or "scenario demo"
	Timeout string
}

func (e *TimeoutError) Error() string { return e.What + " timed out after " + e.Timeout }

// TimedOut reports that the error is a timeout: the JUnit report reads
// it, without importing this package.
func (e *TimeoutError) TimedOut() bool { return true }

// cleanupLimit bounds finally steps and cleanup after a scenario ends.
const cleanupLimit = time.Minute

// Run runs a scenario: its steps in order, then its finally steps, then the
// cleanup of everything it started. ctx's cancellation with cause
// [ErrInterrupted] interrupts it; finally and cleanup still run.
func Run(ctx context.Context, sc *lang.Scenario, opt Options) *lang.Outcome {
	x := newExecution(sc, opt)
	timeout := sc.Timeout
	if opt.Timeout > 0 {
		timeout = opt.Timeout
	}
	x.log.Info("scenario started", "event", contract.ScenarioStart, "file", sc.File, "seed", x.out.Seed, "steps", len(sc.Steps), "timeout", timeout.String())
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
		if x.out.Status != lang.StatusPassed {
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
		if r.Status == lang.StatusFailed && !st.ContinueOnError {
			x.fail(&lang.StepError{Pos: st.Pos, Label: st.Label(), Err: r.Err})
			break
		}
	}
	if x.out.Status == lang.StatusPassed {
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
		if r.Status == lang.StatusFailed && x.out.Err == nil {
			x.fail(&lang.StepError{Pos: st.Pos, Label: st.Label(), Err: r.Err})
		}
	}
	x.finish(ctx, endCtx)
	endCancel()
	return x.out
}

// newExecution prepares a run of sc: its seed, its host of OS objects and
// its expression scope. Nothing is started and nothing logged yet.
func newExecution(sc *lang.Scenario, opt Options) *execution {
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
		out:  &lang.Outcome{Scenario: sc, Seed: seed, Started: time.Now(), Status: lang.StatusPassed},
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
		File: sc.File, Rerun: rerunArgs(sc, seed, opt.Seed != nil), Sections: sc.Sections, SectionOptions: opt.SectionOptions,
	})
	x.scope = lang.NewScope(sc.Vars, runInfo(sc, seed, x.out.Started, x.host), x.host.Alive)
	x.joinFunc = x.join
	x.events, _ = x.log.(*EventLog)
	x.prepare(sc.Steps...)
	x.prepare(sc.Finally...)
	return x
}

// rerunArgs are the arguments of pmrun run that run sc again as this run
// will: the file, the --var values that changed its vars, and the seed,
// unless the file fixes it and no --seed was given.
func rerunArgs(sc *lang.Scenario, seed uint64, seedGiven bool) []string {
	if sc.File == "" {
		return nil
	}
	args := []string{sc.File}
	for _, v := range sc.VarArgs {
		args = append(args, "--var", v)
	}
	if seedGiven || sc.Seed == nil {
		args = append(args, "--seed", strconv.FormatUint(seed, 10))
	}
	return args
}

// finish releases everything the run still holds, within endCtx, and logs
// how it ended: interrupted when ctx was cancelled by [ErrInterrupted].
func (x *execution) finish(ctx, endCtx context.Context) {
	if err := x.host.Close(endCtx); err != nil {
		x.log.Error("cleanup failed", "event", contract.CleanupFailed, "error", err.Error())
		if x.out.Err == nil {
			x.fail(fmt.Errorf("cleanup: %w", err))
		}
	}
	if cause := context.Cause(ctx); errors.Is(cause, ErrInterrupted) {
		x.out.Status = lang.StatusInterrupted
		x.out.Err = cause // ErrInterrupted, or an error that wraps it and says more
	}
	x.out.Duration = time.Since(x.out.Started)
	ok, failed, skipped := x.out.Counts()
	args := []any{"event", contract.ScenarioEnd, "status", x.out.Status, "seed", x.out.Seed,
		"duration_ms", ms(x.out.Duration), "ok", ok, "failed", failed, "skipped", skipped}
	if x.out.Err != nil {
		args = append(args, "error", x.out.Err.Error())
	}
	if x.out.Status == lang.StatusInterrupted {
		args = append(args, "interrupted", true)
	}
	level := hclog.Info
	if x.out.Status != lang.StatusPassed {
		level = hclog.Error
	}
	x.log.Log(level, "scenario "+x.out.Status, args...)
	if x.opt.Reporter != nil {
		x.opt.Reporter.ScenarioEnd(x.out)
	}
}

var stepMessages = map[string]string{lang.StatusOK: "step ok", lang.StatusFailed: "step failed", lang.StatusSkipped: "step skipped"}

// execution is the state of one scenario run.
type execution struct {
	opt   Options
	sc    *lang.Scenario
	log   hclog.Logger
	host  *actions.Host
	scope *lang.Scope
	hard  context.Context
	bgCtx context.Context

	mu  sync.Mutex // guards out and bg against background steps
	out *lang.Outcome
	bg  map[string]*background
	bgs []*background
	// bgAt is each background step by index; joining, what each one is
	// joining now (see join).
	bgAt    map[int]*background
	joining map[*background]*background

	joinFunc func(context.Context, int, string) (actions.Result, error) // x.join, made once
	events   *EventLog                                                  // log, when it is one
	fields   []encodedPairs                                             // each step's event fields, by index (see prepare)
}

// prepare encodes the fields that each step's step_start and step_end
// events share ([lang.Step.LogFields]), by index: encoding them at every
// event was a tenth of a quick step's time. A run prepares its steps as it
// starts, a session each step as it comes.
func (x *execution) prepare(steps ...*lang.Step) {
	n := len(x.fields)
	for _, st := range steps {
		n = max(n, st.Index+1)
	}
	if n > len(x.fields) {
		x.fields = slices.Grow(x.fields, n-len(x.fields))[:n]
	}
	encodeAll(steps, func(i int, e encodedPairs) { x.fields[steps[i].Index] = e })
}

// background is a step running concurrently with the steps after it.
type background struct {
	st     *lang.Step
	done   chan struct{}
	result *lang.StepResult
	joined bool
}

func (x *execution) fail(err error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.out.Status = lang.StatusFailed
	if x.out.Err == nil {
		x.out.Err = err
	}
}

func (x *execution) startBackground(st *lang.Step) {
	b := &background{st: st, done: make(chan struct{})}
	x.mu.Lock()
	if st.ID != "" {
		x.bg[st.ID] = b
	}
	if x.bgAt == nil {
		x.bgAt = map[int]*background{}
	}
	x.bgAt[st.Index] = b
	x.bgs = append(x.bgs, b)
	x.mu.Unlock()
	go func() {
		defer close(b.done)
		b.result = x.runStep(x.bgCtx, st, false)
	}()
}

// join waits, for the step at index from, for the background step id;
// its failure is the joiner's failure. A join that would never end is an
// error at once: a step that joins itself, or background steps that join
// each other in a cycle (their ids known only when they ran, from a
// template, so check could not tell).
func (x *execution) join(ctx context.Context, from int, id string) (actions.Result, error) {
	x.mu.Lock()
	b := x.bg[id]
	if b == nil {
		x.mu.Unlock()
		return nil, fmt.Errorf("step %q has not started in the background (is it after this step?)", id)
	}
	if b.st.Index == from {
		x.mu.Unlock()
		return nil, fmt.Errorf("step %q waits for itself: it would never end", id)
	}
	if self := x.bgAt[from]; self != nil {
		if cycle := x.joinCycle(self, b); cycle != nil {
			x.mu.Unlock()
			names := make([]string, len(cycle))
			for i, c := range cycle {
				names[i] = strconv.Quote(c.st.ID)
			}
			return nil, fmt.Errorf("background steps wait for each other in a cycle (%s, then %q again): none of them would ever end", strings.Join(names, " waits for "), self.st.ID)
		}
		if x.joining == nil {
			x.joining = map[*background]*background{}
		}
		x.joining[self] = b
		defer func() {
			x.mu.Lock()
			delete(x.joining, self)
			x.mu.Unlock()
		}()
	}
	x.mu.Unlock()
	select {
	case <-b.done:
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
	x.mu.Lock()
	b.joined = true
	x.mu.Unlock()
	if b.result.Status == lang.StatusFailed {
		return b.result.Result, fmt.Errorf("background step %q failed: %w", b.st.Label(), b.result.Err)
	}
	return b.result.Result, nil
}

// joinCycle returns the steps from self round to self again, if self's
// joining target would close a cycle of joins; nil if not. x.mu is held.
func (x *execution) joinCycle(self, target *background) []*background {
	path := []*background{self}
	for t := target; t != nil; t = x.joining[t] {
		if t == self {
			return path
		}
		if len(path) > len(x.bgs) {
			return nil // cannot happen: joining holds no cycle
		}
		path = append(path, t)
	}
	return nil
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
		if !joined && b.result.Status == lang.StatusFailed && !b.st.ContinueOnError {
			x.fail(&lang.StepError{Pos: b.st.Pos, Label: b.st.Label(), Err: b.result.Err})
		}
	}
}

// stepRun is what one run of a step needs, allocated in one piece: its
// result and the Env its action sees.
type stepRun struct {
	r   lang.StepResult
	env actions.Env
}

// runStep runs one step with its if, timeout and retry, logs it and
// records its result; main says whether it is in the main sequence (and so
// becomes last).
func (x *execution) runStep(ctx context.Context, st *lang.Step, main bool) *lang.StepResult {
	start := time.Now()
	sr := &stepRun{
		r: lang.StepResult{Step: st, Status: lang.StatusOK},
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
	fields := &x.fields[st.Index]
	x.event(start, hclog.Info, "step started", contract.StepStart, fields)

	run := true
	if st.If != nil {
		v, err := x.scope.Eval(st.If, nil)
		switch {
		case err != nil:
			r.Status, r.Err = lang.StatusFailed, fmt.Errorf("if: %w", err)
			run = false
		case v != true:
			r.Status = lang.StatusSkipped
			run = false
		}
	}
	if run {
		r.Result, r.Err = x.attempts(ctx, st, &sr.env)
		if r.Err != nil {
			r.Status = lang.StatusFailed
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
	x.scope.Record(st.ID, res, main)

	if r.Err == nil {
		x.event(end, hclog.Info, stepMessages[r.Status], contract.StepEnd, fields, "status", status, "duration_ms", ms(r.Duration))
	} else {
		x.event(end, hclog.Error, stepMessages[r.Status], contract.StepEnd, fields, "status", status, "duration_ms", ms(r.Duration),
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
	case lang.StatusOK:
		return lang.StatusOK
	case lang.StatusFailed:
		return lang.StatusFailed
	case lang.StatusSkipped:
		return lang.StatusSkipped
	}
	return status
}

// attempts runs the action once, or until retry.until holds.
func (x *execution) attempts(ctx context.Context, st *lang.Step, env *actions.Env) (actions.Result, error) {
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
		if errors.As(err, new(*lang.ParamError)) {
			return res, err // a mistake in the scenario: trying again would only repeat it
		}
		if st.Retry.Until == nil {
			if err == nil {
				return res, nil
			}
		} else {
			view := actions.Result{"status": lang.StatusOK, "error": "", "attempt": attempt}
			if err != nil {
				view["status"], view["error"] = lang.StatusFailed, err.Error()
			}
			for k, v := range res {
				view[k] = v
			}
			held, evalErr := x.scope.Eval(st.Retry.Until, view)
			if evalErr != nil {
				return res, fmt.Errorf("retry.until: %w", evalErr)
			}
			if held == true {
				return res, nil
			}
		}
		if attempt >= st.Retry.Attempts {
			if err == nil {
				err = fmt.Errorf("retry: %s still false after %d attempts", st.Retry.Until.Source(), attempt)
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
func (x *execution) once(ctx context.Context, st *lang.Step, env *actions.Env) (actions.Result, error) {
	act, err := st.NewAction(x.scope)
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

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// runInfo is the run value of expressions: the scenario's name, seed,
// start and file, the file's folder (dir: what a step finds files beside
// the scenario with), and the run's private folder (tmp: mode 0700,
// removed at the end, for what a step makes, such as a compiled program).
func runInfo(sc *lang.Scenario, seed uint64, started time.Time, host *actions.Host) map[string]any {
	info := map[string]any{"scenario": sc.Name, "seed": seed, "started": started, "file": sc.File}
	if dir, err := filepath.Abs(filepath.Dir(sc.File)); err == nil {
		info["dir"] = dir
	}
	if tmp, err := host.Dir(); err == nil {
		info["tmp"] = tmp
	}
	return info
}
