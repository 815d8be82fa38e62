package program

import (
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"github.com/pmrun/pmrun/actions/contract"
)

// refKind says where a name an expression reads lives.
type refKind uint8

const (
	refVar   refKind = iota // a shared variable: reading it is a visible step
	refLocal                // a thread-local
	refSelf                 // the index of a counted thread
	refArray                // a whole array of shared variables, read with an index only a run knows
)

// ref is a name an expression reads.
type ref struct {
	name   string
	kind   refKind
	idx    int // variable index (an array's first element), or local slot
	n      int // an array's elements
	isBool bool
}

// want is the type an expression must have.
type want uint8

const (
	wantBool want = iota
	wantInt
	wantValue // int or bool
)

// cexpr is an expression compiled once, at load, with the names it reads.
// Evaluating one binds only those names in a reused environment; a
// constant or a lone name is evaluated without expr's machine.
type cexpr struct {
	src    string
	pos    Pos
	prog   *vm.Program
	refs   []ref
	shared bool // reads a shared variable
	isBool bool // its value is a bool (0 or 1)
	konst  bool
	kval   int64
	single bool // the expression is exactly refs[0]
	bin    *binary
}

// scope is what an expression may name: the program's variables, the
// thread's locals declared so far, and self in a counted thread. Other
// objects are known so that naming one gets a clear message.
type scope struct {
	vars    map[string]ref
	locals  map[string]ref
	hasSelf bool
	objects map[string]string // name → "semaphore", "mutex", …
	// In a procedure's body: the parameters that stand for a variable
	// (read under the parameter's name), for a number known at load, or
	// for an array of variables (by the array's name).
	aliases map[string]ref
	statics map[string]int64
	renames map[string]string
	// arrays are the arrays of variables; self, when it is not -1, the
	// thread's index, known at load, for an element's index (usedSelf
	// then says that one read it).
	arrays   map[string]arrayInfo
	self     int
	usedSelf *bool
}

// child is the scope of a call's body: sc's names, and the parameters'
// that the call adds.
func (sc *scope) child() *scope {
	c := *sc
	c.locals = maps.Clone(sc.locals)
	c.aliases = maps.Clone(sc.aliases)
	c.statics = maps.Clone(sc.statics)
	c.renames = maps.Clone(sc.renames)
	if c.aliases == nil {
		c.aliases = map[string]ref{}
	}
	if c.statics == nil {
		c.statics = map[string]int64{}
	}
	if c.renames == nil {
		c.renames = map[string]string{}
	}
	return &c
}

func (sc *scope) lookup(name string) (ref, bool) {
	if r, ok := sc.locals[name]; ok {
		return r, true
	}
	if r, ok := sc.aliases[name]; ok {
		return r, true
	}
	if r, ok := sc.vars[name]; ok {
		return r, true
	}
	if a, ok := sc.arrays[name]; ok {
		return ref{name: name, kind: refArray, idx: a.first, n: a.count, isBool: a.isBool}, true
	}
	if name == "self" && sc.hasSelf {
		return ref{name: "self", kind: refSelf}, true
	}
	return ref{}, false
}

func (sc *scope) names() []string {
	var out []string
	for n := range sc.vars {
		out = append(out, n)
	}
	for n := range sc.locals {
		out = append(out, n)
	}
	for n := range sc.aliases {
		out = append(out, n)
	}
	for n := range sc.arrays {
		out = append(out, n)
	}
	if sc.hasSelf {
		out = append(out, "self")
	}
	slices.Sort(out)
	return out
}

// typeEnv is the environment expr checks an expression against: each name
// with a value of its type.
func (sc *scope) typeEnv() map[string]any {
	env := make(map[string]any, len(sc.vars)+len(sc.locals)+1)
	add := func(r ref) {
		if r.isBool {
			env[r.name] = false
		} else {
			env[r.name] = 0
		}
	}
	for _, r := range sc.vars {
		add(r)
	}
	for _, r := range sc.locals {
		add(r)
	}
	for _, r := range sc.aliases {
		add(r)
	}
	for name, a := range sc.arrays {
		if a.isBool {
			env[name] = []bool{}
		} else {
			env[name] = []int{}
		}
	}
	if sc.hasSelf {
		env["self"] = 0
	}
	return env
}

// at returns the file position of a 1-based line and 0-based column of an
// expression that starts at pos.
func at(pos Pos, line, col int) Pos {
	if line <= 1 {
		return Pos{Line: pos.Line, Col: pos.Col + col}
	}
	return Pos{Line: pos.Line + line - 1, Col: col + 1}
}

// compileExpr compiles x in sc; what names the expression in messages.
func compileExpr(errs *errorList, x Expr, sc *scope, w want, what string) (*cexpr, bool) {
	checked := &arith{}
	names := &namePatch{sc: sc}
	opts := append([]expr.Option{expr.Env(sc.typeEnv()), expr.Patch(names), expr.Patch(checked)}, arithFuncs...)
	prog, err := expr.Compile(x.Src, opts...)
	if err == nil && names.err != "" {
		errs.add(x.Pos, "%s: %s", what, names.err)
		return nil, false
	}
	if err == nil && checked.err != nil {
		errs.add(x.Pos, "%s: %s: %v", what, x.Src, checked.err)
		return nil, false
	}
	if err != nil {
		var fe *file.Error
		if !errors.As(err, &fe) {
			errs.add(x.Pos, "%s: %v", what, err)
			return nil, false
		}
		msg := fe.Message
		if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
			msg = unknownName(name, sc)
		}
		errs.add(at(x.Pos, fe.Line, fe.Column), "%s: %s", what, msg)
		return nil, false
	}
	e := &cexpr{src: x.Src, pos: x.Pos, prog: prog}
	node := prog.Node()
	ok := true
	ast.Walk(&node, visitor(func(n ast.Node) {
		id, isID := n.(*ast.IdentifierNode)
		if !isID {
			return
		}
		if id.Value == "$env" {
			errs.add(x.Pos, "%s: $env is not available in a program; name the variable", what)
			ok = false
			return
		}
		r, known := sc.lookup(id.Value)
		if !known || slices.ContainsFunc(e.refs, func(o ref) bool { return o.name == r.name }) {
			return
		}
		e.refs = append(e.refs, r)
		if r.kind == refVar || r.kind == refArray {
			e.shared = true
		}
	}))
	if !ok {
		return nil, false
	}
	slices.SortFunc(e.refs, func(a, b ref) int { return strings.Compare(a.name, b.name) })
	t := node.Type()
	kind := reflect.Interface
	if t != nil {
		kind = t.Kind()
	}
	isInt := kind >= reflect.Int && kind <= reflect.Uint64
	switch {
	case kind == reflect.Bool:
		e.isBool = true
	case isInt, kind == reflect.Interface:
	case kind == reflect.Float32 || kind == reflect.Float64:
		errs.add(x.Pos, "%s: %s gives a fraction; variables hold integers (write int(a / b), or a %% b)", what, x.Src)
		return nil, false
	default:
		errs.add(x.Pos, "%s: %s gives %v; variables hold integers and booleans", what, x.Src, t)
		return nil, false
	}
	switch {
	case w == wantBool && kind != reflect.Bool && kind != reflect.Interface:
		errs.add(x.Pos, "%s: %s is a number, not a condition (true or false)", what, x.Src)
		return nil, false
	case w == wantInt && kind == reflect.Bool:
		errs.add(x.Pos, "%s: %s is true or false, not a number", what, x.Src)
		return nil, false
	}
	if w == wantBool {
		e.isBool = true
	}
	switch n := node.(type) {
	case *ast.IntegerNode:
		e.konst, e.kval = true, int64(n.Value)
	case *ast.BoolNode:
		e.konst, e.kval = true, b2i(n.Value)
	case *ast.IdentifierNode:
		e.single = len(e.refs) == 1
	default:
		e.bin = binaryOf(node, e.refs)
	}
	return e, true
}

func unknownName(name string, sc *scope) string {
	if kind, ok := sc.objects[name]; ok {
		return fmt.Sprintf("%s is a %s; an expression reads variables, locals and self", name, kind)
	}
	if name == "self" {
		return "self exists only in a thread declared with count"
	}
	return fmt.Sprintf("unknown variable %q%s", name, contract.DidYouMean(name, sc.names()))
}

type visitor func(ast.Node)

// Visit calls v with the node; it walks expr syntax trees.
func (v visitor) Visit(n *ast.Node) { v(*n) }

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// scratch is the reused environment and machine of one evaluation at a
// time; a Program keeps a pool of them so that states of one program may
// step on several goroutines.
type scratch struct {
	env map[string]any
	vm  vm.VM
}

// boxed is a value as an expression sees it: an int or a bool.
func boxed(v int64, isBool bool) any {
	if isBool {
		return v != 0
	}
	return int(v)
}

// eval evaluates e for thread t of s.
func (e *cexpr) eval(s *State, t int, sc *scratch) (int64, error) {
	if e.konst {
		return e.kval, nil
	}
	if e.single {
		return s.load(e.refs[0], t), nil
	}
	if e.bin != nil {
		v, err := e.bin.eval(s, t, e.refs)
		if err != nil {
			return 0, e.arithFailed(err, s, t)
		}
		return v, nil
	}
	for _, r := range e.refs {
		if r.kind == refArray {
			sc.env[r.name] = s.array(r)
			continue
		}
		sc.env[r.name] = boxed(s.load(r, t), r.isBool)
	}
	out, err := sc.vm.Run(e.prog, sc.env)
	if err != nil {
		var ae *arithError
		if errors.As(err, &ae) {
			return 0, e.arithFailed(ae, s, t)
		}
		var fe *file.Error
		if errors.As(err, &fe) {
			return 0, fmt.Errorf("%s: %s", e.src, fe.Message)
		}
		return 0, fmt.Errorf("%s: %v", e.src, err)
	}
	switch v := out.(type) {
	case bool:
		return b2i(v), nil
	case int:
		return int64(v), nil
	case int64:
		return v, nil
	case int32:
		return int64(v), nil
	case uint64:
		return int64(v), nil
	}
	return 0, fmt.Errorf("%s gave %v (%T); variables hold integers and booleans", e.src, out, out)
}

// arithFailed is the evaluation error of an arithmetic check: the
// expression, the check's message and the values e read.
func (e *cexpr) arithFailed(err error, s *State, t int) error {
	msg := e.src + ": " + err.Error()
	if vals := e.values(s, t); vals != "" {
		msg += ": " + vals
	}
	return &evalError{Msg: msg}
}

// values describes the names e reads with their values in s, for a
// failed check: "count = 3, flag = true".
func (e *cexpr) values(s *State, t int) string {
	parts := make([]string, 0, len(e.refs))
	for _, r := range e.refs {
		if r.kind == refArray {
			parts = append(parts, fmt.Sprintf("%s = %v", r.name, s.array(r)))
			continue
		}
		parts = append(parts, r.name+" = "+formatValue(s.load(r, t), r.isBool))
	}
	return strings.Join(parts, ", ")
}

func formatValue(v int64, isBool bool) string {
	if isBool {
		if v != 0 {
			return "true"
		}
		return "false"
	}
	return fmt.Sprint(v)
}
