// Package lang is pmrun's scenario language: it loads a scenario file
// into a checked [Scenario] (every error at its FILE:LINE:COL, every
// expression compiled), resolves a step's parameters in a run's [Scope],
// and names how a run ends ([Outcome], [StepResult]). It runs nothing:
// package runner executes scenarios, and package report shows them.
package lang

import (
	"fmt"
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/contract"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// DefaultTimeout bounds a scenario that sets no timeout.
const DefaultTimeout = 5 * time.Minute

// Scenario is a loaded, validated scenario file: everything in it was
// checked and every expression compiled, so running it finds no syntax
// errors.
type Scenario struct {
	File        string
	Name        string
	Description string
	Vars        map[string]any
	// VarArgs are the --var values that changed the file's vars, as given
	// (NAME=VALUE, sorted by name): what a command line that runs the
	// scenario again must repeat.
	VarArgs  []string
	Timeout  time.Duration
	Seed     *uint64
	Channels []*Channel
	// Sections are the loaded values of the top-level sections that
	// actions own (programs:), by key; see [contract.Section].
	Sections map[string]any
	// Course is what the lab says about teaching with it (course:); nil
	// when it says nothing.
	Course *Course
	// Submission is the student's file whose programs were loaded into
	// the lab (see [LoadOptions.Submission]); "" when none was.
	Submission string
	Steps      []*Step
	Finally    []*Step
}

// Channel is an IPC channel the scenario declares.
type Channel struct {
	Pos        Pos
	Name       string
	Kind       string // pipe, fifo or socket
	Framing    string // frames or lines
	MaxMessage int
}

// Step is one step of a scenario: one action and the keys every step shares.
type Step struct {
	Pos     Pos // the step's first key
	Index   int // 0-based, across steps then finally
	Finally bool
	ID      string
	Name    string

	Action    string
	ActionPos Pos
	spec      *contract.Spec
	params    []*param
	literal   *contract.Args // the parameters, when none needs resolving at run time
	logFields []any          // see LogFields; made at load

	If      *Program
	Timeout time.Duration
	// Points is the step's worth as a check of a lab (points:); nil
	// when it does not say.
	Points          *float64
	Retry           *Retry
	ContinueOnError bool
	Background      bool
}

// Retry re-runs a step's action until a condition holds.
type Retry struct {
	Until    *Program
	Attempts int
	Interval time.Duration
}

// Label is how reports name the step: its name, else its id, else its
// action with its main parameter.
func (s *Step) Label() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.ID != "":
		return s.ID + " (" + s.Action + ")"
	}
	// The main parameter says what the step acts on: sleep 1s, spawn sleeper.
	for _, name := range []string{s.spec.Shorthand, "name", "process", "thread", "step", "channel", "processes", "threads"} {
		for _, p := range s.params {
			if name != "" && p.def.Name == name && p.v.text != "" {
				return s.Action + " " + p.v.text
			}
		}
	}
	return s.Action
}

// Refs returns the names of kind that the steps' parameters refer to,
// each once, in the order of the steps: the literal ones and those that
// vars alone give. unknown is true when some step refers to one that only
// a run can tell (a template of a step's result).
func (sc *Scenario) Refs(kind contract.RefKind) (names []string, unknown bool) {
	for _, s := range append(slices.Clip(sc.Steps), sc.Finally...) {
		for _, p := range s.params {
			if p.def.Ref != kind {
				continue
			}
			name, _ := p.v.lit.(string)
			switch {
			case !p.v.static && !p.v.fromVars:
				unknown = true
			case !slices.Contains(names, name):
				names = append(names, name)
			}
		}
	}
	return names, unknown
}

// ParamText is the text of the step's parameter name as the file has it
// (a template unfilled, an expression's source); "" when it has none.
func (s *Step) ParamText(name string) string {
	for _, p := range s.params {
		if p.def.Name == name {
			return p.v.text
		}
	}
	return ""
}

// Spec is the description of the step's action.
func (s *Step) Spec() *contract.Spec { return s.spec }

// LogFields are the fields every event of the step carries, as key/value
// pairs: its index (step), its action and its id (step_id), if it has one.
func (s *Step) LogFields() []any {
	if s.logFields != nil {
		return s.logFields
	}
	return s.makeLogFields()
}

func (s *Step) makeLogFields() []any {
	return contract.AppendStepFields(make([]any, 0, 6), s.Index, s.Action, s.ID)
}

// StepAt returns the step with index i, counting the finally steps after
// the steps; nil if there is none.
func (sc *Scenario) StepAt(i int) *Step {
	switch {
	case i < 0:
		return nil
	case i < len(sc.Steps):
		return sc.Steps[i]
	case i-len(sc.Steps) < len(sc.Finally):
		return sc.Finally[i-len(sc.Steps)]
	}
	return nil
}

// NewAction builds the step's action, its parameters resolved in s: a
// step whose parameters are all literals reuses the ones built at load.
// A value of the wrong type or out of its parameter's range is a
// [ParamError]; what the action's New refuses (a folder that is not
// there) is its own error.
func (st *Step) NewAction(s *Scope) (contract.Action, error) {
	args, err := st.args(s)
	if err != nil {
		return nil, &ParamError{Err: err}
	}
	return st.spec.New(args)
}

// Args returns the step's parameters resolved in s, as its action would
// take them if it ran now: what a tool that does not run the step (pmrun
// play, choosing a program step's program) reads.
func (st *Step) Args(s *Scope) (contract.Args, error) { return st.args(s) }

// args resolves the step's parameters.
func (st *Step) args(s *Scope) (contract.Args, error) {
	if st.literal != nil {
		return *st.literal, nil
	}
	values := make([]any, len(st.spec.Params))
	for _, p := range st.params {
		v, err := p.v.resolve(s, *p.def)
		if err != nil {
			return contract.Args{}, fmt.Errorf("%s: %w", p.def.Name, err)
		}
		values[p.index] = v
	}
	return contract.NewArgs(st.spec, values), nil
}

// param is one parameter as written in the file.
type param struct {
	def   *contract.Param // in its spec's Params
	index int             // of def in the spec's Params
	pos   Pos             // of the value
	v     *value
}

// value is a parameter value: a literal, known at load, or one with
// templates or an expression, resolved when the step runs.
type value struct {
	pos  Pos
	text string // the source, for labels and messages

	lit    any         // the converted literal, when static
	tmpl   *template   // a scalar with ${{ }}
	cond   *Program    // an Expr parameter
	parts  *valueParts // a list or mapping holding templates
	static bool        // lit is the final value
	// fromVars: a template of vars alone, whose value (in lit) is known
	// at load; it is still evaluated when the step runs.
	fromVars bool
}

// known returns the value when it is known at load: a literal, or a
// template of vars alone (see fromVars).
func (v *value) known() (any, bool) {
	return v.lit, v.static || v.fromVars
}

// valueParts are the items of a list or mapping parameter that holds
// templates (rare enough to live outside value, which a long file has
// hundreds of thousands of).
type valueParts struct {
	list []*value // a list's items
	keys []string // or a mapping's keys
	vals []*value // and values
}

// resolve returns the value as the parameter's kind.
func (v *value) resolve(s *Scope, def contract.Param) (any, error) {
	if v.static {
		return v.lit, nil
	}
	raw, err := v.raw(s)
	if err != nil {
		return nil, err
	}
	if _, ok := raw.(condition); ok {
		return raw, nil
	}
	return convert(def, raw)
}

func (v *value) raw(s *Scope) (any, error) {
	switch {
	case v.static:
		return v.lit, nil
	case v.cond != nil:
		return condition{p: v.cond, s: s}, nil
	case v.tmpl != nil:
		return v.tmpl.eval(s)
	case v.parts != nil && v.parts.list != nil:
		out := make([]any, len(v.parts.list))
		for i, e := range v.parts.list {
			r, err := e.raw(s)
			if err != nil {
				return nil, err
			}
			out[i] = r
		}
		return out, nil
	case v.parts != nil:
		out := make(map[string]any, len(v.parts.vals))
		for i, e := range v.parts.vals {
			r, err := e.raw(s)
			if err != nil {
				return nil, err
			}
			out[v.parts.keys[i]] = r
		}
		return out, nil
	}
	return v.lit, nil
}
