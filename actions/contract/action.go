// Package contract is what an action and pmrun agree on: the vocabulary
// that the loader (runner/lang) checks a scenario against and that the
// presentation (runner/report) reads, without the actions themselves.
//
// An action is a [Spec] (its parameters, results, events and how to build
// it) in a [Registry], and an [Action] that runs one step in an [Env].
// The events it logs are declared as [Event] values, which say how the
// timeline, the report and the console show them; a top-level key of a
// scenario that belongs to an action is a [Section]. The run's objects
// (processes, threads, channels) are the implementations' business: Env
// carries them as an opaque [Host].
//
// The package imports nothing of pmrun, so that the loader and the
// presentation depend on it alone; package actions holds the actions and
// fills the full registry. docs/ARCHITECTURE.md draws the layers.
package contract

import (
	"context"
	"fmt"
	"time"
)

// Action is one step's work, built by [Spec.New] from the step's resolved
// parameters.
type Action interface {
	Run(ctx context.Context, env *Env) (Result, error)
}

// Result is what a step produced. Expressions see it as steps.<id> and last;
// the runner adds status, duration and error to every result.
type Result map[string]any

// Kind is the type of a parameter, checked when the scenario is loaded.
type Kind int

// The parameter kinds.
const (
	String    Kind = iota // any scalar, taken as text
	Int                   // a whole number
	Bool                  // true or false
	Duration              // a Go duration such as 250ms or 2m; 0 is allowed
	Size                  // bytes: an integer or a number with B, KiB, MiB or GiB
	Strings               // a list of scalars, each taken as text
	StringMap             // a mapping of names to scalars
	Expr                  // an expr-language condition, compiled at load
)

var kindNames = [...]string{"string", "int", "bool", "duration", "size", "list of strings", "map of strings", "expression"}

func (k Kind) String() string { return kindNames[k] }

// RefKind names a kind of object a scenario declares and refers to by name,
// so that a reference to something never declared is a load error.
type RefKind int

// The object kinds.
const (
	NoRef      RefKind = iota
	ProcessRef         // a process started by spawn
	AgentRef           // "runner" or a process spawned with agent: true
	ThreadRef          // a thread started by thread
	ChannelRef         // a channel declared under channels (or "default")
	StepRef            // a step id
	ProgramRef         // a program declared under programs (a [Section])
)

var refNames = [...]string{"", "process", "agent", "thread", "channel", "step", "program"}

func (r RefKind) String() string { return refNames[r] }

// Param describes one parameter of an action.
type Param struct {
	Name     string
	Kind     Kind
	Doc      string
	Default  any      // shown by `pmrun actions`; Args returns it when the parameter is absent
	Required bool     // the step must set it
	Enum     []string // allowed values of a String parameter
	Min, Max *int     // inclusive bounds of an Int or Size parameter
	Ref      RefKind  // the value names an object of this kind
}

// Decl is an object a step declares, such as the process a spawn starts.
// An empty Name means the name is only known at run time.
type Decl struct {
	Kind RefKind
	Name string
}

// Field describes one field of an action's result.
type Field struct {
	Name string
	Type string
	Doc  string
}

// Spec describes an action: what `pmrun actions` prints, what the loader
// checks and how the runner builds it.
type Spec struct {
	Name    string
	Summary string
	// Shorthand is the parameter a scalar value sets (assert: EXPR).
	Shorthand string
	Params    []Param
	// OneOf lists groups of parameters of which exactly one must be set.
	OneOf [][]string
	// Results are the fields of the action's result, beyond the common
	// status, duration and error.
	Results []Field
	// Events are the events the action logs beyond the host's (processes,
	// threads), and how the timeline, the report and the console show
	// them; see [Event].
	Events []*Event
	// Note, if set, gives lines the console prints below the step's line
	// whatever -v and -q say: what a person must not miss in a result
	// that is not a failure of the step (the command line that replays a
	// program's failure). nil or no lines: nothing.
	Note func(r Result) []string
	// Found, if set, says in a few words what a step that went well
	// found wrong ("mutual_exclusion"): a program step's failing run is
	// its result, not a failure of the step, but must not read as a
	// plain pass. The console marks such a step with ! instead of ✓ and
	// the report shows what it found; "" when it found nothing.
	Found func(r Result) string
	// Check validates the parameters that are known when the scenario is
	// loaded (literals), beyond what Params says; nil when there is nothing
	// more to check. Errors name the parameter with [ParamError].
	Check func(s Static) []error
	// Declare lists the objects a step declares, from its literal
	// parameters, so that references to them can be checked at load.
	Declare func(s Static) []Decl
	// New builds the action from its resolved parameters. It returns an
	// error for values that could only be checked once resolved.
	New func(a Args) (Action, error)
}

// Param returns the named parameter's description.
func (s *Spec) Param(name string) (Param, bool) {
	if i := s.ParamIndex(name); i >= 0 {
		return s.Params[i], true
	}
	return Param{}, false
}

// ParamError is an error about one parameter; the loader places it at that
// parameter's position in the file.
type ParamError struct {
	Param string
	Err   error
}

func (e *ParamError) Error() string { return e.Param + ": " + e.Err.Error() }
func (e *ParamError) Unwrap() error { return e.Err }

// Paramf returns a [ParamError] for param with a formatted message.
func Paramf(param, format string, args ...any) error {
	return &ParamError{Param: param, Err: fmt.Errorf(format, args...)}
}

// Static is what the loader knows of a step's parameters before running it:
// the literal values. A parameter set by a template is Dynamic, and absent
// from Args until run time.
type Static struct {
	Args
	Dynamic func(name string) bool
	// Channel returns a channel the scenario declares (default included),
	// for checks against its settings; nil when the loader has none yet.
	Channel func(name string) (ChannelConfig, bool)
	// Section returns the loaded value of a top-level section of the file
	// (see [Section]), nil when the file has none or it did not load.
	Section func(key string) any
}

// Set reports whether the step sets the parameter, literally or by a
// template.
func (s Static) Set(name string) bool { return s.Has(name) || s.Dynamic(name) }

// Condition is a compiled expression the runner evaluates in the step's
// scope; actions such as assert receive it for an [Expr] parameter.
type Condition interface {
	// Source is the expression as written.
	Source() string
	// Eval evaluates the expression.
	Eval() (any, error)
	// Explain lists the value of each sub-expression, for a report of why
	// a condition did not hold.
	Explain() []string
}

// Args are an action's parameters, resolved: templates evaluated, defaults
// filled in, every value of its parameter's kind.
type Args struct {
	spec   *Spec
	values []any // values[i] is spec.Params[i]'s, nil when the step does not set it
}

// NewArgs returns Args for the spec: values[i] is the value of
// spec.Params[i], nil for a parameter the step does not set. The runner
// and tests use it.
func NewArgs(spec *Spec, values []any) Args {
	return Args{spec: spec, values: values}
}

// ParamIndex returns the position of the named parameter in s.Params, or
// -1.
func (s *Spec) ParamIndex(name string) int {
	for i, p := range s.Params {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// Has reports whether the step set the parameter.
func (a Args) Has(name string) bool {
	v, _ := a.lookup(name)
	return v != nil
}

// lookup returns the parameter's value, nil when the step does not set it,
// and its default.
func (a Args) lookup(name string) (v, def any) {
	if a.spec == nil {
		return nil, nil
	}
	i := a.spec.ParamIndex(name)
	if i < 0 {
		return nil, nil
	}
	if i < len(a.values) {
		v = a.values[i]
	}
	return v, a.spec.Params[i].Default
}

func (a Args) get(name string) any {
	v, def := a.lookup(name)
	if v == nil {
		return def
	}
	return v
}

// String returns a String parameter.
func (a Args) String(name string) string {
	s, _ := a.get(name).(string)
	return s
}

// Int returns an Int or Size parameter.
func (a Args) Int(name string) int {
	n, _ := a.get(name).(int)
	return n
}

// Bool returns a Bool parameter.
func (a Args) Bool(name string) bool {
	b, _ := a.get(name).(bool)
	return b
}

// Duration returns a Duration parameter.
func (a Args) Duration(name string) time.Duration {
	d, _ := a.get(name).(time.Duration)
	return d
}

// Strings returns a Strings parameter.
func (a Args) Strings(name string) []string {
	s, _ := a.get(name).([]string)
	return s
}

// StringMap returns a StringMap parameter.
func (a Args) StringMap(name string) map[string]string {
	m, _ := a.get(name).(map[string]string)
	return m
}

// Condition returns an Expr parameter.
func (a Args) Condition(name string) Condition {
	c, _ := a.get(name).(Condition)
	return c
}
