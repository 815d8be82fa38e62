package lang

// References: the objects steps declare (processes, agents, threads,
// channels) and the checks, once the whole file is read, that every name a
// step refers to was declared.

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/pmrun/pmrun/actions/contract"
)

func (l *loader) declare(kind contract.RefKind, name string, pos Pos) {
	m := l.decls[kind]
	if m == nil {
		m = map[string]Pos{}
		l.decls[kind] = m
	}
	if first, dup := m[name]; dup && (kind == contract.ProcessRef || kind == contract.ThreadRef) {
		l.errs = append(l.errs, &Error{Pos: pos, Msg: fmt.Sprintf("duplicate %s name %q (first at line %d)", kind, name, first.Line)})
		return
	}
	m[name] = pos
}

func (l *loader) markDynamic(kind contract.RefKind) {
	if l.dynamic == nil {
		l.dynamic = map[contract.RefKind]bool{}
	}
	l.dynamic[kind] = true
}

// checkStep checks what needs the whole file: references to declared
// objects (named by a literal; a step also by a template of vars alone),
// and the action's own checks.
func (l *loader) checkStep(s *Step) (errs []*Error) {
	for _, p := range s.params {
		// A step named by vars is checked too, as checkWaits needs it;
		// other names from vars are left to the run, which says which
		// object is missing.
		lit, known := p.v.lit, p.v.static
		if p.def.Ref == contract.StepRef {
			lit, known = p.v.known()
		}
		if p.def.Ref == contract.NoRef || !known {
			continue
		}
		name, _ := lit.(string)
		if msg := l.checkRef(p.def.Ref, name); msg != "" {
			errs = append(errs, &Error{Pos: p.pos, Msg: s.Action + ": " + p.def.Name + ": " + msg})
		}
	}
	if s.spec.Check == nil {
		return errs
	}
	static := s.static()
	static.Channel = l.channel
	static.Section = func(key string) any { return l.sc.Sections[key] }
	for _, err := range s.spec.Check(static) {
		pos := s.ActionPos
		var pe *contract.ParamError
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

func (l *loader) checkRef(kind contract.RefKind, name string) string {
	switch kind {
	case contract.AgentRef:
		if name == contract.RunnerName {
			return ""
		}
		if _, ok := l.decls[contract.AgentRef][name]; ok {
			return ""
		}
		if _, ok := l.decls[contract.ProcessRef][name]; ok {
			return fmt.Sprintf("process %q is not an agent: spawn it with agent: true", name)
		}
		if l.dynamic[contract.ProcessRef] {
			return ""
		}
		return fmt.Sprintf("no agent named %q: use %s or the name of a spawn with agent: true%s", name, contract.RunnerName, contract.DidYouMean(name, keys(l.decls[contract.AgentRef])))
	case contract.StepRef:
		pos, ok := l.ids[name]
		if !ok {
			return fmt.Sprintf("no step with id %q%s", name, contract.DidYouMean(name, keys(l.ids)))
		}
		if s := l.byID[name]; s != nil && !s.Background {
			return fmt.Sprintf("step %q (line %d) does not run in the background: add background: true to it", name, pos.Line)
		}
		return ""
	}
	if _, ok := l.decls[kind][name]; ok || l.dynamic[kind] {
		return ""
	}
	if kind == contract.ChannelRef && name == "default" {
		return ""
	}
	return fmt.Sprintf("no %s named %q%s", kind, name, contract.DidYouMean(name, keys(l.decls[kind])))
}

// checkWaits finds the waits on background steps that can never end or
// never begin: a background step that waits for itself, background steps
// that wait for each other in a cycle (each would wait until the
// scenario's time is up), and a step of the main sequence that waits for
// a background step after it (which has not started when it runs).
func (l *loader) checkWaits() {
	// waitsFor is the step each step waits for, by index, from the values
	// of its step references known at load (literals, templates of vars).
	waitsFor := map[*Step][]*Step{}
	refPos := map[[2]*Step]Pos{}
	for _, s := range append(slices.Clip(l.sc.Steps), l.sc.Finally...) {
		for _, p := range s.params {
			lit, known := p.v.known()
			if p.def.Ref != contract.StepRef || !known {
				continue
			}
			name, _ := lit.(string)
			target := l.byID[name]
			if target == nil || !target.Background {
				continue // checkRef says why
			}
			switch {
			case target == s:
				l.errs = append(l.errs, &Error{Pos: p.pos, Msg: fmt.Sprintf("%s: %s: step %q waits for itself: it would never end", s.Action, p.def.Name, name)})
			case !s.Background && !s.Finally && target.Index > s.Index:
				l.errs = append(l.errs, &Error{Pos: p.pos, Msg: fmt.Sprintf("%s: %s: step %q (line %d) comes after this one: it has not started when this runs", s.Action, p.def.Name, name, target.Pos.Line)})
			case s.Background:
				waitsFor[s] = append(waitsFor[s], target)
				refPos[[2]*Step{s, target}] = p.pos
			}
		}
	}
	// Background steps that wait for each other: a cycle in waitsFor,
	// reported once, at the wait of its first step in the file.
	const (
		unseen = iota
		onPath
		done
	)
	state := map[*Step]int{}
	var path []*Step
	var visit func(s *Step)
	visit = func(s *Step) {
		state[s] = onPath
		path = append(path, s)
		for _, t := range waitsFor[s] {
			switch state[t] {
			case unseen:
				visit(t)
			case onPath:
				cycle := path[slices.Index(path, t):]
				first := slices.MinFunc(slices.Clone(cycle), func(a, b *Step) int { return a.Index - b.Index })
				at := slices.Index(cycle, first)
				var names []string
				for i := range cycle {
					names = append(names, fmt.Sprintf("%q", cycle[(at+i)%len(cycle)].ID))
				}
				next := cycle[(at+1)%len(cycle)]
				l.errs = append(l.errs, &Error{Pos: refPos[[2]*Step{first, next}], Msg: fmt.Sprintf("%s: background steps wait for each other in a cycle (%s, then %q again): none of them would ever end", first.Action, strings.Join(names, " waits for "), first.ID)})
			}
		}
		path = path[:len(path)-1]
		state[s] = done
	}
	for _, s := range l.sc.Steps {
		if state[s] == unseen && len(waitsFor[s]) > 0 {
			visit(s)
		}
	}
}
