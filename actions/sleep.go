package actions

import (
	"context"
	"time"
)

func init() {
	Register(&Spec{
		Name:      "sleep",
		Summary:   "Wait for a duration; Ctrl-C and timeouts end it early.",
		Shorthand: "for",
		Params: []Param{
			{Name: "for", Kind: Duration, Required: true, Doc: "how long to sleep, e.g. 100ms"},
		},
		Results: []Field{{Name: "slept", Type: "duration", Doc: "how long the step actually slept"}},
		New: func(a Args) (Action, error) {
			return sleep(a.Duration("for")), nil
		},
	})
}

type sleep time.Duration

func (d sleep) Run(ctx context.Context, env *Env) (Result, error) {
	start := time.Now()
	t := time.NewTimer(time.Duration(d))
	defer t.Stop()
	select {
	case <-t.C:
		return Result{"slept": time.Since(start)}, nil
	case <-ctx.Done():
		return Result{"slept": time.Since(start)}, context.Cause(ctx)
	}
}
