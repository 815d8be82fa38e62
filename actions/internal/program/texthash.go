package program

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// textHash hashes the canonical text of d: what the program says, without
// positions, comments or YAML style.
func textHash(d *Def) string {
	sum := sha256.Sum256([]byte(Canonical(d)))
	return hex.EncodeToString(sum[:8])
}

// Canonical prints d in one fixed form, one declaration or operation a
// line, indented by nesting; [Program.TextHash] hashes it.
func Canonical(d *Def) string {
	var b strings.Builder
	fmt.Fprintf(&b, "program %s\n", strconv.Quote(d.Name))
	for _, v := range d.Vars {
		if v.Bool {
			fmt.Fprintf(&b, "var %s bool %d\n", v.Name, v.Value)
		} else {
			fmt.Fprintf(&b, "var %s int %d\n", v.Name, v.Value)
		}
	}
	for _, s := range d.Semaphores {
		fmt.Fprintf(&b, "semaphore %s %d fifo=%t max=%d\n", s.Name, s.Value, s.FIFO, s.Max)
	}
	for _, m := range d.Mutexes {
		fmt.Fprintf(&b, "mutex %s\n", m.Name)
	}
	for _, c := range d.Conds {
		fmt.Fprintf(&b, "cond %s\n", c.Name)
	}
	for _, r := range d.Regions {
		fmt.Fprintf(&b, "region %s %d\n", r.Name, r.Capacity)
	}
	for _, a := range d.Arrays {
		fmt.Fprintf(&b, "array %s %s %d\n", a.Name, a.Kind, a.Count)
	}
	for _, pr := range d.Procedures {
		params := make([]string, len(pr.Params))
		for i, p := range pr.Params {
			params[i] = p.Name
		}
		fmt.Fprintf(&b, "procedure %s(%s)\n", pr.Name, strings.Join(params, ", "))
		canonicalOps(&b, pr.Body, 1)
	}
	for _, t := range d.Threads {
		fmt.Fprintf(&b, "thread %s count=%d\n", t.Name, t.Count)
		canonicalOps(&b, t.Body, 1)
	}
	for _, x := range d.Invariants {
		fmt.Fprintf(&b, "invariant %s\n", strconv.Quote(x.Src))
	}
	if d.Expect != nil {
		fmt.Fprintf(&b, "expect %s\n", strconv.Quote(d.Expect.Src))
	}
	return b.String()
}

func canonicalOps(b *strings.Builder, ops []*Op, depth int) {
	indent := strings.Repeat("  ", depth)
	for _, op := range ops {
		b.WriteString(indent)
		b.WriteString(op.Kind.String())
		switch op.Kind.Shape() {
		case ShapeObject, ShapeRegion, ShapeCall:
			b.WriteString(" " + op.Object)
		case ShapeCondWait:
			b.WriteString(" " + op.Object + " " + op.Mutex)
		case ShapeAssign:
			b.WriteString(" " + op.Target + " = " + strconv.Quote(op.Expr.Src))
		case ShapeExpr:
			b.WriteString(" " + strconv.Quote(op.Expr.Src))
		case ShapeDuration:
			b.WriteString(" " + op.Duration.String())
		case ShapeText:
			b.WriteString(" " + strconv.Quote(op.Text))
		}
		b.WriteString("\n")
		blocks := []struct {
			name string
			ops  []*Op
		}{{"then", op.Then}, {"else", op.Else}, {"do", op.Do}}
		for _, blk := range blocks {
			if len(blk.ops) > 0 || slices.Contains(op.Kind.decl().shown, blk.name) {
				fmt.Fprintf(b, "%s%s:\n", indent, blk.name)
				canonicalOps(b, blk.ops, depth+1)
			}
		}
	}
}
