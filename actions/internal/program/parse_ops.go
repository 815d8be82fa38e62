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
		switch {
		case n.Value == "yield":
			return &Op{Kind: OpYield, Pos: pos(n)}
		case slices.Contains(opKeys, n.Value):
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
		case key == "then" || key == "else" || key == "do":
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
	allowed := extraKeys[opKey.Value]
	for _, k := range unknown {
		p.errorf(k, "unknown key %q in %s%s", k.Value, opKey.Value, contract.DidYouMean(k.Value, append(slices.Clone(allowed), opKeys...)))
	}
	for key, k := range extra {
		if !slices.Contains(allowed, key) {
			p.errorf(k, "%s takes no %s:", opKey.Value, key)
		}
	}
	return p.opBody(opKey, opVal, n)
}

// value returns the node of an extra key of an operation's mapping.
func value(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

func (p *parser) opBody(k, v, item *yaml.Node) *Op {
	op := &Op{Pos: pos(k)}
	key := k.Value
	switch key {
	case "wait", "signal", "lock", "unlock", "cond_signal", "cond_broadcast":
		op.Kind = map[string]OpKind{"wait": OpWait, "signal": OpSignal, "lock": OpLock, "unlock": OpUnlock, "cond_signal": OpCondSignal, "cond_broadcast": OpCondBroadcast}[key]
		if !p.objectName(v, key) {
			return nil
		}
		op.Object, op.ObjectPos = v.Value, pos(v)
	case "cond_wait":
		op.Kind = OpCondWait
		p.mapping(v, "cond_wait", []string{"cond", "mutex"}, func(sub string, _, v2 *yaml.Node) {
			if !p.objectName(v2, "cond_wait "+sub) {
				return
			}
			if sub == "cond" {
				op.Object, op.ObjectPos = v2.Value, pos(v2)
			} else {
				op.Mutex, op.MutexPos = v2.Value, pos(v2)
			}
		})
		if v.Kind == yaml.MappingNode && (op.Object == "" || op.Mutex == "") {
			p.errorf(v, "cond_wait needs {cond: NAME, mutex: NAME}")
			return nil
		}
		if op.Object == "" || op.Mutex == "" {
			return nil
		}
	case "set", "atomic_set", "local":
		op.Kind = map[string]OpKind{"set": OpSet, "atomic_set": OpAtomicSet, "local": OpLocal}[key]
		if !p.assignment(op, v, key) {
			return nil
		}
	case "if", "while", "repeat", "assert":
		op.Kind = map[string]OpKind{"if": OpIf, "while": OpWhile, "repeat": OpRepeat, "assert": OpAssert}[key]
		x, ok := p.expr(v, key)
		if !ok {
			return nil
		}
		op.Expr = x
		if !p.opBlocks(op, item) {
			return nil
		}
	case "critical":
		op.Kind = OpCritical
		if v.Kind == yaml.MappingNode {
			var body *yaml.Node
			p.mapping(v, "critical", []string{"region", "do"}, func(sub string, _, v2 *yaml.Node) {
				if sub == "do" {
					body = v2
				} else if p.objectName(v2, "critical region") {
					op.Object, op.ObjectPos = v2.Value, pos(v2)
				}
			})
			if body == nil {
				p.errorf(v, "critical needs do: [operations]")
				return nil
			}
			v = body
		}
		op.Do = p.ops(v, "critical")
	case "work":
		op.Kind = OpWork
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, "work must be a duration such as 10ms, not %s", kindName(v))
			return nil
		}
		d, err := time.ParseDuration(v.Value)
		if err != nil || d < 0 {
			p.errorf(v, "work must be a duration such as 10ms, not %s", kindName(v))
			return nil
		}
		op.Duration = d
	case "yield":
		op.Kind = OpYield
		if v.Tag != "!!null" {
			p.errorf(v, "yield takes no argument")
		}
	case "log":
		op.Kind = OpLog
		op.Text, op.TextPos = p.text(v, "log"), contentPos(v)
	}
	return op
}

func (p *parser) objectName(v *yaml.Node, what string) bool {
	if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || !identRe.MatchString(v.Value) {
		p.errorf(v, "%s needs a name, not %s", what, kindName(v))
		return false
	}
	return true
}

// opBlocks reads then/else of an if and do of a while or repeat.
func (p *parser) opBlocks(op *Op, item *yaml.Node) bool {
	switch op.Kind {
	case OpIf:
		then := value(item, "then")
		if then == nil {
			p.errorf(item, "if needs then: [operations]")
			return false
		}
		op.Then = p.ops(then, "then")
		if e := value(item, "else"); e != nil {
			op.Else = p.ops(e, "else")
		}
	case OpWhile:
		if do := value(item, "do"); do != nil {
			op.Do = p.ops(do, "do")
		}
	case OpRepeat:
		do := value(item, "do")
		if do == nil {
			p.errorf(item, "repeat needs do: [operations]")
			return false
		}
		op.Do = p.ops(do, "do")
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
	name := src[i:j]
	k := j
	for k < len(src) && src[k] == ' ' {
		k++
	}
	if name == "" || !identRe.MatchString(name) || k >= len(src) || src[k] != '=' || k+1 < len(src) && src[k+1] == '=' {
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
