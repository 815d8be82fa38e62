package contract

import (
	"context"
	"math/rand/v2"

	"github.com/hashicorp/go-hclog"
)

// Host is the set of operating-system objects one scenario run owns
// (processes, agents, threads, channels), as the contract sees it: only
// what every action may ask. Its implementation is package actions'
// *actions.Host, which the actions reach through a type assertion; the
// loader and the presentation never need it.
type Host interface {
	// Seed is the run's seed.
	Seed() uint64
	// File is the scenario file the run comes from.
	File() string
	// Section returns the loaded value of the file's section key (see
	// [Section]), nil when the file has none.
	Section(key string) any
	// SectionOptions returns what the command line gave the steps of the
	// section key (pmrun run's --replay for programs:), nil if nothing:
	// the section's own type, which the runner carries without naming it.
	SectionOptions(key string) any
}

// Env is what an action sees of the run while it runs one step.
type Env struct {
	Host Host
	// Log is the run's event log (hclog, JSON lines in the log file).
	Log hclog.Logger
	// Step is the 0-based index of the step, StepID its id if any.
	Step   int
	StepID string
	Action string
	// Verbose asks for more detail in events (message payloads).
	Verbose bool
	// Join waits, for the step at index from (the joiner's Step), for the
	// background step with the given id and returns its result; the
	// runner provides it. A join that could never end (a step joining
	// itself, background steps joining each other in a cycle) is an error
	// at once.
	Join func(ctx context.Context, from int, id string) (Result, error)
}

// Event logs a structured event of the step at Info level.
func (e *Env) Event(event, msg string, kv ...any) {
	e.EventLevel(hclog.Info, event, msg, kv...)
}

// EventLevel logs a structured event of the step at the given level, with
// the step's index, id and action.
func (e *Env) EventLevel(level hclog.Level, event, msg string, kv ...any) {
	if e.Log == nil || level < e.Log.GetLevel() {
		return
	}
	args := make([]any, 0, len(kv)+8)
	args = AppendStepFields(append(args, "event", event), e.Step, e.Action, e.StepID)
	args = append(args, kv...)
	e.Log.Log(level, msg, args...)
}

// AppendStepFields appends to fields the key/value pairs that every event
// of a step carries: its index (step), its action and its id (step_id),
// if it has one. The runner's events of the step, the action's and an
// agent's for the step carry them alike.
func AppendStepFields(fields []any, index int, action, id string) []any {
	fields = append(fields, "step", index, "action", action)
	if id != "" {
		fields = append(fields, "step_id", id)
	}
	return fields
}

// Rand returns a random source derived from the run's seed and the step, so
// that the same seed repeats the same choices whatever else runs
// concurrently.
func (e *Env) Rand() *rand.Rand {
	return rand.New(rand.NewPCG(e.Host.Seed(), uint64(e.Step)+1))
}

// Seed returns the seed of the step's own random choices, drawn from
// [Env.Rand]: the labs seed their workers' jitter with it, so that the same
// --seed repeats every delay, and two steps of a run differ.
func (e *Env) Seed() int64 {
	return int64(e.Rand().Uint64() >> 1)
}
