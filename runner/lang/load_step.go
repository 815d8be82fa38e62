package lang

// Steps: the keys every step shares, its one action, retry and the
// conditions compiled once every id is known.

import (
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

var stepKeys = []string{"id", "name", "if", "timeout", "retry", "continue_on_error", "background", "points"}

var retryKeys = []string{"until", "attempts", "interval"}

func (l *loader) steps(n *yaml.Node, finally bool, first int) []*Step {
	section := "steps"
	if finally {
		section = "finally"
	}
	if n.Kind != yaml.SequenceNode {
		l.errorf(n, "%s must be a list of steps, each starting with -", section)
		return nil
	}
	if len(n.Content) == 0 && !finally {
		l.errorf(n, "steps is empty: a scenario needs at least one step")
		return nil
	}
	out := make([]*Step, 0, len(n.Content))
	for i, sn := range n.Content {
		if s := l.step(deref(sn), first+i, finally); s != nil {
			out = append(out, s)
		}
		// What the step needs of its node is in the Step now: let the
		// garbage collector have the node while the file loads on (a
		// long file's nodes are several times the size of its text).
		n.Content[i] = nil
	}
	return out
}

func (l *loader) step(n *yaml.Node, index int, finally bool) *Step {
	s := &Step{Pos: l.pos(n), Index: index, Finally: finally}
	if n.Kind != yaml.MappingNode {
		l.errorf(n, "a step is a mapping with one action, such as - sleep: 1s; got %s", kindName(n))
		return nil
	}
	if len(n.Content) > 0 {
		s.Pos = l.pos(n.Content[0])
	}
	var actionKey, actionVal *yaml.Node
	var extra, unknown []*yaml.Node
	l.mapping(n, "step", nil, func(key string, k, v *yaml.Node) {
		switch key {
		case "id":
			s.ID = l.str(v, "id")
			if s.ID != "" && !idPattern.MatchString(s.ID) {
				l.errorf(v, "id %q must match [a-z_][a-z0-9_]* (lowercase letters, digits, _)", s.ID)
			} else if first, dup := l.ids[s.ID]; dup && s.ID != "" {
				l.errorf(v, "duplicate id %q (first at line %d)", s.ID, first.Line)
			} else if s.ID != "" {
				l.ids[s.ID] = l.pos(v) // collectIDs has named it to expressions
			}
		case "name":
			s.Name = l.str(v, "name")
		case "if":
			l.condition(v, "if", func(p *Program) { s.If = p })
		case "timeout":
			if d, ok := l.duration(v, "timeout"); ok {
				if d == 0 {
					l.errorf(v, "timeout must be more than 0")
				}
				s.Timeout = d
			}
		case "retry":
			s.Retry = l.retry(v)
		case "continue_on_error":
			s.ContinueOnError = l.boolean(v, "continue_on_error")
		case "points":
			s.Points = l.points(v)
		case "background":
			s.Background = l.boolean(v, "background")
			if s.Background && finally {
				l.errorf(v, "a finally step cannot run in the background")
			}
		default:
			if _, ok := l.reg.Lookup(key); ok {
				if actionKey != nil {
					extra = append(extra, k)
					return
				}
				actionKey, actionVal = k, v
				return
			}
			unknown = append(unknown, k)
		}
	})
	if actionKey != nil && bare(actionVal) {
		if moved := l.paramsBeside(n, actionKey); len(moved) > 0 {
			them, are := "it", "is"
			if len(moved) > 1 {
				them, are = "them", "are"
			}
			l.errorf(actionKey, "%s: has no parameters, but %s below it %s %s's: indent %s under %s: (two spaces more than %s)",
				actionKey.Value, andList(moved), are, actionKey.Value, them, actionKey.Value, actionKey.Value)
			for _, k := range unknown {
				if !slices.Contains(moved, k.Value) {
					l.unknownStepKey(k)
				}
			}
			return nil
		}
	}
	for _, k := range unknown {
		l.unknownStepKey(k)
	}
	for _, k := range extra {
		l.errorf(k, "a step runs one action, but this one also has %q (found %q first at line %d): split it into two steps", k.Value, actionKey.Value, actionKey.Line)
	}
	if actionKey == nil {
		if len(unknown) == 0 {
			l.errorf(n, "step has no action: add one such as log: or sleep: (pmrun actions lists them all)")
		}
		return nil
	}
	if s.ID != "" && l.byID[s.ID] == nil {
		l.byID[s.ID] = s
	}
	s.Action = actionKey.Value
	s.ActionPos = l.pos(actionKey)
	s.spec, _ = l.reg.Lookup(s.Action)
	l.params(s, actionKey, actionVal)
	return s
}

// bare reports whether an action's value is nothing at all (spawn: and
// the end of the line), not an explicit null.
func bare(v *yaml.Node) bool {
	return v.Kind == yaml.ScalarNode && v.Tag == "!!null" && v.Value == ""
}

// paramsBeside returns the keys of step n, below its action key and at
// its column, that are parameters of that action: what was meant to be
// indented under it.
func (l *loader) paramsBeside(n, actionKey *yaml.Node) []string {
	spec, _ := l.reg.Lookup(actionKey.Value)
	if spec == nil {
		return nil
	}
	var moved []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k == actionKey || k.Line <= actionKey.Line || k.Column != actionKey.Column {
			continue
		}
		for _, p := range spec.Params {
			if p.Name == k.Value {
				moved = append(moved, k.Value)
				break
			}
		}
	}
	return moved
}

// andList writes names as "a", "a and b", "a, b and c".
func andList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

func (l *loader) unknownStepKey(k *yaml.Node) {
	names := l.reg.Names()
	if c := contract.Nearest(k.Value, names); c != "" {
		l.errorf(k, "unknown action %q, did you mean %q?", k.Value, c)
		return
	}
	if c := contract.Nearest(k.Value, stepKeys); c != "" {
		l.errorf(k, "unknown step key %q, did you mean %q?", k.Value, c)
		return
	}
	l.errorf(k, "unknown action %q (see pmrun actions for the list)", k.Value)
}

func (l *loader) boolean(v *yaml.Node, what string) bool {
	var b bool
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" && (v.Value == "true" || v.Value == "false") {
		return v.Value == "true" // what Decode would say, without a decoder
	}
	if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" || v.Decode(&b) != nil {
		l.errorf(v, "%s must be true or false, not %s", what, quote(v))
	}
	return b
}

func (l *loader) retry(v *yaml.Node) *Retry {
	r := &Retry{Attempts: 3, Interval: 100 * time.Millisecond}
	if v.Kind != yaml.MappingNode {
		l.errorf(v, "retry must be a mapping: {until: EXPR, attempts: N, interval: 100ms}")
		return r
	}
	l.mapping(v, "retry", retryKeys, func(key string, k, val *yaml.Node) {
		switch key {
		case "until":
			l.condition(val, "until", func(p *Program) { r.Until = p })
		case "attempts":
			var n int
			if val.Kind != yaml.ScalarNode || val.Tag != "!!int" || val.Decode(&n) != nil || n < 1 || n > 1_000_000 {
				l.errorf(val, "attempts must be a whole number from 1 to 1000000, not %s", quote(val))
			} else {
				r.Attempts = n
			}
		case "interval":
			if d, ok := l.duration(val, "interval"); ok {
				r.Interval = d
			}
		}
	})
	return r
}

// condition compiles a boolean expression once every id is known.
func (l *loader) condition(v *yaml.Node, what string, set func(*Program)) {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		l.errorf(v, "%s must be an expression, not %s", what, kindName(v))
		return
	}
	src, pos := v.Value, l.contentPos(v)
	l.compiles.add(func() []*Error {
		p, errs := compile(src, pos, true, l.names)
		if p != nil && !l.opt.checkOnly {
			set(p)
		}
		return errs
	})
}

// contentPos is where a scalar's text starts in the file: after an opening
// quote, or on the first line of a block scalar.
func (l *loader) contentPos(v *yaml.Node) Pos {
	p := l.pos(v)
	switch v.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		p.Col++
	case yaml.LiteralStyle, yaml.FoldedStyle:
		for line := v.Line; ; line++ {
			text, ok := l.lineText(line)
			if !ok {
				break
			}
			if strings.TrimSpace(text) != "" {
				p.Line = line + 1
				p.Col = len(text) - len(strings.TrimLeft(text, " ")) + 1
				break
			}
		}
	}
	return p
}
