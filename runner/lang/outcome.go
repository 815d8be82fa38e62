package lang

import (
	"errors"
	"time"

	"github.com/pmrun/pmrun/actions/contract"
)

// Status of a step or scenario.
const (
	StatusOK          = "ok"
	StatusFailed      = "failed"
	StatusSkipped     = "skipped"
	StatusPassed      = "passed"
	StatusInterrupted = "interrupted"
)

// ErrInterrupted is the cause of a run's cancellation by SIGINT or
// SIGTERM (runner.ErrInterrupted is this error): a step that it stopped
// failed with it.
var ErrInterrupted = errors.New("interrupted")

// StepResult is how one step ended.
type StepResult struct {
	Step     *Step
	Status   string
	Duration time.Duration
	Err      error
	Result   contract.Result
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
