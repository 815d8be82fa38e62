// Package probe is "probe", an action for the tests of the loader and the
// runner: a parameter of every kind, a result that gives them back, and a
// way to fail (fail: MESSAGE), so that loading and running can be checked
// without OS objects. A test loads against [Registry] (pmrun's actions
// and the probe), or registers [Spec] alone in a registry of its own.
package probe

import (
	"context"
	"errors"
	"sync"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
)

var one, ten = 1, 10

// Spec is the probe action.
var Spec = &contract.Spec{
	Name:    "probe",
	Summary: "test action",
	Params: []contract.Param{
		{Name: "n", Kind: contract.Int, Min: &one, Max: &ten, Default: 1},
		{Name: "text", Kind: contract.String},
		{Name: "flag", Kind: contract.Bool},
		{Name: "every", Kind: contract.Duration},
		{Name: "size", Kind: contract.Size},
		{Name: "argv", Kind: contract.Strings},
		{Name: "env", Kind: contract.StringMap},
		{Name: "channel", Kind: contract.String, Ref: contract.ChannelRef},
		{Name: "mode", Kind: contract.String, Enum: []string{"fast", "slow"}},
		{Name: "fail", Kind: contract.String},
	},
	Results: []contract.Field{{Name: "n", Type: "int"}},
	New: func(a contract.Args) (contract.Action, error) {
		return probe{a}, nil
	},
}

// Registry returns pmrun's actions and the probe, made once.
func Registry() *contract.Registry { return withProbe() }

var withProbe = sync.OnceValue(func() *contract.Registry {
	r := actions.NewRegistry()
	r.Register(Spec)
	return r
})

type probe struct{ a contract.Args }

func (p probe) Run(ctx context.Context, env *contract.Env) (contract.Result, error) {
	if msg := p.a.String("fail"); msg != "" {
		return contract.Result{"n": p.a.Int("n")}, errors.New(msg)
	}
	return contract.Result{
		"n": p.a.Int("n"), "text": p.a.String("text"), "flag": p.a.Bool("flag"),
		"every": p.a.Duration("every"), "size": p.a.Int("size"), "argv": p.a.Strings("argv"),
		"env": p.a.StringMap("env"),
	}, nil
}
