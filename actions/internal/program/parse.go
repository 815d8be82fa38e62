package program

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

// Limits of a program, checked at load.
const (
	// MaxThreads is the most threads a program may have, counted threads
	// included.
	MaxThreads = 256
	// MaxValue bounds the initial value of a semaphore and its max.
	MaxValue = 1 << 30
)

var (
	programKeys = []string{"description", "vars", "semaphores", "mutexes", "conds", "regions", "procedures", "threads", "invariants", "expect"}
	semKeys     = []string{"value", "fifo", "max", "count"}
	regionKeys  = []string{"capacity", "count"}
	countKeys   = []string{"count", "body"}
	identRe     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// reserved are the words of expr and `self`, which a declared name
	// would hide or could not be read as.
	reserved = []string{"self", "true", "false", "nil", "and", "or", "not", "in", "matches", "contains", "startsWith", "endsWith", "let", "if", "else"}
)

type parser struct {
	errs errorList
}

// Parse reads the value of a scenario's `programs:` key — a mapping of
// program names to definitions — into syntax trees. Errors lists every
// problem it found, each at its line and column.
func Parse(n *yaml.Node) ([]*Def, Errors) {
	p := &parser{}
	defs := p.programs(n)
	return defs, p.errs.result()
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return n
		}
	}
	return n
}

func pos(n *yaml.Node) Pos { return Pos{Line: n.Line, Col: n.Column} }

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errs.add(pos(n), format, args...)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	if n.Tag == "!!null" {
		return "empty"
	}
	return strconv.Quote(n.Value)
}

// mapping walks the pairs of a mapping node, reporting non-scalar,
// duplicate and (when known is not nil) unknown keys.
func (p *parser) mapping(n *yaml.Node, what string, known []string, f func(key string, k, v *yaml.Node)) {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "%s must be a mapping, not %s", what, kindName(n))
		return
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errorf(k, "%s keys must be plain names", what)
			continue
		}
		if line, dup := seen[k.Value]; dup {
			p.errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, line)
			continue
		}
		seen[k.Value] = k.Line
		if known != nil && !slices.Contains(known, k.Value) {
			p.errorf(k, "unknown key %q in %s%s", k.Value, what, contract.DidYouMean(k.Value, known))
			continue
		}
		f(k.Value, k, v)
	}
}

// name checks a declared name: an identifier that expr can read and that
// is not one of its words.
func (p *parser) name(k *yaml.Node, what string) bool {
	if !identRe.MatchString(k.Value) {
		p.errorf(k, "%s name %q: use letters, digits and _, not starting with a digit", what, k.Value)
		return false
	}
	if slices.Contains(reserved, k.Value) {
		p.errorf(k, "%s name %q is reserved", what, k.Value)
		return false
	}
	return true
}

func (p *parser) programs(n *yaml.Node) []*Def {
	n = deref(n)
	if n == nil || n.Kind == 0 || n.Kind == yaml.DocumentNode {
		return nil // an empty document: no programs
	}
	var defs []*Def
	p.mapping(n, "programs", nil, func(name string, k, v *yaml.Node) {
		if !p.name(k, "program") {
			return
		}
		defs = append(defs, p.program(name, k, v))
	})
	return defs
}

func (p *parser) program(name string, k, n *yaml.Node) *Def {
	d := &Def{Name: name, Pos: pos(k)}
	var threads *yaml.Node
	p.mapping(n, "program "+name, programKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "description":
			d.Description = p.text(v, "description")
		case "vars":
			p.vars(d, v)
		case "semaphores":
			p.semaphores(d, v)
		case "mutexes":
			d.Mutexes = p.nameList(d, v, ObjMutex, "mutex", "mutexes")
		case "conds":
			d.Conds = p.nameList(d, v, ObjCond, "cond", "conds")
		case "regions":
			p.regions(d, v)
		case "procedures":
			p.procedures(d, v)
		case "threads":
			threads = v
			p.threads(d, v)
		case "invariants":
			if v.Kind != yaml.SequenceNode {
				p.errorf(v, "invariants must be a list of expressions, not %s", kindName(v))
				return
			}
			for _, e := range v.Content {
				if x, ok := p.expr(deref(e), "invariant"); ok {
					d.Invariants = append(d.Invariants, x)
				}
			}
		case "expect":
			if x, ok := p.expr(v, "expect"); ok {
				d.Expect = &x
			}
		}
	})
	switch {
	case n.Kind == yaml.MappingNode && threads == nil:
		p.errorf(k, "program %s has no threads", name)
	case threads != nil && threads.Kind == yaml.MappingNode && len(threads.Content) == 0:
		p.errorf(threads, "program %s has no threads", name)
	}
	return d
}

func (p *parser) text(v *yaml.Node, what string) string {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.errorf(v, "%s must be text, not %s", what, kindName(v))
		return ""
	}
	return v.Value
}

// contentPos is where a scalar's text starts: after an opening quote, or
// (approximately: the node does not tell the indentation) on the line
// after a block scalar's indicator.
func contentPos(v *yaml.Node) Pos {
	at := pos(v)
	switch v.Style {
	case yaml.DoubleQuotedStyle, yaml.SingleQuotedStyle:
		at.Col++
	case yaml.LiteralStyle, yaml.FoldedStyle:
		at.Line++
	}
	return at
}

// expr reads a scalar holding an expression.
func (p *parser) expr(v *yaml.Node, what string) (Expr, bool) {
	if strings.HasPrefix(v.Tag, "!") && !strings.HasPrefix(v.Tag, "!!") {
		p.errorf(v, "%s: YAML reads %s as a tag; quote the expression: '%s'", what, v.Tag, strings.TrimSpace(v.Tag+" "+v.Value))
		return Expr{}, false
	}
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.errorf(v, "%s must be an expression, not %s", what, kindName(v))
		return Expr{}, false
	}
	if strings.TrimSpace(v.Value) == "" {
		p.errorf(v, "%s: the expression is empty", what)
		return Expr{}, false
	}
	return Expr{Src: v.Value, Pos: contentPos(v)}, true
}

func (p *parser) integer(v *yaml.Node, what string, lo, hi int64) (int64, bool) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!int" {
		x, err := strconv.ParseInt(strings.ReplaceAll(v.Value, "_", ""), 0, 64)
		if err == nil && x >= lo && x <= hi {
			return x, true
		}
	}
	p.errorf(v, "%s must be an integer from %d to %d, not %s", what, lo, hi, kindName(v))
	return 0, false
}

func (p *parser) boolean(v *yaml.Node, what string) (bool, bool) {
	if v.Kind == yaml.ScalarNode && v.Tag == "!!bool" {
		var b bool
		if v.Decode(&b) == nil {
			return b, true
		}
	}
	p.errorf(v, "%s must be true or false, not %s", what, kindName(v))
	return false, false
}

func (p *parser) vars(d *Def, v *yaml.Node) {
	p.mapping(v, "vars", nil, func(name string, k, val *yaml.Node) {
		if !p.name(k, "var") {
			return
		}
		values, isArray := p.arrayValues(d, ObjVar, name, k, val, "value")
		for i, val := range values {
			elem := name
			if isArray {
				elem = elementName(name, i)
			}
			decl := VarDecl{Decl: Decl{Name: elem, Pos: pos(k)}}
			switch {
			case val.Kind == yaml.ScalarNode && val.Tag == "!!bool":
				b, _ := p.boolean(val, "var "+elem)
				decl.Bool = true
				if b {
					decl.Value = 1
				}
			case val.Kind == yaml.ScalarNode && val.Tag == "!!int":
				x, ok := p.integer(val, "var "+elem, -1<<62, 1<<62)
				if !ok {
					return
				}
				decl.Value = x
			default:
				p.errorf(val, "var %s must be an integer or true/false (or a list of them, an array), not %s", name, kindName(val))
				return
			}
			d.Vars = append(d.Vars, decl)
		}
	})
}

func (p *parser) semaphores(d *Def, v *yaml.Node) {
	p.mapping(v, "semaphores", nil, func(name string, k, val *yaml.Node) {
		if !p.name(k, "semaphore") {
			return
		}
		values, isArray := p.arrayValues(d, ObjSemaphore, name, k, val, "value")
		for i, val := range values {
			elem := name
			if isArray {
				elem = elementName(name, i)
			}
			d.Semaphores = append(d.Semaphores, p.semaphore(elem, k, val))
		}
	})
}

// semaphore reads one semaphore: its value, or {value, fifo, max}.
func (p *parser) semaphore(name string, k, val *yaml.Node) SemDecl {
	s := SemDecl{Decl: Decl{Name: name, Pos: pos(k)}}
	what := "semaphore " + name
	if val.Kind != yaml.MappingNode {
		s.Value, _ = p.integer(val, what, 0, MaxValue)
		return s
	}
	var maxNode *yaml.Node
	p.mapping(val, what, semKeys, func(key string, k2, v2 *yaml.Node) {
		switch key {
		case "value":
			s.Value, _ = p.integer(v2, what+" value", 0, MaxValue)
		case "fifo":
			s.FIFO, _ = p.boolean(v2, what+" fifo")
		case "max":
			maxNode = v2
			s.Max, _ = p.integer(v2, what+" max", 1, MaxValue)
		case "count":
			p.errorf(k2, "%s: count makes an array: write it beside value, as {count: 5, value: 1}", what)
		}
	})
	if maxNode != nil && s.Max > 0 && s.Value > s.Max {
		p.errorf(maxNode, "%s: max %d is below its value %d", what, s.Max, s.Value)
	}
	return s
}

func (p *parser) nameList(d *Def, v *yaml.Node, kind ObjKind, what, key string) []Decl {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "%s must be a list of names, not %s", key, kindName(v))
		return nil
	}
	var out []Decl
	for _, e := range v.Content {
		e = deref(e)
		if e.Kind == yaml.MappingNode && len(e.Content) == 2 {
			// {fork: 5}: an array of five.
			k, n := deref(e.Content[0]), deref(e.Content[1])
			if !p.name(k, what) {
				continue
			}
			count, ok := p.integer(n, what+" array "+k.Value+" size", 1, MaxArray)
			if !ok {
				continue
			}
			d.Arrays = append(d.Arrays, ArrayDecl{Decl: Decl{Name: k.Value, Pos: pos(k)}, Kind: kind, Count: int(count)})
			for i := range int(count) {
				out = append(out, Decl{Name: elementName(k.Value, i), Pos: pos(k)})
			}
			continue
		}
		if e.Kind != yaml.ScalarNode || e.Tag == "!!null" {
			p.errorf(e, "%s must be a name, or {NAME: N} for an array of N, not %s", what, kindName(e))
			continue
		}
		if p.name(e, what) {
			out = append(out, Decl{Name: e.Value, Pos: pos(e)})
		}
	}
	return out
}

func (p *parser) regions(d *Def, v *yaml.Node) {
	p.mapping(v, "regions", nil, func(name string, k, val *yaml.Node) {
		if !p.name(k, "region") {
			return
		}
		if name == defaultRegion {
			p.errorf(k, "region name %q is the region of a bare critical: list; choose another", name)
			return
		}
		values, isArray := p.arrayValues(d, ObjRegion, name, k, val, "capacity")
		for i, val := range values {
			elem := name
			if isArray {
				elem = elementName(name, i)
			}
			r := RegionDecl{Decl: Decl{Name: elem, Pos: pos(k)}}
			what := "region " + elem
			if val.Kind == yaml.MappingNode {
				p.mapping(val, what, regionKeys, func(key string, k2, v2 *yaml.Node) {
					if key == "count" {
						p.errorf(k2, "%s: count makes an array: write it beside capacity, as {count: 5, capacity: 1}", what)
						return
					}
					c, _ := p.integer(v2, what+" capacity", 1, MaxThreads)
					r.Capacity = int(c)
				})
				if r.Capacity == 0 {
					p.errorf(val, "%s needs a capacity", what)
				}
			} else {
				c, _ := p.integer(val, what+" capacity", 1, MaxThreads)
				r.Capacity = int(c)
			}
			d.Regions = append(d.Regions, r)
		}
	})
}

func (p *parser) threads(d *Def, v *yaml.Node) {
	p.mapping(v, "threads", nil, func(name string, k, val *yaml.Node) {
		if !p.name(k, "thread") {
			return
		}
		t := ThreadDecl{Decl: Decl{Name: name, Pos: pos(k)}}
		what := "thread " + name
		if val.Kind == yaml.MappingNode {
			var body *yaml.Node
			p.mapping(val, what, countKeys, func(key string, _, v2 *yaml.Node) {
				switch key {
				case "count":
					c, _ := p.integer(v2, what+" count", 1, MaxThreads)
					t.Count = int(c)
				case "body":
					body = v2
				}
			})
			if body == nil {
				p.errorf(val, "%s: a counted thread needs body: [operations]", what)
				return
			}
			if t.Count == 0 {
				return // the count's error is reported
			}
			val = body
		}
		t.Body = p.ops(val, what)
		d.Threads = append(d.Threads, t)
	})
}
