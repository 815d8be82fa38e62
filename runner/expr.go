package runner

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	exprcompiler "github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
	exprruntime "github.com/expr-lang/expr/vm/runtime"
)

// The names an expression can use (DESIGN §2). The values here only give
// the compiler their types; a run binds the real ones in its [scope].
func typeEnv() map[string]any {
	return map[string]any{
		"vars":   map[string]any{},
		"steps":  map[string]any{},
		"last":   map[string]any{},
		"result": map[string]any{},
		"env":    map[string]string{},
		"run":    map[string]any{},
		"alive":  func(name string) bool { return false },
	}
}

var compileEnv = typeEnv()

// compiler compiles expressions with one expr configuration per result
// kind, reused: expr.Compile builds a fresh configuration (every builtin
// function in a new map) for each call, which made loading a file of
// thousands of steps cost tens of microseconds a step. A configuration
// caches type information as it checks, so a compiler serves one goroutine
// at a time; the loader compiles on several (see runLater), each with a
// compiler from the pool.
type compiler struct {
	cond, values *conf.Config
}

var compilers = sync.Pool{New: func() any {
	mk := func(opts ...expr.Option) *conf.Config {
		c := conf.CreateNew()
		for _, opt := range append([]expr.Option{expr.Env(compileEnv)}, opts...) {
			opt(c)
		}
		c.Check()
		return c
	}
	return &compiler{cond: mk(expr.AsBool()), values: mk()}
}}

// compileExpr compiles src with a compiler of the pool; see
// [compiler.compile].
func compileExpr(src string, asBool bool, checked func(ast.Node)) (*vm.Program, error) {
	c := compilers.Get().(*compiler)
	defer compilers.Put(c)
	return c.compile(src, asBool, checked)
}

// fetch is from.key: a map lookup for the maps a scope holds, expr's own
// (reflective) fetch for anything else, with its errors.
func fetch(from, key any) any {
	if k, ok := key.(string); ok {
		switch m := from.(type) {
		case map[string]any:
			return m[k]
		case map[string]string:
			return m[k]
		}
	}
	return exprruntime.Fetch(from, key)
}

// fastFetch rewrites the member accesses of a checked tree, a.b and
// a["b"], into calls of fetch: expr's VM fetches a map's element
// through reflect, which costs an allocation and most of the time of
// evaluating a condition such as steps.first.status == "ok". Method calls
// are left alone, and so is a tree with an optional chain (a?.b), whose
// jumps expr compiles around plain fetches.
func fastFetch(root *ast.Node) {
	var callees []ast.Node
	chained := false
	ast.Walk(root, visitFunc(func(n *ast.Node) {
		switch n := (*n).(type) {
		case *ast.CallNode:
			callees = append(callees, n.Callee)
		case *ast.ChainNode:
			chained = true
		}
	}))
	if chained {
		return
	}
	ast.Walk(root, visitFunc(func(n *ast.Node) {
		m, ok := (*n).(*ast.MemberNode)
		if !ok || m.Optional || slices.Contains(callees, ast.Node(m)) {
			return
		}
		if _, isStr := m.Property.(*ast.StringNode); !isStr {
			return
		}
		// A constant callee of type func(any, any) any compiles to a
		// direct call (OpCallTyped), without an argument buffer.
		// The nodes are typed here rather than by checking the tree
		// again, which would double the cost of loading.
		callee := &ast.ConstantNode{Value: fetch}
		callee.SetType(fetchType)
		call := &ast.CallNode{Callee: callee, Arguments: []ast.Node{m.Node, m.Property}}
		call.SetType(m.Type())
		ast.Patch(n, call)
	}))
}

var fetchType = reflect.TypeOf(fetch)

type visitFunc func(*ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(n) }

// compile does what expr.Compile does, with the shared configuration;
// checked, if not nil, sees the checked tree before the optimizer folds
// constants away.
func (c *compiler) compile(src string, asBool bool, checked func(ast.Node)) (*vm.Program, error) {
	config := c.values
	if asBool {
		config = c.cond
	}
	tree, err := checker.ParseCheck(src, config)
	if err != nil {
		return nil, err
	}
	if checked != nil {
		checked(tree.Node)
	}
	fastFetch(&tree.Node)
	if config.Optimize {
		if err := optimizer.Optimize(&tree.Node, config); err != nil {
			var fe *file.Error
			if errors.As(err, &fe) {
				return nil, fe.Bind(tree.Source)
			}
			return nil, err
		}
	}
	return exprcompiler.Compile(tree, config)
}

// program is an expression compiled once, at load.
type program struct {
	src  string
	pos  Pos // where the expression starts in the file
	prog *vm.Program
}

// exprNames is what the loader knows that expressions may refer to.
type exprNames struct {
	steps map[string]bool // step ids
	vars  map[string]bool
}

// compile compiles src, found at pos, as a condition (asBool) or a value.
// Errors carry positions inside the file; references to step ids and vars
// that do not exist are errors too, with a suggestion.
func compile(src string, pos Pos, asBool bool, names *exprNames) (*program, []*Error) {
	if strings.TrimSpace(src) == "" {
		return nil, []*Error{{Pos: pos, Msg: "expression is empty"}}
	}
	var errs []*Error
	var checkRefs func(ast.Node)
	if names != nil {
		checkRefs = func(node ast.Node) {
			ast.Walk(&node, refChecker(func(n *ast.MemberNode) {
				if e := names.check(src, pos, n); e != nil {
					errs = append(errs, e)
				}
			}))
		}
	}
	p, err := compileExpr(src, asBool, checkRefs)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			return nil, []*Error{{Pos: offset(pos, fe.Line, fe.Column), Msg: "expression: " + fe.Message}}
		}
		return nil, []*Error{{Pos: pos, Msg: "expression: " + err.Error()}}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &program{src: src, pos: pos, prog: p}, nil
}

// check returns an error if n is steps.ID or vars.NAME and ID or NAME does
// not exist.
func (names *exprNames) check(src string, pos Pos, n *ast.MemberNode) *Error {
	id, ok := n.Node.(*ast.IdentifierNode)
	prop, isStr := n.Property.(*ast.StringNode)
	if !ok || !isStr {
		return nil
	}
	var known map[string]bool
	what := "step id"
	switch id.Value {
	case "steps":
		known = names.steps
	case "vars":
		known, what = names.vars, "var"
	default:
		return nil
	}
	if known[prop.Value] {
		return nil
	}
	line, col := locate(src, prop.Location().From)
	return &Error{
		Pos: offset(pos, line, col),
		Msg: fmt.Sprintf("expression: unknown %s %q%s", what, prop.Value, DidYouMean(prop.Value, keys(known))),
	}
}

type refChecker func(*ast.MemberNode)

func (f refChecker) Visit(n *ast.Node) {
	if m, ok := (*n).(*ast.MemberNode); ok {
		f(m)
	}
}

// offset returns the file position of line and column (1-based line,
// 0-based column, as expr reports them) of an expression that starts at pos.
func offset(pos Pos, line, col int) Pos {
	if line <= 1 {
		return Pos{File: pos.File, Line: pos.Line, Col: pos.Col + col}
	}
	return Pos{File: pos.File, Line: pos.Line + line - 1, Col: col + 1}
}

// locate converts a rune offset in src, as expr's node locations count, to
// a 1-based line and 0-based column.
func locate(src string, from int) (line, col int) {
	line = 1
	for i, r := range []rune(src) {
		if i == from {
			break
		}
		col++
		if r == '\n' {
			line, col = line+1, 0
		}
	}
	return line, col
}

var vmPool = sync.Pool{New: func() any { return new(vm.VM) }}

// scope is the expression environment of one scenario run: the values of
// vars, steps, last, env and run, and the alive function. Steps running in
// the background read it while the main sequence writes it, so every access
// holds mu.
type scope struct {
	mu    sync.RWMutex
	env   map[string]any
	steps map[string]any
}

func newScope(vars map[string]any, run map[string]any, alive func(string) bool) *scope {
	environ := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			environ[k] = v
		}
	}
	steps := map[string]any{}
	return &scope{
		steps: steps,
		env: map[string]any{
			"vars":   vars,
			"steps":  steps,
			"last":   map[string]any{},
			"result": map[string]any{},
			"env":    environ,
			"run":    run,
			"alive":  alive,
		},
	}
}

// record makes a step's result visible as steps.<id> (when it has an id)
// and, for the main sequence, as last.
func (s *scope) record(id string, result map[string]any, isLast bool) {
	s.mu.Lock()
	if id != "" {
		s.steps[id] = result
	}
	if isLast {
		s.env["last"] = result
	}
	s.mu.Unlock()
}

// eval runs p in the scope; with result non-nil, that is the value of
// result (inside retry.until).
func (s *scope) eval(p *program, result map[string]any) (any, error) {
	machine := vmPool.Get().(*vm.VM)
	defer vmPool.Put(machine)
	s.mu.RLock()
	defer s.mu.RUnlock()
	env := s.env
	if result != nil {
		env = make(map[string]any, len(s.env))
		for k, v := range s.env {
			env[k] = v
		}
		env["result"] = result
	}
	v, err := machine.Run(p.prog, env)
	if err != nil {
		return nil, fmt.Errorf("expression %s: %w", p.src, err)
	}
	return v, nil
}

// explain lists the value of each sub-expression of p that is not a
// literal, outermost first, for the report of a failed assertion.
func (s *scope) explain(p *program) []string {
	var out []string
	seen := map[string]bool{}
	var visit func(n ast.Node, root bool)
	visit = func(n ast.Node, root bool) {
		show := !root
		switch n := n.(type) {
		case *ast.BinaryNode:
			if show {
				s.describe(n, seen, &out)
			}
			visit(n.Left, false)
			visit(n.Right, false)
		case *ast.UnaryNode:
			if show {
				s.describe(n, seen, &out)
			}
			visit(n.Node, false)
		case *ast.ConditionalNode:
			visit(n.Cond, false)
		case *ast.ChainNode:
			s.describe(n, seen, &out)
		case *ast.MemberNode, *ast.IdentifierNode:
			s.describe(n, seen, &out)
		case *ast.CallNode:
			s.describe(n, seen, &out)
			for _, a := range n.Arguments {
				visit(a, false)
			}
		case *ast.BuiltinNode:
			s.describe(n, seen, &out)
			for _, a := range n.Arguments {
				visit(a, false)
			}
		}
	}
	// The source's own tree: the compiled one has its member accesses
	// rewritten (fastFetch) and its constants folded.
	tree, err := parser.Parse(p.src)
	if err != nil {
		return nil
	}
	visit(tree.Node, true)
	return out
}

func (s *scope) describe(n ast.Node, seen map[string]bool, out *[]string) {
	src := n.String()
	if seen[src] {
		return
	}
	seen[src] = true
	sub, err := compileExpr(src, false, nil)
	if err != nil {
		return
	}
	v, err := s.eval(&program{src: src, prog: sub}, nil)
	if err != nil {
		*out = append(*out, src+" → error: "+err.Error())
		return
	}
	*out = append(*out, src+" = "+formatValue(v))
}

// formatValue shows a value the way a person reads it in a report.
func formatValue(v any) string {
	var s string
	switch v := v.(type) {
	case string:
		s = fmt.Sprintf("%q", v)
	case nil:
		s = "nil"
	default:
		s = fmt.Sprintf("%v", v)
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// condition binds a compiled expression to a run's scope, for actions that
// take an expression parameter (assert).
type condition struct {
	p *program
	s *scope
}

func (c condition) Source() string     { return c.p.src }
func (c condition) Eval() (any, error) { return c.s.eval(c.p, nil) }
func (c condition) Explain() []string  { return c.s.explain(c.p) }
