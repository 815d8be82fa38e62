package lang

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/checker"
	exprcompiler "github.com/expr-lang/expr/compiler"
	"github.com/expr-lang/expr/conf"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/optimizer"
	"github.com/expr-lang/expr/vm"
	exprruntime "github.com/expr-lang/expr/vm/runtime"

	"github.com/pmrun/pmrun/actions/contract"
)

// The names an expression can use (the README's "Expressions"). The
// values here only give the compiler their types; a run binds the real
// ones in its [Scope].
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
func compileExpr(src string, asBool bool, checked func(ast.Node) bool) (*vm.Program, error) {
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
// constants away, and says whether to go on to the bytecode: without it,
// compile finds every error but returns no program.
func (c *compiler) compile(src string, asBool bool, checked func(ast.Node) bool) (*vm.Program, error) {
	config := c.values
	if asBool {
		config = c.cond
	}
	tree, err := checker.ParseCheck(src, config)
	if err != nil {
		return nil, err
	}
	bytecode := true
	if checked != nil {
		bytecode = checked(tree.Node)
	}
	if bytecode {
		fastFetch(&tree.Node)
	}
	if config.Optimize {
		// Folding constants can fail (1 / 0): an error at load.
		if err := optimizer.Optimize(&tree.Node, config); err != nil {
			var fe *file.Error
			if errors.As(err, &fe) {
				return nil, fe.Bind(tree.Source)
			}
			return nil, err
		}
	}
	if !bytecode {
		return nil, nil
	}
	prog, err := exprcompiler.Compile(tree, config)
	if err == nil {
		dropTree(tree.Node)
	}
	return prog, err
}

// dropTree lets the garbage collector have a compiled expression's syntax
// tree. A vm.Program keeps the root node it was compiled from (for
// Program.Node, which pmrun never calls: an assertion's explanation parses
// the source again), and with it every node and type below: about 1 KiB
// an expression, two thirds of what a loaded scenario holds. Zeroing the
// root node cuts the tree off it; running the program does not read it.
func dropTree(root ast.Node) {
	if v := reflect.ValueOf(root); v.Kind() == reflect.Pointer && !v.IsNil() {
		v.Elem().SetZero()
	}
}

// Program is an expression compiled once, at load.
type Program struct {
	src  string
	pos  Pos // where the expression starts in the file
	prog *vm.Program
	// varsOnly: the expression names nothing but vars, which a run never
	// changes, so its value is known at load.
	varsOnly bool
}

// Source is the expression as written.
func (p *Program) Source() string { return p.src }

// exprNames is what the loader knows that expressions may refer to.
type exprNames struct {
	steps map[string]bool // step ids
	vars  map[string]bool
	// checkOnly: the scenario is only checked (see CheckFile), so an
	// expression is compiled as far as its errors and no further, unless
	// its value is known at load, which the loader checks too.
	checkOnly bool
}

// compile compiles src, found at pos, as a condition (asBool) or a value.
// Errors carry positions inside the file; references to step ids and vars
// that do not exist are errors too, with a suggestion.
func compile(src string, pos Pos, asBool bool, names *exprNames) (*Program, []*Error) {
	if strings.TrimSpace(src) == "" {
		return nil, []*Error{{Pos: pos, Msg: "expression is empty"}}
	}
	var errs []*Error
	var checkRefs func(ast.Node) bool
	varsOnly := true
	var lines *lineIndex // built for the first unknown name, if any
	if names != nil {
		checkRefs = func(node ast.Node) bool {
			ast.Walk(&node, visitFunc(func(n *ast.Node) {
				switch n := (*n).(type) {
				case *ast.MemberNode:
					if e := names.check(src, pos, n, &lines); e != nil {
						errs = append(errs, e)
					}
				case *ast.IdentifierNode:
					varsOnly = varsOnly && n.Value == "vars"
				}
			}))
			return !names.checkOnly || varsOnly
		}
	}
	p, err := compileExpr(src, asBool, checkRefs)
	if err != nil {
		var fe *file.Error
		if errors.As(err, &fe) {
			msg := fe.Message
			if msg == `unexpected token Operator("=")` {
				msg += " (did you mean ==? = is no operator in an expression)"
			}
			return nil, []*Error{{Pos: offset(pos, fe.Line, fe.Column), Msg: "expression: " + msg}}
		}
		return nil, []*Error{{Pos: pos, Msg: "expression: " + err.Error()}}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	if p == nil {
		return nil, nil // checked only
	}
	return &Program{src: src, pos: pos, prog: p, varsOnly: varsOnly}, nil
}

// check returns an error if n is steps.ID or vars.NAME and ID or NAME does
// not exist.
func (names *exprNames) check(src string, pos Pos, n *ast.MemberNode, lines **lineIndex) *Error {
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
	if *lines == nil {
		*lines = newLineIndex(src)
	}
	line, col := (*lines).locate(prop.Location().From)
	return &Error{
		Pos: offset(pos, line, col),
		Msg: fmt.Sprintf("expression: unknown %s %q%s", what, prop.Value, contract.DidYouMean(prop.Value, keys(known))),
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

// lineIndex finds the 1-based line and 0-based column of rune offsets in
// an expression (expr's node locations count runes), each in a binary
// search: an expression naming thousands
// of unknown things is placed in time linear in its length.
type lineIndex struct{ starts []int } // the rune offset each line starts at

func newLineIndex(src string) *lineIndex {
	x := &lineIndex{starts: []int{0}}
	i := 0
	for _, r := range src {
		i++
		if r == '\n' {
			x.starts = append(x.starts, i)
		}
	}
	return x
}

// locate returns the 1-based line and 0-based column of rune offset from.
func (x *lineIndex) locate(from int) (line, col int) {
	i := sort.Search(len(x.starts), func(i int) bool { return x.starts[i] > from }) - 1
	return i + 1, from - x.starts[i]
}
