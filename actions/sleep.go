package actions

import (
	"context"
	"time"
)

func init() {
	register(&Spec{
		Name:      "sleep",
		Summary:   "Wait for a duration; Ctrl-C and timeouts end it early.",
		Shorthand: "for",
		Params: []Param{
			{Name: "for", Kind: Duration, Required: true, Doc: "how long to sleep, e.g. 100ms"},
		},
		Results: fieldsOf[sleepResult](),
		New: func(a Args) (Action, error) {
			return sleepStep(a.Duration("for")), nil
		},
	})
}

type sleepResult struct {
	Slept time.Duration `result:"slept" doc:"how long the step actually slept"`
}

type sleepStep time.Duration

func (d sleepStep) Run(ctx context.Context, env *Env) (Result, error) {
	start := time.Now()
	t := time.NewTimer(time.Duration(d))
	defer t.Stop()
	select {
	case <-t.C:
		return resultOf(sleepResult{Slept: time.Since(start)}), nil
	case <-ctx.Done():
		return resultOf(sleepResult{Slept: time.Since(start)}), context.Cause(ctx)
	}
}
