package lang

// Vars: the scenario's vars as the file declares them, and the --var
// values that override them, each read for the type of its var.

import (
	"fmt"
	"sort"

	"go.yaml.in/yaml/v3"
)

func (l *loader) vars(v *yaml.Node) {
	if v.Kind != yaml.MappingNode {
		l.errorf(v, "vars must be a mapping of names to values")
		return
	}
	l.sc.Vars = map[string]any{}
	l.varDecls = map[string]*yaml.Node{}
	l.mapping(v, "vars", nil, func(key string, k, val *yaml.Node) {
		if !idPattern.MatchString(key) {
			l.errorf(k, "var name %q must match [a-z_][a-z0-9_]*", key)
			return
		}
		var x any
		if err := val.Decode(&x); err != nil {
			l.errorf(val, "var %s: %v", key, err)
			return
		}
		l.sc.Vars[key] = x
		l.varDecls[key] = val
		l.names.vars[key] = true
	})
}

// overrideVars applies the --var values to the vars the file declares; a
// value of the wrong type is an error at the var's value in the file. A
// name the file does not declare is not this file's: [UndeclaredVar]
// tells the command line when no file declares it.
func (l *loader) overrideVars() {
	names := make([]string, 0, len(l.opt.Vars))
	for name := range l.opt.Vars {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		decl, ok := l.varDecls[name]
		if !ok {
			continue
		}
		text := l.opt.Vars[name]
		v, err := varValue(l.sc.Vars[name], text)
		if err != nil {
			l.errs = append(l.errs, &Error{Pos: l.pos(decl), Msg: fmt.Sprintf("--var %s=%s: %v", name, text, err)})
			continue
		}
		l.sc.Vars[name] = v
		l.sc.VarArgs = append(l.sc.VarArgs, name+"="+text)
	}
}

// varValue reads text, a --var value, for the type of declared, the var's
// value in the file: a number must be a number, a boolean true or false,
// a list a YAML list; a string takes the text as it is, and a var
// declared empty takes the text read as YAML.
func varValue(declared any, text string) (any, error) {
	var y any
	if err := yaml.Unmarshal([]byte(text), &y); err != nil {
		y = text
	}
	switch d := declared.(type) {
	case string:
		return text, nil
	case int, int64, uint64:
		switch y.(type) {
		case int, int64, uint64:
			return y, nil
		}
		return nil, fmt.Errorf("the var is a whole number in the file (%v), not %q", d, text)
	case float64:
		switch n := y.(type) {
		case int:
			return float64(n), nil
		case float64:
			return n, nil
		}
		return nil, fmt.Errorf("the var is a number in the file (%v), not %q", d, text)
	case bool:
		if b, ok := y.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("the var is true or false in the file (%v), not %q", d, text)
	case []any:
		if list, ok := y.([]any); ok {
			return list, nil
		}
		return nil, fmt.Errorf("the var is a list in the file: write its value as one, such as '[a, b]', not %q", text)
	case map[string]any:
		if m, ok := y.(map[string]any); ok {
			return m, nil
		}
		return nil, fmt.Errorf("the var is a mapping in the file: write its value as one, such as '{a: 1}', not %q", text)
	}
	switch y.(type) {
	case []any, map[string]any, map[any]any:
		return text, nil
	}
	return y, nil
}
