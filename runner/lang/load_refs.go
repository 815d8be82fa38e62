package lang

// References: the objects steps declare (processes, agents, threads,
// channels) and the checks, once the whole file is read, that every name a
// step refers to was declared.

import (
	"errors"
	"fmt"

	"github.com/pmrun/pmrun/actions"
)

func (l *loader) declare(kind actions.RefKind, name string, pos Pos) {
	m := l.decls[kind]
	if m == nil {
		m = map[string]Pos{}
		l.decls[kind] = m
	}
	if first, dup := m[name]; dup && (kind == actions.ProcessRef || kind == actions.ThreadRef) {
		l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("duplicate %s name %q (first at line %d)", kind, name, first.Line)})
		return
	}
	m[name] = pos
}

func (l *loader) markDynamic(kind actions.RefKind) {
	if l.dynamic == nil {
		l.dynamic = map[actions.RefKind]bool{}
	}
	l.dynamic[kind] = true
}

// checkStep checks what needs the whole file: references to declared
// objects, and the action's own checks.
func (l *loader) checkStep(s *Step) (errs []*Error) {
	for _, p := range s.params {
		if p.def.Ref == actions.NoRef || !p.v.static {
			continue
		}
		name, _ := p.v.lit.(string)
		if msg := l.checkRef(p.def.Ref, name); msg != "" {
			errs = append(errs, &Error{Pos: p.pos, Msg: s.Action + ": " + p.def.Name + ": " + msg})
		}
	}
	if s.spec.Check == nil {
		return errs
	}
	static := s.static()
	static.Section = func(key string) any { return l.sc.Sections[key] }
	for _, err := range s.spec.Check(static) {
		pos := s.ActionPos
		var pe *actions.ParamError
		if errors.As(err, &pe) {
			for _, p := range s.params {
				if p.def.Name == pe.Param {
					pos = p.pos
				}
			}
		}
		errs = append(errs, &Error{Pos: pos, Msg: s.Action + ": " + err.Error()})
	}
	return errs
}

func (l *loader) checkRef(kind actions.RefKind, name string) string {
	switch kind {
	case actions.AgentRef:
		if name == actions.RunnerName {
			return ""
		}
		if _, ok := l.decls[actions.AgentRef][name]; ok {
			return ""
		}
		if _, ok := l.decls[actions.ProcessRef][name]; ok {
			return fmt.Sprintf("process %q is not an agent: spawn it with agent: true", name)
		}
		if l.dynamic[actions.ProcessRef] {
			return ""
		}
		return fmt.Sprintf("no agent named %q: use %s or the name of a spawn with agent: true%s", name, actions.RunnerName, DidYouMean(name, keys(l.decls[actions.AgentRef])))
	case actions.StepRef:
		pos, ok := l.ids[name]
		if !ok {
			return fmt.Sprintf("no step with id %q%s", name, DidYouMean(name, keys(l.ids)))
		}
		for _, s := range l.sc.Steps {
			if s.ID == name && !s.Background {
				return fmt.Sprintf("step %q (line %d) does not run in the background: add background: true to it", name, pos.Line)
			}
		}
		return ""
	}
	if _, ok := l.decls[kind][name]; ok || l.dynamic[kind] {
		return ""
	}
	if kind == actions.ChannelRef && name == "default" {
		return ""
	}
	return fmt.Sprintf("no %s named %q%s", kind, name, DidYouMean(name, keys(l.decls[kind])))
}
