package program

import (
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

// ops reads a list of operations.
func (p *parser) ops(v *yaml.Node, what string) []*Op {
	if v.Kind != yaml.SequenceNode {
		p.errorf(v, "%s must be a list of operations, not %s", what, kindName(v))
		return nil
	}
	out := make([]*Op, 0, len(v.Content))
	for _, e := range v.Content {
		if op := p.op(deref(e)); op != nil {
			out = append(out, op)
		}
	}
	return out
}

// op reads one operation: a mapping with one operation key (and the extra
// keys of that operation), or the bare word yield.
func (p *parser) op(n *yaml.Node) *Op {
	if n.Kind == yaml.ScalarNode {
		k, known := opNamed(n.Value)
		switch {
		case known && k.Shape() == ShapeNone:
			return &Op{Kind: k, Pos: pos(n)}
		case known:
			p.errorf(n, "%s needs an argument: write %s: …", n.Value, n.Value)
		default:
			p.errorf(n, "unknown operation %q%s", n.Value, contract.DidYouMean(n.Value, opKeys))
		}
		return nil
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "an operation must be a mapping such as wait: s, not %s", kindName(n))
		return nil
	}
	var opKey, opVal *yaml.Node
	extra := map[string]*yaml.Node{}
	var unknown []*yaml.Node
	p.mapping(n, "operation", nil, func(key string, k, v *yaml.Node) {
		switch {
		case slices.Contains(opKeys, key):
			if opKey != nil {
				p.errorf(k, "two operations in one item: %s (line %d) and %s; write each as its own list item", opKey.Value, opKey.Line, key)
				return
			}
			opKey, opVal = k, v
		case slices.Contains(blockKeys, key):
			extra[key] = k
		default:
			unknown = append(unknown, k)
		}
	})
	if opKey == nil {
		if len(unknown) > 0 {
			k := unknown[0]
			p.errorf(k, "unknown operation %q%s", k.Value, contract.DidYouMean(k.Value, opKeys))
		} else if n.Kind == yaml.MappingNode && len(n.Content) == 0 {
			p.errorf(n, "an empty operation")
		}
		return nil
	}
	kind, _ := opNamed(opKey.Value)
	allowed := kind.decl().blocks
	for _, k := range unknown {
		p.errorf(k, "unknown key %q in %s%s", k.Value, opKey.Value, contract.DidYouMean(k.Value, append(slices.Clone(allowed), opKeys...)))
	}
	for key, k := range extra {
		if !slices.Contains(allowed, key) {
			p.errorf(k, "%s takes no %s:", opKey.Value, key)
		}
	}
	return p.opBody(kind, opKey, opVal, n)
}

// blockKeys are the keys of the lists of operations beside an operation's
// key, whichever takes them.
var blockKeys = []string{"then", "else", "do"}

// value returns the node of an extra key of an operation's mapping.
func value(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// opBody reads what the key k of operation kind takes, v, as its shape
// says, and the lists of operations beside it in item.
func (p *parser) opBody(kind OpKind, k, v, item *yaml.Node) *Op {
	op := &Op{Kind: kind, Pos: pos(k)}
	key := k.Value
	switch kind.Shape() {
	case ShapeObject:
		if !p.objectName(v, key) {
			return nil
		}
		op.Object, op.ObjectPos = v.Value, contentPos(v)
	case ShapeCondWait:
		p.mapping(v, key, []string{"cond", "mutex"}, func(sub string, _, v2 *yaml.Node) {
			if !p.objectName(v2, key+" "+sub) {
				return
			}
			if sub == "cond" {
				op.Object, op.ObjectPos = v2.Value, contentPos(v2)
			} else {
				op.Mutex, op.MutexPos = v2.Value, contentPos(v2)
			}
		})
		if v.Kind == yaml.MappingNode && (op.Object == "" || op.Mutex == "") {
			p.errorf(v, "%s needs {cond: NAME, mutex: NAME}", key)
			return nil
		}
		if op.Object == "" || op.Mutex == "" {
			return nil
		}
	case ShapeAssign:
		if !p.assignment(op, v, key) {
			return nil
		}
	case ShapeExpr:
		x, ok := p.expr(v, key)
		if !ok {
			return nil
		}
		op.Expr = x
		if !p.opBlocks(op, item) {
			return nil
		}
	case ShapeRegion:
		if v.Kind == yaml.MappingNode {
			var body *yaml.Node
			p.mapping(v, key, []string{"region", "do"}, func(sub string, _, v2 *yaml.Node) {
				if sub == "do" {
					body = v2
				} else if p.objectName(v2, key+" region") {
					op.Object, op.ObjectPos = v2.Value, contentPos(v2)
				}
			})
			if body == nil {
				p.errorf(v, "%s needs do: [operations]", key)
				return nil
			}
			v = body
		}
		op.Do = p.ops(v, key)
	case ShapeDuration:
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, "%s must be a duration such as 10ms, not %s", key, kindName(v))
			return nil
		}
		d, err := time.ParseDuration(v.Value)
		if err != nil || d < 0 {
			p.errorf(v, "%s must be a duration such as 10ms, not %s", key, kindName(v))
			return nil
		}
		op.Duration = d
	case ShapeNone:
		if v.Tag != "!!null" {
			p.errorf(v, "%s takes no argument", key)
		}
	case ShapeText:
		op.Text, op.TextPos = p.text(v, key), contentPos(v)
	case ShapeCall:
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
			p.errorf(v, "%s needs NAME(ARGUMENTS), not %s", key, kindName(v))
			return nil
		}
		if _, _, ok := callText(v.Value, contentPos(v)); !ok {
			hint := ""
			if strings.Contains(v.Value, "(") && !strings.Contains(v.Value, ")") {
				hint = ": in a flow list [ … ] YAML splits at the commas; quote the call, \"lock(readers, room_empty)\""
			}
			p.errorf(v, "%s needs NAME(ARGUMENTS), such as lock(readers, room_empty), not %q%s", key, v.Value, hint)
			return nil
		}
		op.Object, op.ObjectPos = strings.TrimSpace(v.Value), contentPos(v)
	}
	return op
}

// objectName checks an object's name as an operation gives it: NAME, or
// NAME[EXPR], an element of an array.
func (p *parser) objectName(v *yaml.Node, what string) bool {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.errorf(v, "%s needs a name, not %s", what, kindName(v))
		return false
	}
	if _, _, _, ok := splitIndex(v.Value); !ok {
		p.errorf(v, "%s needs a name, or NAME[INDEX] for an element of an array, not %s", what, kindName(v))
		return false
	}
	return true
}

// opBlocks reads the lists of operations an operation takes beside its
// key (then and else of an if, do of a while or repeat), saying which it
// cannot go without.
func (p *parser) opBlocks(op *Op, item *yaml.Node) bool {
	d := op.Kind.decl()
	for _, key := range d.blocks {
		n := value(item, key)
		if n == nil {
			if slices.Contains(d.needed, key) {
				p.errorf(item, "%s needs %s: [operations]", d.name, key)
				return false
			}
			continue
		}
		list := p.ops(n, key)
		switch key {
		case "then":
			op.Then = list
		case "else":
			op.Else = list
		case "do":
			op.Do = list
		}
	}
	return true
}

// assignment reads NAME = EXPR.
func (p *parser) assignment(op *Op, v *yaml.Node, key string) bool {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" {
		p.errorf(v, "%s needs NAME = EXPR, not %s", key, kindName(v))
		return false
	}
	src := v.Value
	at := contentPos(v)
	i := 0
	for i < len(src) && src[i] == ' ' {
		i++
	}
	j := i
	for j < len(src) && (src[j] == '_' || src[j] >= '0' && src[j] <= '9' || src[j] >= 'a' && src[j] <= 'z' || src[j] >= 'A' && src[j] <= 'Z') {
		j++
	}
	if j < len(src) && src[j] == '[' {
		// NAME[INDEX]: an element of an array.
		depth := 0
		for j < len(src) {
			if src[j] == '[' {
				depth++
			} else if src[j] == ']' {
				depth--
			}
			j++
			if depth == 0 {
				break
			}
		}
	}
	name := src[i:j]
	k := j
	for k < len(src) && src[k] == ' ' {
		k++
	}
	if _, _, _, ok := splitIndex(name); name == "" || !ok || k >= len(src) || src[k] != '=' || k+1 < len(src) && src[k+1] == '=' {
		p.errs.add(at, "%s needs NAME = EXPR: %q has no assignment", key, src)
		return false
	}
	rest := src[k+1:]
	lead := len(rest) - len(strings.TrimLeft(rest, " "))
	if strings.TrimSpace(rest) == "" {
		p.errs.add(at, "%s %s = …: the expression is empty", key, name)
		return false
	}
	op.Target, op.TargetPos = name, Pos{Line: at.Line, Col: at.Col + i}
	op.Expr = Expr{Src: rest[lead:], Pos: Pos{Line: at.Line, Col: at.Col + k + 1 + lead}}
	return true
}
