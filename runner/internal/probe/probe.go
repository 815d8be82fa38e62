// Package probe registers "probe", an action for the tests of the loader
// and the runner: a parameter of every kind, a result that gives them
// back, and a way to fail (fail: MESSAGE), so that loading and running
// can be checked without OS objects. A test imports it for its effect:
//
//	import _ "github.com/pmrun/pmrun/runner/internal/probe"
package probe

import (
	"context"
	"errors"

	"github.com/pmrun/pmrun/actions"
)

func init() {
	one, ten := 1, 10
	actions.Register(&actions.Spec{
		Name:    "probe",
		Summary: "test action",
		Params: []actions.Param{
			{Name: "n", Kind: actions.Int, Min: &one, Max: &ten, Default: 1},
			{Name: "text", Kind: actions.String},
			{Name: "flag", Kind: actions.Bool},
			{Name: "every", Kind: actions.Duration},
			{Name: "size", Kind: actions.Size},
			{Name: "argv", Kind: actions.Strings},
			{Name: "env", Kind: actions.StringMap},
			{Name: "channel", Kind: actions.String, Ref: actions.ChannelRef},
			{Name: "mode", Kind: actions.String, Enum: []string{"fast", "slow"}},
			{Name: "fail", Kind: actions.String},
		},
		Results: []actions.Field{{Name: "n", Type: "int"}},
		New: func(a actions.Args) (actions.Action, error) {
			return probe{a}, nil
		},
	})
}

type probe struct{ a actions.Args }

func (p probe) Run(ctx context.Context, env *actions.Env) (actions.Result, error) {
	if msg := p.a.String("fail"); msg != "" {
		return actions.Result{"n": p.a.Int("n")}, errors.New(msg)
	}
	return actions.Result{
		"n": p.a.Int("n"), "text": p.a.String("text"), "flag": p.a.Bool("flag"),
		"every": p.a.Duration("every"), "size": p.a.Int("size"), "argv": p.a.Strings("argv"),
		"env": p.a.StringMap("env"),
	}, nil
}
