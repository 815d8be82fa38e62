package lang

// Parameters: an action's parameters decoded for their kinds, as
// literals known at load or templates and expressions resolved when the
// step runs.

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

// params decodes an action's parameters: a mapping, or a scalar for the
// action's shorthand parameter.
func (l *loader) params(s *Step, key, v *yaml.Node) {
	spec := s.spec
	set := map[string]*yaml.Node{}
	switch {
	case v.Kind == yaml.MappingNode:
		var names []string
		for _, p := range spec.Params {
			names = append(names, p.Name)
		}
		l.mapping(v, spec.Name, names, func(name string, k, val *yaml.Node) {
			index := spec.ParamIndex(name)
			set[name] = k
			if pv := l.value(spec.Params[index], val); pv != nil {
				s.params = append(s.params, &param{def: &spec.Params[index], index: index, pos: l.pos(val), v: pv})
			}
		})
	case v.Kind == yaml.ScalarNode && v.Tag == "!!null":
		// Only the required-parameter check below has something to say.
	case v.Kind == yaml.ScalarNode && spec.Shorthand != "":
		index := spec.ParamIndex(spec.Shorthand)
		set[spec.Shorthand] = v
		if pv := l.value(spec.Params[index], v); pv != nil {
			s.params = append(s.params, &param{def: &spec.Params[index], index: index, pos: l.pos(v), v: pv})
		}
	case spec.Shorthand != "":
		l.errorf(v, "%s takes a mapping of parameters or a %s for %s, not %s", spec.Name, spec.Params[0].Kind, spec.Shorthand, kindName(v))
		return
	default:
		l.errorf(v, "%s takes a mapping of parameters, not %s", spec.Name, kindName(v))
		return
	}
	for _, p := range spec.Params {
		if p.Required && set[p.Name] == nil {
			l.errorf(key, "%s: missing required parameter %q (%s)", spec.Name, p.Name, p.Doc)
		}
	}
	for _, group := range spec.OneOf {
		var present []string
		for _, name := range group {
			if set[name] != nil {
				present = append(present, name)
			}
		}
		switch len(present) {
		case 0:
			l.errorf(key, "%s needs one of %s", spec.Name, strings.Join(group, ", "))
		case 1:
		default:
			l.errorf(set[present[1]], "%s takes only one of %s, but %s and %s are both set", spec.Name, strings.Join(group, ", "), present[0], present[1])
		}
	}
	l.later = append(l.later, func() []*Error {
		if !l.opt.checkOnly {
			s.literal = s.literalArgs()
			s.logFields = s.makeLogFields()
		}
		return l.checkStep(s)
	})
	if spec.Declare != nil {
		for _, d := range spec.Declare(s.static()) {
			if d.Name == "" {
				l.markDynamic(d.Kind)
			} else {
				l.declare(d.Kind, d.Name, s.ActionPos)
			}
		}
	}
}

// literalArgs returns the step's Args when every parameter is a literal,
// so running the step resolves nothing; nil otherwise.
func (s *Step) literalArgs() *contract.Args {
	values := make([]any, len(s.spec.Params))
	for _, p := range s.params {
		if !p.v.static {
			return nil
		}
		values[p.index] = p.v.lit
	}
	a := contract.NewArgs(s.spec, values)
	return &a
}

// static returns what is known of the step's parameters at load.
func (s *Step) static() contract.Static {
	values := make([]any, len(s.spec.Params))
	dynamic := map[string]bool{}
	for _, p := range s.params {
		if p.v.static {
			values[p.index] = p.v.lit
		} else {
			dynamic[p.def.Name] = true
		}
	}
	return contract.Static{Args: contract.NewArgs(s.spec, values), Dynamic: func(name string) bool { return dynamic[name] }}
}

// channel returns a channel the scenario declares, default included, for
// an action's Check (a send larger than the channel takes).
func (l *loader) channel(name string) (contract.ChannelConfig, bool) {
	if name == contract.DefaultChannel {
		return contract.ChannelConfig{Name: name, Kind: "pipe", Framing: "framed", MaxMessage: defaultMaxMessage}, true
	}
	for _, c := range l.sc.Channels {
		if c.Name == name {
			return contract.ChannelConfig{Name: c.Name, Kind: c.Kind, Framing: c.Framing, MaxMessage: c.MaxMessage}, true
		}
	}
	return contract.ChannelConfig{}, false
}

// value decodes a parameter's value node for the parameter's kind.
func (l *loader) value(def contract.Param, n *yaml.Node) *value {
	v := &value{pos: l.pos(n), text: n.Value}
	fail := func(format string, args ...any) *value {
		l.errorf(n, "%s: %s", def.Name, fmt.Sprintf(format, args...))
		return nil
	}
	if def.Kind == contract.Expr {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return fail("expected an expression, got %s", kindName(n))
		}
		src, pos := n.Value, l.contentPos(n)
		l.compiles.add(func() []*Error {
			p, errs := compile(src, pos, true, l.names)
			if !l.opt.checkOnly {
				v.cond = p
			}
			return errs
		})
		return v
	}
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return fail("expected a %s, got nothing", def.Kind)
		}
		if n.Tag == "!!str" && hasTemplate(n.Value) {
			return l.templated(v, n, &def)
		}
		lit, _ := l.literal(n)
		if def.Kind == contract.Strings {
			return fail("expected a list such as [sleep, \"1\"], got %s", quote(n))
		}
		return l.static(v, def, lit, n)
	case yaml.SequenceNode:
		if def.Kind != contract.Strings {
			return fail("expected a %s, got a list", def.Kind)
		}
		items := make([]*value, len(n.Content))
		dynamic := false
		for i, e := range n.Content {
			e = deref(e)
			if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
				return fail("item %d: expected a string, got %s", i+1, kindName(e))
			}
			items[i] = &value{pos: l.pos(e), text: e.Value, lit: e.Value, static: true}
			if e.Tag == "!!str" && hasTemplate(e.Value) {
				if l.templated(items[i], e, nil) == nil {
					return nil
				}
				dynamic = true
			}
		}
		if !dynamic {
			lits := make([]string, len(items))
			for i, it := range items {
				lits[i] = it.lit.(string)
			}
			v.lit, v.static = lits, true
			return v
		}
		v.parts = &valueParts{list: items}
		return v
	case yaml.MappingNode:
		if def.Kind != contract.StringMap {
			return fail("expected a %s, got a mapping", def.Kind)
		}
		dynamic := false
		lits := map[string]string{}
		parts := &valueParts{}
		l.mapping(n, def.Name, nil, func(key string, k, e *yaml.Node) {
			if e.Kind != yaml.ScalarNode {
				l.errorf(e, "%s.%s: expected a string, got %s", def.Name, key, kindName(e))
				return
			}
			item := &value{pos: l.pos(e), text: e.Value, lit: e.Value, static: true}
			if e.Tag == "!!str" && hasTemplate(e.Value) && l.templated(item, e, nil) != nil {
				dynamic = true
			}
			lits[key] = e.Value
			parts.keys = append(parts.keys, key)
			parts.vals = append(parts.vals, item)
		})
		if dynamic {
			v.parts = parts
		} else {
			v.lit, v.static = lits, true
		}
		return v
	}
	return fail("unexpected %s", kindName(n))
}

func (l *loader) static(v *value, def contract.Param, lit any, n *yaml.Node) *value {
	out, err := convert(def, lit)
	if err != nil {
		l.errorf(n, "%s: %v", def.Name, err)
		return nil
	}
	v.lit, v.static = out, true
	return v
}

// pendingTemplate stands for a template until it is parsed.
var pendingTemplate = &template{}

// templated parses a scalar holding ${{ }} once every id is known. When
// the scalar is a parameter's whole value (def is its parameter) and its
// expressions name nothing but vars, its value is known at load: a value
// a run would refuse (a --var below the parameter's minimum, a var that
// is no duration) is then an error here, where check finds it.
func (l *loader) templated(v *value, n *yaml.Node, def *contract.Param) *value {
	src, pos := n.Value, l.contentPos(n)
	v.static = false
	v.tmpl = pendingTemplate // replaced below; non-nil marks the value dynamic
	l.compiles.add(func() []*Error {
		t, errs := parseTemplate(src, pos, l.names)
		if len(errs) > 0 {
			return errs
		}
		if def != nil && t.varsOnly() {
			raw, err := t.eval(l.varScope)
			var out any
			if err == nil {
				out, err = convert(*def, raw)
			}
			if err != nil {
				return []*Error{{Pos: v.pos, Msg: fmt.Sprintf("%s: %v (the value of %s, from vars)", def.Name, err, src)}}
			}
			v.lit, v.fromVars = out, true
		}
		if !l.opt.checkOnly {
			v.tmpl = t
		}
		return nil
	})
	return v
}
