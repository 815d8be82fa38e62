package actions

import (
	"context"
	"fmt"
	"time"
)

func init() {
	Register(&Spec{
		Name:    "wait",
		Summary: "Wait for a background step to finish and take its result.",
		Params: []Param{
			{Name: "step", Kind: String, Ref: StepRef, Doc: "the id of a step run with background: true"},
			{Name: "timeout", Kind: Duration, Doc: "give up after this long (default: the step's own timeout)"},
		},
		OneOf: [][]string{{"step"}},
		Results: []Field{
			{Name: "result", Type: "map", Doc: "the background step's result (also in steps.ID)"},
		},
		New: func(a Args) (Action, error) {
			return &wait{step: a.String("step"), timeout: a.Duration("timeout")}, nil
		},
	})
}

type wait struct {
	step    string
	timeout time.Duration
}

func (w *wait) Run(ctx context.Context, env *Env) (Result, error) {
	if w.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, w.timeout, fmt.Errorf("wait: step %q still running after %s", w.step, w.timeout))
		defer cancel()
	}
	res, err := env.Join(ctx, w.step)
	return Result{"result": map[string]any(res)}, err
}
