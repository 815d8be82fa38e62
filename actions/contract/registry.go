package contract

import (
	"fmt"
	"sort"
)

// Registry is a set of actions, the top-level sections they own and the
// events they declare: what the loader checks a scenario against, what
// `pmrun actions` and `pmrun schema` print, and what the timeline, the
// report and the console read to show events. It is filled explicitly:
// package actions fills the full one (actions.Registry); a test makes one
// with only what it needs. Filled before use, it is read concurrently
// without locks, so nothing registers once runs have started.
//
// The Register methods panic on a mistake (a name registered twice, a
// malformed event): a programming error, which any test catches at start.
type Registry struct {
	specs    map[string]*Spec
	sections map[string]*Section
	events   map[string]*Event
	// styleColors keeps the colour of each style name on each kind of
	// row, which must be one: the report draws by class.
	styleColors map[string]string
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{
		specs:       map[string]*Spec{},
		sections:    map[string]*Section{},
		events:      map[string]*Event{},
		styleColors: map[string]string{},
	}
}

// Register adds an action, and the events it declares ([Spec.Events]).
func (r *Registry) Register(s *Spec) {
	if _, dup := r.specs[s.Name]; dup {
		panic("contract: duplicate action " + s.Name)
	}
	r.Declare(s.Name, s.Events...)
	r.specs[s.Name] = s
}

// RegisterSection adds a top-level section (see [Section]).
func (r *Registry) RegisterSection(s *Section) {
	if _, dup := r.sections[s.Key]; dup || s.Load == nil {
		panic("contract: section " + s.Key + " registered twice or without Load")
	}
	r.sections[s.Key] = s
}

// Declare adds events that owner logs and no one action declares: the
// host's (a process's, a thread's life). The same declaration may be
// declared twice (two actions that log one event list it both); another
// event of the same name may not, nor one style name with two colours on
// one kind of row.
func (r *Registry) Declare(owner string, evs ...*Event) {
	for _, e := range evs {
		r.check(owner, e)
		for _, s := range e.Starts {
			if s.Style != nil {
				r.styleColors[e.Row.Kind.String()+"."+s.Style.Name] = s.Style.Color
			}
		}
		r.events[e.Name] = e
	}
}

// check panics unless e can be declared beside the events declared so far.
func (r *Registry) check(owner string, e *Event) {
	if e == nil || !isFieldName(e.Name) {
		panic("contract: " + owner + " declares an event without a name of [a-z0-9_]")
	}
	if old, dup := r.events[e.Name]; dup && old != e {
		panic("contract: " + owner + " declares event " + e.Name + ", declared already")
	}
	for _, name := range runnerEvents {
		if e.Name == name {
			panic("contract: " + owner + " declares event " + e.Name + ", one of the runner's own")
		}
	}
	if g := e.Gauge; g != nil && (!isFieldName(g.Field) || !isColor(g.Color) || (g.Max != "" && !isFieldName(g.Max))) {
		panic(fmt.Sprintf("contract: %s: event %s: gauge field %q, max %q, colour %q", owner, e.Name, g.Field, g.Max, g.Color))
	}
	if m := e.Mark; m != nil && !isColor(m.Color) {
		panic(fmt.Sprintf("contract: %s: event %s: mark colour %q is not #rgb, #rrggbb or a name", owner, e.Name, m.Color))
	}
	own := map[string]string{} // the event's own styles, which must agree too
	for _, s := range e.Starts {
		if s.Style == nil {
			continue
		}
		if !isFieldName(s.Style.Name) || !isColor(s.Style.Color) {
			panic(fmt.Sprintf("contract: %s: event %s: style %q, colour %q: want a name of [a-z0-9_] and #rgb, #rrggbb or a colour's name", owner, e.Name, s.Style.Name, s.Style.Color))
		}
		key := e.Row.Kind.String() + "." + s.Style.Name
		c, ok := r.styleColors[key]
		if !ok {
			c, ok = own[key]
		}
		if ok && c != s.Style.Color {
			panic(fmt.Sprintf("contract: %s: style %s of a %s row is %s here and %s elsewhere", owner, s.Style.Name, e.Row.Kind, s.Style.Color, c))
		}
		own[key] = s.Style.Color
	}
}

// Lookup returns the named action's spec.
func (r *Registry) Lookup(name string) (*Spec, bool) {
	s, ok := r.specs[name]
	return s, ok
}

// All returns every action, sorted by name.
func (r *Registry) All() []*Spec {
	return sorted(r.specs, func(s *Spec) string { return s.Name })
}

// Names returns the action names, sorted.
func (r *Registry) Names() []string {
	out := make([]string, 0, len(r.specs))
	for name := range r.specs {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// LookupSection returns the section with that top-level key.
func (r *Registry) LookupSection(key string) (*Section, bool) {
	s, ok := r.sections[key]
	return s, ok
}

// Sections returns every section, sorted by key.
func (r *Registry) Sections() []*Section {
	return sorted(r.sections, func(s *Section) string { return s.Key })
}

// LookupEvent returns the declaration of the named event.
func (r *Registry) LookupEvent(name string) (*Event, bool) {
	e, ok := r.events[name]
	return e, ok
}

// Events returns every declared event, sorted by name.
func (r *Registry) Events() []*Event {
	return sorted(r.events, func(e *Event) string { return e.Name })
}

// sorted returns the values of m sorted by key.
func sorted[V any](m map[string]V, key func(V) string) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}
