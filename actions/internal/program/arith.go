package program

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// Checked arithmetic. Variables hold 64-bit integers, and expr computes
// on them as Go does: x + x from 2^62 wraps to -2^63 without a word,
// int(5 / 0) is -2^63 (5 / 0 is +Inf), and only % by zero stops with a
// runtime error. A program that computes a wrong number silently is a
// lesson lost, so every arithmetic operation on integers is patched, at
// compile time, into a call of a function below that checks it, and so
// is every conversion of a fraction back to an integer (int(a / b), the
// only way to divide). A check that fails ends the evaluation with an
// [arithError]; the step, invariant, expect or log that evaluated it
// fails with verdict assert (see [cexpr.eval]). An operation on two
// literals is checked at load instead: its overflow is a load error.

// arithError is an operation whose result is not an integer: an
// overflow, a division by zero, a fraction out of an integer's range.
type arithError struct{ msg string }

func (e *arithError) Error() string { return e.msg }

func overflow(format string, args ...any) error {
	return &arithError{msg: fmt.Sprintf(format, args...) + " overflows (integers are 64-bit)"}
}

var errDivZero = &arithError{msg: "division by zero"}

// The names the patched expressions call. They begin with $, which no
// name in a program can, so nobody calls them by mistake.
const (
	fnAdd = "$add"
	fnSub = "$sub"
	fnMul = "$mul"
	fnMod = "$mod"
	fnDiv = "$div"
	fnNeg = "$neg"
	fnAbs = "$abs"
	fnInt = "$int"
)

var (
	intType   = reflect.TypeFor[int]()
	floatType = reflect.TypeFor[float64]()
)

// arithFuncs are the checked operations, as expr functions; each is
// declared with its types so that a patched expression type-checks as the
// operation it replaces.
var arithFuncs = []expr.Option{
	expr.Function(fnAdd, intOp(addInt), new(func(int, int) int)),
	expr.Function(fnSub, intOp(subInt), new(func(int, int) int)),
	expr.Function(fnMul, intOp(mulInt), new(func(int, int) int)),
	expr.Function(fnMod, intOp(modInt), new(func(int, int) int)),
	expr.Function(fnDiv, divide,
		new(func(int, int) float64), new(func(int, float64) float64),
		new(func(float64, int) float64), new(func(float64, float64) float64)),
	expr.Function(fnNeg, func(args ...any) (any, error) {
		x := args[0].(int)
		if x == math.MinInt64 {
			return nil, overflow("-(%d)", x)
		}
		return -x, nil
	}, new(func(int) int)),
	expr.Function(fnAbs, func(args ...any) (any, error) {
		x := args[0].(int)
		switch {
		case x == math.MinInt64:
			return nil, overflow("abs(%d)", x)
		case x < 0:
			return -x, nil
		}
		return x, nil
	}, new(func(int) int)),
	expr.Function(fnInt, func(args ...any) (any, error) {
		f := args[0].(float64)
		// 2^63 is the first float64 past the largest int64; -2^63 is
		// the smallest int64 exactly.
		if math.IsNaN(f) || f >= 0x1p63 || f < -0x1p63 {
			return nil, &arithError{msg: fmt.Sprintf("int(%s) is out of an integer's range (64-bit)", strconv.FormatFloat(f, 'g', -1, 64))}
		}
		return int(f), nil
	}, new(func(float64) int)),
}

func intOp(op func(a, b int) (int, error)) func(args ...any) (any, error) {
	return func(args ...any) (any, error) { return op(args[0].(int), args[1].(int)) }
}

func addInt(a, b int) (int, error) {
	s := a + b
	if (s > a) != (b > 0) {
		return 0, overflow("%d + %d", a, b)
	}
	return s, nil
}

func subInt(a, b int) (int, error) {
	d := a - b
	if (d < a) != (b > 0) {
		return 0, overflow("%d - %d", a, b)
	}
	return d, nil
}

func mulInt(a, b int) (int, error) {
	if a == 0 || b == 0 {
		return 0, nil
	}
	p := a * b
	if p/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return 0, overflow("%d * %d", a, b)
	}
	return p, nil
}

func modInt(a, b int) (int, error) {
	if b == 0 {
		return 0, errDivZero
	}
	return a % b, nil // MinInt64 % -1 is 0 in Go: no overflow
}

func divide(args ...any) (any, error) {
	toFloat := func(v any) float64 {
		if i, ok := v.(int); ok {
			return float64(i)
		}
		return v.(float64)
	}
	a, b := toFloat(args[0]), toFloat(args[1])
	if b == 0 {
		return nil, errDivZero
	}
	return a / b, nil
}

// arith is the patcher that puts the checked operations in place of
// expr's own. It runs on the type-checked tree, children before their
// parent, and gives each call it makes its type, so that the parent's
// test of its operands' types sees the call's.
type arith struct {
	err error // a literal operation that overflows
}

var binaryFns = map[string]string{"+": fnAdd, "-": fnSub, "*": fnMul, "%": fnMod}

// Visit patches one node.
func (a *arith) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.BinaryNode:
		if n.Operator == "/" {
			if isNumber(n.Left) && isNumber(n.Right) {
				call(node, fnDiv, floatType, n.Left, n.Right)
			}
			return
		}
		fn, ok := binaryFns[n.Operator]
		if !ok || !isInt(n.Left) || !isInt(n.Right) {
			return
		}
		if x, ok := n.Left.(*ast.IntegerNode); ok {
			if y, ok := n.Right.(*ast.IntegerNode); ok {
				// expr folds an operation on two literals at compile
				// time, unchecked: check it here, once.
				ops := map[string]func(a, b int) (int, error){"+": addInt, "-": subInt, "*": mulInt, "%": modInt}
				if _, err := ops[n.Operator](x.Value, y.Value); err != nil && a.err == nil {
					a.err = err
				}
				return
			}
		}
		call(node, fn, intType, n.Left, n.Right)
	case *ast.UnaryNode:
		if _, literal := n.Node.(*ast.IntegerNode); n.Operator == "-" && isInt(n.Node) && !literal {
			call(node, fnNeg, intType, n.Node)
		}
	case *ast.BuiltinNode:
		if len(n.Arguments) != 1 {
			return
		}
		switch x := n.Arguments[0]; {
		case n.Name == "abs" && isInt(x):
			call(node, fnAbs, intType, x)
		case n.Name == "int" && kindOf(x) == reflect.Float64:
			call(node, fnInt, intType, x)
		}
	}
}

// call replaces node by a call of fn with args, of type t.
func call(node *ast.Node, fn string, t reflect.Type, args ...ast.Node) {
	c := &ast.CallNode{Callee: &ast.IdentifierNode{Value: fn}, Arguments: args}
	ast.Patch(node, c)
	c.Callee.SetLocation(c.Location())
	c.SetType(t)
}

func kindOf(n ast.Node) reflect.Kind {
	if t := n.Type(); t != nil {
		return t.Kind()
	}
	return reflect.Interface
}

func isInt(n ast.Node) bool { return kindOf(n) == reflect.Int }

func isNumber(n ast.Node) bool {
	k := kindOf(n)
	return k == reflect.Int || k == reflect.Float64
}

// evalError is an evaluation that an arithmetic check stopped: the
// expression, what went wrong and the values it read, "x + x:
// 4611686018427387904 + 4611686018427387904 overflows (integers are
// 64-bit): x = 4611686018427387904". Wherever it happens (a step, an
// invariant, expect, a log), it fails the run with verdict assert.
type evalError struct{ Msg string }

func (e *evalError) Error() string { return e.Msg }

// isArith says whether err is an arithmetic check's.
func isArith(err error) bool {
	var ee *evalError
	return errors.As(err, &ee)
}

// binary is an expression of one operator between two operands, each a
// name or an integer literal (count + 1, flag == 0, x < y): the shape of
// most of a program's expressions, evaluated without expr's machine, the
// arithmetic checked as in the functions above.
type binary struct {
	op   string
	a, b operand
}

// operand is refs[ref], or k when ref is -1.
type operand struct {
	ref int
	k   int64
}

// binaryOf returns node as a binary, or nil when it has another shape.
func binaryOf(node ast.Node, refs []ref) *binary {
	var op string
	var args []ast.Node
	switch n := node.(type) {
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok || len(n.Arguments) != 2 {
			return nil
		}
		switch id.Value {
		case fnAdd:
			op = "+"
		case fnSub:
			op = "-"
		case fnMul:
			op = "*"
		default:
			return nil
		}
		args = n.Arguments
	case *ast.BinaryNode:
		switch n.Operator {
		case "==", "!=", "<", "<=", ">", ">=":
		default:
			return nil
		}
		if !isInt(n.Left) || !isInt(n.Right) {
			return nil
		}
		op, args = n.Operator, []ast.Node{n.Left, n.Right}
	default:
		return nil
	}
	bin := &binary{op: op}
	for i, arg := range args {
		o := operand{ref: -1}
		switch x := arg.(type) {
		case *ast.IntegerNode:
			o.k = int64(x.Value)
		case *ast.IdentifierNode:
			o.ref = slices.IndexFunc(refs, func(r ref) bool { return r.name == x.Value })
			if o.ref < 0 {
				return nil
			}
		default:
			return nil
		}
		if i == 0 {
			bin.a = o
		} else {
			bin.b = o
		}
	}
	return bin
}

func (b *binary) eval(s *State, t int, refs []ref) (int64, error) {
	x, y := b.a.k, b.b.k
	if b.a.ref >= 0 {
		x = s.load(refs[b.a.ref], t)
	}
	if b.b.ref >= 0 {
		y = s.load(refs[b.b.ref], t)
	}
	var v int
	var err error
	switch b.op {
	case "+":
		v, err = addInt(int(x), int(y))
	case "-":
		v, err = subInt(int(x), int(y))
	case "*":
		v, err = mulInt(int(x), int(y))
	case "==":
		return b2i(x == y), nil
	case "!=":
		return b2i(x != y), nil
	case "<":
		return b2i(x < y), nil
	case "<=":
		return b2i(x <= y), nil
	case ">":
		return b2i(x > y), nil
	case ">=":
		return b2i(x >= y), nil
	}
	return int64(v), err
}
