package lang

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"github.com/expr-lang/expr/vm"
)

var vmPool = sync.Pool{New: func() any { return new(vm.VM) }}

// Scope is the expression environment of one scenario run: the values of
// vars, steps, last, env and run, and the alive function. Steps running in
// the background read it while the main sequence writes it, so every access
// holds mu.
type Scope struct {
	mu    sync.RWMutex
	env   map[string]any
	steps map[string]any
}

// NewScope returns the scope of a run: its vars, run (scenario, seed,
// started, file) and the alive function; env is the runner's environment.
func NewScope(vars map[string]any, run map[string]any, alive func(string) bool) *Scope {
	environ := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			environ[k] = v
		}
	}
	steps := map[string]any{}
	return &Scope{
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

// Record makes a step's result visible as steps.<id> (when it has an id)
// and, for the main sequence, as last.
func (s *Scope) Record(id string, result map[string]any, isLast bool) {
	s.mu.Lock()
	if id != "" {
		s.steps[id] = result
	}
	if isLast {
		s.env["last"] = result
	}
	s.mu.Unlock()
}

// Eval runs p in the scope; with result non-nil, that is the value of
// result (inside retry.until).
func (s *Scope) Eval(p *Program, result map[string]any) (any, error) {
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
func (s *Scope) explain(p *Program) []string {
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

func (s *Scope) describe(n ast.Node, seen map[string]bool, out *[]string) {
	src := n.String()
	if seen[src] {
		return
	}
	seen[src] = true
	sub, err := compileExpr(src, false, nil)
	if err != nil {
		return
	}
	v, err := s.Eval(&Program{src: src, prog: sub}, nil)
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
	p *Program
	s *Scope
}

// Source implements [contract.Condition].
func (c condition) Source() string { return c.p.src }

// Eval implements [contract.Condition].
func (c condition) Eval() (any, error) { return c.s.Eval(c.p, nil) }

// Explain implements [contract.Condition].
func (c condition) Explain() []string { return c.s.explain(c.p) }
