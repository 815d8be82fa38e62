package program

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

// Arrays: a family of variables, semaphores, mutexes, conditions or
// regions declared as one name, fork: [1, 1, 1, 1, 1] or {count: 5,
// value: 1}. Each element is an object of its own, NAME[i], so that the
// model, its footprints and its explanations see plain objects; an
// operation names one as NAME[EXPR], and EXPR is computed when the
// program loads, for each thread: it may read self, numbers and the
// parameters of the procedure it is in, so that philosopher i's
// fork[(self + 1) % 5] is a fixed fork. An expression reads an element
// the same way, or, with an index only a run knows (a local, a shared
// variable), the whole array, and a run whose index falls outside it
// fails at that step.

// MaxArray is the most elements an array may have.
const MaxArray = 4096

// elementName is the name of element i of array name: fork[2].
func elementName(name string, i int) string { return name + "[" + strconv.Itoa(i) + "]" }

// arrayValues reads the value of a declaration that may be an array: a
// list of element values, or a mapping with count (and the value every
// element takes, under valueKey, or the element's other keys). It
// returns the value of each element, and whether it is an array (an
// ArrayDecl is then added to d); a plain value is one element.
func (p *parser) arrayValues(d *Def, kind ObjKind, name string, k, val *yaml.Node, valueKey string) ([]*yaml.Node, bool) {
	what := kind.String() + " " + name
	switch {
	case val.Kind == yaml.SequenceNode:
		if len(val.Content) == 0 || len(val.Content) > MaxArray {
			p.errorf(val, "%s: an array has 1 to %d elements, not %d", what, MaxArray, len(val.Content))
			return nil, true
		}
		out := make([]*yaml.Node, len(val.Content))
		for i, e := range val.Content {
			out[i] = deref(e)
		}
		d.Arrays = append(d.Arrays, ArrayDecl{Decl: Decl{Name: name, Pos: pos(k)}, Kind: kind, Count: len(out)})
		return out, true
	case val.Kind == yaml.MappingNode && value(val, "count") != nil:
		count, ok := p.integer(value(val, "count"), what+" count", 1, MaxArray)
		if !ok {
			return nil, true
		}
		// Every element takes the mapping without its count: its value,
		// or its other settings.
		each := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: val.Line, Column: val.Column}
		for i := 0; i+1 < len(val.Content); i += 2 {
			if val.Content[i].Value != "count" {
				each.Content = append(each.Content, val.Content[i], val.Content[i+1])
			}
		}
		if kind == ObjVar {
			v := value(val, valueKey)
			if v == nil || len(each.Content) != 2 {
				p.errorf(val, "%s: an array of variables is {count: N, %s: V}", what, valueKey)
				return nil, true
			}
			each = v
		}
		out := make([]*yaml.Node, count)
		for i := range out {
			out[i] = each
		}
		d.Arrays = append(d.Arrays, ArrayDecl{Decl: Decl{Name: name, Pos: pos(k)}, Kind: kind, Count: int(count)})
		return out, true
	}
	return []*yaml.Node{val}, false
}

// splitIndex splits a reference as written, NAME or NAME[EXPR], into the
// name and the index's text (and the offset where it starts); index is ""
// for a plain name. ok is false for anything else.
func splitIndex(ref string) (name, index string, offset int, ok bool) {
	open := strings.IndexByte(ref, '[')
	if open < 0 {
		return ref, "", 0, identRe.MatchString(ref)
	}
	if !strings.HasSuffix(ref, "]") || !identRe.MatchString(ref[:open]) {
		return "", "", 0, false
	}
	depth := 0
	for i, r := range ref[open:] {
		switch r {
		case '[':
			depth++
		case ']':
			depth--
			if depth == 0 && open+i != len(ref)-1 {
				return "", "", 0, false // fork[1][2], fork[1]x
			}
		}
	}
	index = ref[open+1 : len(ref)-1]
	if strings.TrimSpace(index) == "" || depth != 0 {
		return "", "", 0, false
	}
	return ref[:open], index, open + 1, true
}

// arrayInfo is an array as the compiler knows it: its kind and where its
// elements start among the objects of that kind.
type arrayInfo struct {
	kind   string // "semaphore", "variable", … as compiler.objects says
	first  int
	count  int
	isBool bool
}

// declareArrays knows each array by its name, beside its elements, and
// each procedure by its name.
func (c *compiler) declareArrays(d *Def) {
	for _, a := range d.Arrays {
		kind := objectWord[a.Kind]
		first, ok := c.byKind[kind][elementName(a.Name, 0)]
		if !ok {
			continue // its elements' errors are reported
		}
		if prev, dup := c.objects[a.Name]; dup {
			c.errs.add(a.Pos, "%s %s: the name is already a %s", kind, a.Name, prev)
			continue
		}
		info := arrayInfo{kind: kind, first: first, count: a.Count}
		if a.Kind == ObjVar {
			info.isBool = c.p.vars[first].isBool
			for i := range a.Count {
				if c.p.vars[first+i].isBool != info.isBool {
					c.errs.add(a.Pos, "array %s: its elements are all integers or all true/false, not both", a.Name)
					break
				}
			}
		}
		c.objects[a.Name] = kind
		c.arrays[a.Name] = info
	}
	for i := range d.Procedures {
		pr := &d.Procedures[i]
		if prev, dup := c.procs[pr.Name]; dup {
			c.errs.add(pr.Pos, "procedure %s: declared twice (first at line %d)", pr.Name, prev.Pos.Line)
			continue
		}
		c.procs[pr.Name] = pr
	}
}

// staticIndex computes an index known at load: src, found at pos, read
// with the numbers a procedure's parameters and self stand for here.
func (b *builder) staticIndex(src string, at Pos, what string) (int64, bool) {
	env := map[string]any{}
	if b.self >= 0 {
		env["self"] = b.self
	}
	for _, f := range b.frames {
		for name, bind := range f.binds {
			if bind.static {
				if _, shadowed := env[name]; !shadowed {
					env[name] = int(bind.value)
				}
			}
		}
	}
	tree, err := expr.Compile(src, expr.Env(env))
	if err != nil {
		msg := err.Error()
		if line, _, found := strings.Cut(msg, "\n"); found {
			msg = line
		}
		if i := strings.LastIndex(msg, " ("); i > 0 {
			msg = msg[:i] // the position in the index: the index is named
		}
		if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
			msg = name + " is not one of them"
			if name == "self" {
				msg = "self exists only in a thread declared with count"
			}
		}
		b.c.errs.add(at, "%s: the index %s is computed when the program loads, from self, numbers and a procedure's parameters given such: %s", what, src, msg)
		return 0, false
	}
	if b.self >= 0 {
		b.usedSelf = b.usedSelf || mentions(tree.Node(), "self")
	}
	v, err := expr.Run(tree, env)
	if err != nil {
		b.c.errs.add(at, "%s: the index %s: %v", what, src, err)
		return 0, false
	}
	switch n := v.(type) {
	case int:
		return int64(n), true
	case int64:
		return n, true
	}
	b.c.errs.add(at, "%s: the index %s is %v, not a whole number", what, src, v)
	return 0, false
}

// mentions reports whether the tree reads the name.
func mentions(n ast.Node, name string) bool {
	found := false
	ast.Walk(&n, visitor(func(n ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok && id.Value == name {
			found = true
		}
	}))
	return found
}

// element resolves a reference to an element of an array: the index,
// known at load, must fall inside it.
func (b *builder) element(kind, name, index string, at Pos, use string) (int, string, bool) {
	a, ok := b.c.arrays[name]
	if !ok || a.kind != kind {
		if other, known := b.c.objects[name]; known {
			b.c.errs.add(at, "%s: %s is a %s, not an array of %s", use, name, other, plural(kind))
		} else {
			var names []string
			for n, a := range b.c.arrays {
				if a.kind == kind {
					names = append(names, n)
				}
			}
			slices.Sort(names)
			b.c.errs.add(at, "%s: unknown array of %s %q%s", use, plural(kind), name, contract.DidYouMean(name, names))
		}
		return 0, "", false
	}
	i, ok := b.staticIndex(index, at, use)
	if !ok {
		return 0, "", false
	}
	if i < 0 || i >= int64(a.count) {
		b.c.errs.add(at, "%s: %s[%s] is %s[%d]%s, outside the array: %s has %d, %s[0] to %s[%d]", use, name, index, name, i, b.where(), name, a.count, name, name, a.count-1)
		return 0, "", false
	}
	return a.first + int(i), elementName(name, int(i)), true
}

// where says, for a message, which thread the index was computed for.
func (b *builder) where() string {
	if b.self >= 0 {
		return fmt.Sprintf(" for %s (self = %d)", b.thread, b.self)
	}
	return ""
}

func plural(kind string) string {
	switch kind {
	case "mutex":
		return "mutexes"
	case "condition variable":
		return "condition variables"
	}
	return kind + "s"
}

// namePatch rewrites an expression's names as a procedure's call and the
// program's arrays say: a parameter given a number known at load becomes
// that number; a parameter given an array of variables, that array's
// name; an element of an array whose index is known at load, that
// element (state[2]), so that the step reads it alone. An element whose
// index only a run knows reads the whole array.
type namePatch struct {
	sc  *scope
	err string
}

func (v *namePatch) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		if x, ok := v.sc.statics[n.Value]; ok {
			ast.Patch(node, &ast.IntegerNode{Value: int(x)})
		} else if to, ok := v.sc.renames[n.Value]; ok {
			ast.Patch(node, &ast.IdentifierNode{Value: to})
		}
	case *ast.MemberNode:
		id, ok := n.Node.(*ast.IdentifierNode)
		if !ok {
			return
		}
		a, isArray := v.sc.arrays[id.Value]
		if !isArray {
			return
		}
		i, known := v.index(n.Property)
		if !known {
			return
		}
		if i < 0 || i >= int64(a.count) {
			v.err = fmt.Sprintf("%s[%s] is %s[%d], outside the array: %s has %d, %s[0] to %s[%d]", id.Value, n.Property, id.Value, i, id.Value, a.count, id.Value, id.Value, a.count-1)
			return
		}
		ast.Patch(node, &ast.IdentifierNode{Value: elementName(id.Value, int(i))})
	}
}

// index computes an index known at load: numbers, and self when the
// thread's is known.
func (v *namePatch) index(n ast.Node) (int64, bool) {
	static := true
	self := false
	ast.Walk(&n, visitor(func(n ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok {
			if id.Value == "self" && v.sc.self >= 0 {
				self = true
			} else {
				static = false
			}
		}
	}))
	if !static {
		return 0, false
	}
	env := map[string]any{"self": max(v.sc.self, 0)}
	out, err := expr.Eval(n.String(), env)
	if err != nil {
		return 0, false
	}
	i, ok := out.(int)
	if !ok {
		return 0, false
	}
	if self && v.sc.usedSelf != nil {
		*v.sc.usedSelf = true
	}
	return int64(i), true
}

// array is the whole array r reads, as an expression indexes it.
func (s *State) array(r ref) any {
	if r.isBool {
		out := make([]bool, r.n)
		for i := range out {
			out[i] = s.w[r.idx+i] != 0
		}
		return out
	}
	out := make([]int, r.n)
	for i := range out {
		out[i] = int(s.w[r.idx+i])
	}
	return out
}
