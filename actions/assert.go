package actions

import (
	"context"
	"fmt"

	"github.com/hashicorp/go-hclog"
)

func init() {
	register(&Spec{
		Name:      "assert",
		Summary:   "Fail the step unless a condition holds; a failure reports the value of each sub-expression.",
		Shorthand: "that",
		Params: []Param{
			{Name: "that", Kind: Expr, Required: true, Doc: "the condition, an expr-language expression that must be true"},
			{Name: "message", Kind: String, Doc: "what the condition means, shown when it fails"},
		},
		New: func(a Args) (Action, error) {
			return &assertStep{that: a.Condition("that"), message: a.String("message")}, nil
		},
	})
}

type assertStep struct {
	that    Condition
	message string
}

func (a *assertStep) Run(ctx context.Context, env *Env) (Result, error) {
	v, err := a.that.Eval()
	if err != nil {
		return nil, err
	}
	if ok, isBool := v.(bool); !isBool {
		return nil, fmt.Errorf("assertion %s: got %T %v, want a bool", a.that.Source(), v, v)
	} else if ok {
		return nil, nil // the runner adds status, duration and error
	}
	failure := &AssertionError{Source: a.that.Source(), Message: a.message, Values: a.that.Explain()}
	env.EventLevel(hclog.Error, evAssertFailed, "assertion failed",
		"expression", failure.Source, "values", failure.Values, "assertion", a.message)
	return nil, failure
}
