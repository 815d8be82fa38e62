// Package actions holds every action a scenario step can run, the registry
// that describes them, and the per-run [Host] of operating-system objects the
// actions share.
//
// An action is one file: a [Spec] registered in init, whose New builds an
// [Action] from resolved parameters. What an action and pmrun agree on
// (Spec, Param, Event, Env …) is package contract, which the loader and
// the presentation import alone; this package fills the full
// [Registry], which `pmrun check`, `pmrun run` and `pmrun actions` all
// read, so adding an action never touches the runner.
//
// The Action is a type named after the action (spawnStep, prodconsStep).
// Its result is a struct with result tags (result.go), so that Spec.Results
// and what a step returns are declared once; testdata/results/<name>.yaml
// is the scenario with which TestResultsAreDocumented checks them. Threads
// and channel ends live in a place, the runner or an agent (package
// internal/place); the labs share internal/lab. docs/ARCHITECTURE.md draws
// the layers and the agent protocol.
package actions

import (
	"sync"

	"github.com/pmrun/pmrun/actions/contract"
)

// specs and sections are this package's actions and sections, appended
// by init in each action's file (so that nested steps make no
// initialization cycle); the host's own events are coreEvents.
var (
	specs    []*Spec
	sections []*Section
)

// register adds an action of this package.
func register(s *Spec) { specs = append(specs, s) }

// registerSection adds a top-level section of this package.
func registerSection(s *Section) { sections = append(sections, s) }

// NewRegistry returns a new registry of every action, section and event
// of pmrun, to which a test may add its own.
func NewRegistry() *contract.Registry {
	r := contract.NewRegistry()
	r.Declare("pmrun", coreEvents...)
	for _, s := range specs {
		r.Register(s)
	}
	for _, s := range sections {
		r.RegisterSection(s)
	}
	return r
}

// Registry returns the registry of every action, section and event of
// pmrun, made once: what the CLI loads scenarios against and shows their
// events with. Callers only read it.
func Registry() *contract.Registry { return full() }

var full = sync.OnceValue(NewRegistry)

// hostOf is the run's Host, behind the contract's opaque handle.
func hostOf(env *Env) *Host { return env.Host.(*Host) }

func intp(n int) *int { return &n }

// The contract's vocabulary under the names this package's files use;
// other packages name it contract.X.
type (
	Action         = contract.Action
	Result         = contract.Result
	Kind           = contract.Kind
	RefKind        = contract.RefKind
	Param          = contract.Param
	Decl           = contract.Decl
	Field          = contract.Field
	Spec           = contract.Spec
	ParamError     = contract.ParamError
	Static         = contract.Static
	Condition      = contract.Condition
	Args           = contract.Args
	Env            = contract.Env
	Section        = contract.Section
	SectionName    = contract.SectionName
	SectionError   = contract.SectionError
	ChannelConfig  = contract.ChannelConfig
	AssertionError = contract.AssertionError
	Event          = contract.Event
	Gauge          = contract.Gauge
	Count          = contract.Count
	RowKind        = contract.RowKind
	Row            = contract.Row
	Style          = contract.Style
	Mark           = contract.Mark
	End            = contract.End
	Start          = contract.Start
	Occurrence     = contract.Occurrence
	Label          = contract.Label
	Cond           = contract.Cond
	Fields         = contract.Fields
)

// The parameter kinds, object kinds and row kinds.
const (
	String    = contract.String
	Int       = contract.Int
	Bool      = contract.Bool
	Duration  = contract.Duration
	Size      = contract.Size
	Strings   = contract.Strings
	StringMap = contract.StringMap
	Expr      = contract.Expr

	NoRef      = contract.NoRef
	ProcessRef = contract.ProcessRef
	AgentRef   = contract.AgentRef
	ThreadRef  = contract.ThreadRef
	ChannelRef = contract.ChannelRef
	StepRef    = contract.StepRef
	ProgramRef = contract.ProgramRef

	StepsRow   = contract.StepsRow
	ProcessRow = contract.ProcessRow
	ThreadRow  = contract.ThreadRow
	ChannelRow = contract.ChannelRow
	WorkerRow  = contract.WorkerRow

	RunnerName     = contract.RunnerName
	DefaultChannel = contract.DefaultChannel
)

// The contract's functions this package's files use.
var (
	Paramf    = contract.Paramf
	Text      = contract.Text
	Always    = contract.Always
	IsTrue    = contract.IsTrue
	Equals    = contract.Equals
	FieldLine = contract.FieldLine
)
