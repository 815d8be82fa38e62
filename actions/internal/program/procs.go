package program

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

// Procedures: operations with parameters, declared once and put in place
// by each call: — the lightswitch written once for two rooms, Tanenbaum's
// test(i) for each neighbour. A call is compiled into the calling
// thread's code (there is no call stack in a state, and no step of its
// own): each parameter stands for what the call gives it —
//
//   - an object, or an element of an array (room_empty, fork[self]): the
//     body's operations act on it, and its expressions read it;
//   - a number known at load (self, 3, (self + 4) % 5, a parameter given
//     such): it may index an array;
//   - any other expression: its value when the call starts, in a local of
//     the calling thread (a step when it reads a shared variable).
//
// Errors in a body are at their line and column in the procedure, with
// the call they were made for.

var procKeys = []string{"params", "do"}

// procedures reads procedures: {NAME: {params: [P, …], do: [ops]}}.
func (p *parser) procedures(d *Def, v *yaml.Node) {
	p.mapping(v, "procedures", nil, func(name string, k, val *yaml.Node) {
		if !p.name(k, "procedure") {
			return
		}
		proc := ProcDecl{Decl: Decl{Name: name, Pos: pos(k)}}
		what := "procedure " + name
		var body *yaml.Node
		if val.Kind == yaml.SequenceNode {
			body = val // no parameters: the list of operations alone
		} else {
			p.mapping(val, what, procKeys, func(key string, _, v2 *yaml.Node) {
				switch key {
				case "params":
					proc.Params = p.params(v2, what)
				case "do":
					body = v2
				}
			})
		}
		if body == nil {
			p.errorf(val, "%s needs do: [operations] (and params: [names], if it takes any)", what)
			return
		}
		proc.Body = p.ops(body, what)
		d.Procedures = append(d.Procedures, proc)
	})
}

func (p *parser) params(v *yaml.Node, what string) []Decl {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "%s: params must be a list of names, not %s", what, kindName(v))
		return nil
	}
	var out []Decl
	for _, e := range v.Content {
		e = deref(e)
		if e.Kind != yaml.ScalarNode || !p.name(e, what+" parameter") {
			continue
		}
		if slices.ContainsFunc(out, func(d Decl) bool { return d.Name == e.Value }) {
			p.errorf(e, "%s: parameter %s twice", what, e.Value)
			continue
		}
		out = append(out, Decl{Name: e.Value, Pos: pos(e)})
	}
	return out
}

// callText reads a call's NAME(ARG, …) into the procedure's name and its
// arguments, each with its position.
func callText(src string, at Pos) (name string, args []Expr, ok bool) {
	open := strings.IndexByte(src, '(')
	if open < 0 {
		name = strings.TrimSpace(src)
		return name, nil, identRe.MatchString(name)
	}
	name = strings.TrimSpace(src[:open])
	if !identRe.MatchString(name) || !strings.HasSuffix(strings.TrimSpace(src), ")") {
		return "", nil, false
	}
	inner := strings.TrimSpace(src)
	inner = inner[open+1 : len(inner)-1]
	if strings.TrimSpace(inner) == "" {
		return name, nil, true
	}
	depth, start := 0, 0
	add := func(end int) {
		text := inner[start:end]
		lead := len(text) - len(strings.TrimLeft(text, " "))
		args = append(args, Expr{Src: strings.TrimSpace(text), Pos: Pos{Line: at.Line, Col: at.Col + open + 1 + start + lead}})
	}
	for i, r := range inner {
		switch r {
		case '(', '[', '{':
			depth++
		case ')', ']', '}':
			depth--
		case ',':
			if depth == 0 {
				add(i)
				start = i + 1
			}
		}
	}
	add(len(inner))
	for _, a := range args {
		if a.Src == "" {
			return "", nil, false
		}
	}
	return name, args, depth == 0
}

// frame is the parameters of a call being compiled, and what each stands
// for.
type frame struct {
	proc  *ProcDecl
	call  Pos
	binds map[string]binding
}

// binding is what a parameter stands for in a call.
type binding struct {
	object string // an object or an array, by its name: room_empty, fork[2], fork
	kind   string // its kind, as compiler.objects says
	static bool   // a number known at load
	value  int64
}

// bound finds what name stands for in the calls being compiled, the
// innermost first.
func (b *builder) bound(name string) (binding, bool) {
	for i := len(b.frames) - 1; i >= 0; i-- {
		if bind, ok := b.frames[i].binds[name]; ok {
			return bind, true
		}
	}
	return binding{}, false
}

// compileCall puts a procedure's body in place, its parameters bound to
// the call's arguments.
func compileCall(b *builder, op *Op, in instr) {
	c := b.c
	name, args, ok := callText(op.Object, op.ObjectPos)
	if !ok {
		c.errs.add(op.ObjectPos, "call: want NAME(ARGUMENTS), such as lock(readers, room_empty), not %q", op.Object)
		return
	}
	proc, known := c.procs[name]
	if !known {
		var names []string
		for n := range c.procs {
			names = append(names, n)
		}
		slices.Sort(names)
		c.errs.add(op.ObjectPos, "call: unknown procedure %q%s", name, contract.DidYouMean(name, names))
		return
	}
	if len(args) != len(proc.Params) {
		c.errs.add(op.ObjectPos, "call %s: %s takes %d %s (%s), not %d", name, name, len(proc.Params), pluralWord(len(proc.Params), "argument", "arguments"), paramNames(proc), len(args))
		return
	}
	for _, f := range b.frames {
		if f.proc == proc {
			c.errs.add(op.Pos, "call %s: %s calls itself (through %s): a call is put in place of itself, so a procedure cannot recurse", name, name, f.proc.Name)
			return
		}
	}
	f := &frame{proc: proc, call: op.Pos, binds: map[string]binding{}}
	outer := b.sc
	inner := outer.child()
	for i, a := range args {
		param := proc.Params[i].Name
		bind, ok := b.argument(a, param, name, inner)
		if !ok {
			return
		}
		f.binds[param] = bind
	}
	b.frames = append(b.frames, f)
	b.sc = inner
	note := b.c.errs.note
	b.c.errs.note = b.inCall()
	b.ops(proc.Body)
	b.c.errs.note = note
	b.sc = outer
	b.frames = b.frames[:len(b.frames)-1]
}

// argument binds a parameter to a call's argument: an object (or an
// element, or an array), a number known at load, or a value computed
// into a local of the thread.
func (b *builder) argument(a Expr, param, proc string, inner *scope) (binding, bool) {
	c := b.c
	what := "call " + proc + " argument " + param
	name, index, _, plain := splitIndex(a.Src)
	if plain {
		if bind, ok := b.bound(name); ok && index == "" {
			b.bindInScope(inner, param, bind)
			return bind, true
		}
		if bind, ok := b.bound(name); ok && bind.object != "" {
			// An element of an array that a parameter stands for.
			i, elem, ok := b.element(bind.kind, bind.object, index, a.Pos, what)
			if !ok {
				return binding{}, false
			}
			_ = i
			bind := binding{object: elem, kind: bind.kind}
			b.bindInScope(inner, param, bind)
			return bind, true
		}
		if kind, ok := c.objects[name]; ok && index == "" {
			bind := binding{object: name, kind: kind}
			b.bindInScope(inner, param, bind)
			return bind, true
		}
		if arr, ok := c.arrays[name]; ok {
			if _, static := b.quietStatic(index); static || arr.kind != "variable" {
				_, elem, ok := b.element(arr.kind, name, index, a.Pos, what)
				if !ok {
					return binding{}, false
				}
				bind := binding{object: elem, kind: arr.kind}
				b.bindInScope(inner, param, bind)
				return bind, true
			}
			// state[k], k a local: its value when the call starts.
		}
	}
	// A value: a number known at load, else computed when the call starts.
	if v, ok := b.quietStatic(a.Src); ok {
		bind := binding{static: true, value: v}
		inner.statics[param] = v
		return bind, true
	}
	e := b.expr(a, wantValue, what)
	if e == nil {
		return binding{}, false
	}
	r := ref{name: param, kind: refLocal, idx: len(b.code.locals), isBool: e.isBool}
	b.code.locals = append(b.code.locals, localInfo{name: param, isBool: e.isBool})
	inner.locals[param] = r
	b.emit(instr{kind: iLocal, op: OpCall, pos: a.Pos, slot: r.idx, e: e, text: "call " + proc + ": " + param + " = " + a.Src,
		visible: e.shared, fp: Footprint{Reads: readsOf(e)}})
	return binding{}, true
}

// bindInScope lets the body's expressions read an object parameter: a
// variable under the parameter's name, an array of variables by its own.
func (b *builder) bindInScope(sc *scope, param string, bind binding) {
	if bind.kind != "variable" || bind.object == "" {
		return
	}
	if a, ok := b.c.arrays[bind.object]; ok {
		sc.renames[param] = bind.object
		_ = a
		return
	}
	if r, ok := sc.vars[bind.object]; ok {
		r.name = param
		sc.aliases[param] = r
	}
}

// quietStatic computes a value known at load, or says it is not one,
// without an error.
func (b *builder) quietStatic(src string) (int64, bool) {
	errs := b.c.errs
	b.c.errs = errorList{}
	v, ok := b.staticIndex(src, Pos{}, "")
	b.c.errs = errs
	return v, ok
}

func paramNames(p *ProcDecl) string {
	names := make([]string, len(p.Params))
	for i, d := range p.Params {
		names[i] = d.Name
	}
	return strings.Join(names, ", ")
}

func pluralWord(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// inCall is the suffix of an error made while compiling a procedure's
// body: which call it was made for.
func (b *builder) inCall() string {
	if len(b.frames) == 0 {
		return ""
	}
	f := b.frames[len(b.frames)-1]
	return fmt.Sprintf(" (in %s, called at %d:%d)", f.proc.Name, f.call.Line, f.call.Col)
}
