package program

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	exprparser "github.com/expr-lang/expr/parser"
	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

// A lab's programs and a student's: the student's file holds the programs
// the lab asks for, and they take the place of the lab's programs of the
// same names. What a program checks stays the lab's: a student's version
// must keep it as the lab has it (see [Def.Checks]), so that a submission
// cannot pass by weakening an assert.

// Overlay returns a set in which the programs of n — the value of
// `programs:` in a student's file, named file — take the place of this
// set's programs of the same names. n must hold exactly the programs that
// want names, each keeping the checks of this set's program of its name.
// Errors are at their line and column in the student's file.
func (s *Set) Overlay(file string, n *yaml.Node, want []string) (*Set, Errors) {
	defs, perrs := Parse(n)
	var errs errorList
	for _, e := range perrs {
		errs.add(Pos{Line: e.Line, Col: e.Col}, "%s", e.Msg)
	}
	out := &Set{programs: slices.Clone(s.programs)}
	given := map[string]bool{}
	for _, d := range defs {
		given[d.Name] = true
		i := slices.IndexFunc(out.programs, func(p *Program) bool { return p.def.Name == d.Name })
		if !slices.Contains(want, d.Name) {
			if i >= 0 {
				errs.add(d.Pos, "program %s is the lab's, not one you write: a student's file holds only %s", d.Name, strings.Join(want, ", "))
			} else {
				errs.add(d.Pos, "program %s is not one the lab asks for (%s)%s", d.Name, strings.Join(want, ", "), contract.DidYouMean(d.Name, want))
			}
			continue
		}
		if i < 0 {
			errs.add(d.Pos, "program %s: the lab has no program of that name to replace", d.Name)
			continue
		}
		d.File = file
		if len(perrs) > 0 {
			continue // the parse errors first: a half-read program has no checks to compare
		}
		for _, e := range keepsChecks(out.programs[i].def, d) {
			errs.add(Pos{Line: e.Line, Col: e.Col}, "%s", e.Msg)
		}
		p, cerrs := Compile(d)
		for _, e := range cerrs {
			errs.add(Pos{Line: e.Line, Col: e.Col}, "%s", e.Msg)
		}
		if p != nil {
			out.programs[i] = p
		}
	}
	at := pos(deref(n))
	if at.Line == 0 {
		at = Pos{Line: 1, Col: 1}
	}
	for _, name := range want {
		if !given[name] {
			errs.add(at, "the lab asks for program %s, which this file does not have", name)
		}
	}
	if e := errs.result(); e != nil {
		return nil, e
	}
	return out, nil
}

// File is the file the program was read from when it is not the
// scenario's own (a student's file, see [Set.Overlay]); "" otherwise.
func (p *Program) File() string { return p.def.File }

// Check is one thing a program checks, as a student's version of the
// program must keep it: its text in one fixed form, and where it is.
type Check struct {
	Text string
	Pos  Pos
}

// Checks are what d checks, which a student's version of d must keep as
// they are: its invariants and expect; the shared variables they read,
// with their initial values; its regions, with their capacities; and in
// each thread, in the order of the text, every assert, every critical
// region with everything inside it, and every write of a variable (or of
// the thread's local) that a check reads. A thread that holds such an
// operation is kept with its name and count (its [Check] comes before
// those of its operations). The rest — semaphores, mutexes, the
// synchronization around the kept operations, threads of its own — is
// the student's.
func (d *Def) Checks() []Check {
	var out []Check
	for _, x := range d.Invariants {
		out = append(out, Check{Text: "invariant: " + oneLine(x.Src), Pos: x.Pos})
	}
	if d.Expect != nil {
		out = append(out, Check{Text: "expect: " + oneLine(d.Expect.Src), Pos: d.Expect.Pos})
	}
	read := d.checkedVars()
	for _, v := range d.Vars {
		if read[arrayBase(v.Name)] {
			out = append(out, Check{Text: "var: " + varText(v), Pos: v.Pos})
		}
	}
	for _, r := range d.Regions {
		out = append(out, Check{Text: fmt.Sprintf("regions: {%s: %d}", r.Name, r.Capacity), Pos: r.Pos})
	}
	for _, t := range d.Threads {
		if ops := d.threadChecks(t.Body, read, nil); len(ops) > 0 {
			out = append(out, Check{Text: threadText(t), Pos: t.Pos})
			out = append(out, ops...)
		}
	}
	return out
}

// keepsChecks compares the checks of a student's program with the lab's,
// by kind: the first difference of each is an error at the student's
// text, or at the program's name when the student's has one fewer.
func keepsChecks(lab, student *Def) []*Error {
	var errs []*Error
	group := func(c Check) string {
		kind, _, _ := strings.Cut(c.Text, " ")
		return kind
	}
	want, got := lab.Checks(), student.Checks()
	for _, kind := range []string{"invariant:", "expect:", "regions:"} {
		w := slices.DeleteFunc(slices.Clone(want), func(c Check) bool { return group(c) != kind })
		g := slices.DeleteFunc(slices.Clone(got), func(c Check) bool { return group(c) != kind })
		if kind == "regions:" {
			// The order of declarations is the student's; a region of
			// its own is the student's too, but a critical region in
			// its code differs from the lab's.
			byText := func(a, b Check) int { return strings.Compare(a.Text, b.Text) }
			slices.SortFunc(w, byText)
			g = slices.DeleteFunc(g, func(c Check) bool {
				return !slices.ContainsFunc(w, func(l Check) bool { return regionName(l) == regionName(c) })
			})
			slices.SortFunc(g, byText)
		}
		if e := firstDifference(student, student.Pos, w, g); e != nil {
			errs = append(errs, e)
		}
	}
	// The variables the lab's checks read, as the lab declares them (in
	// any order: the declarations are the student's).
	for _, v := range lab.Vars {
		if !lab.checkedVars()[arrayBase(v.Name)] {
			continue
		}
		i := slices.IndexFunc(student.Vars, func(s VarDecl) bool { return s.Name == v.Name })
		switch {
		case i < 0:
			errs = append(errs, &Error{Line: student.Pos.Line, Col: student.Pos.Col, Msg: fmt.Sprintf("program %s: declare var %s, which the lab's checks read (%s)", student.Name, varText(v), WhyKept)})
		case varText(student.Vars[i]) != varText(v):
			at := student.Vars[i].Pos
			errs = append(errs, &Error{Line: at.Line, Col: at.Col, Msg: fmt.Sprintf("program %s: the lab's checks read var %s, declared %s, not %s (%s)", student.Name, v.Name, varText(v), varText(student.Vars[i]), WhyKept)})
		}
	}
	// The threads that hold checks, by name, and what each keeps.
	lt, st := threadGroups(want), threadGroups(got)
	for _, l := range lt {
		i := slices.IndexFunc(st, func(s threadGroup) bool { return s.name == l.name })
		switch {
		case i < 0:
			// The thread keeps none of the checks, or is not there.
			at := student.Pos
			for _, t := range student.Threads {
				if t.Name == l.name {
					at = t.Pos
				}
			}
			if e := firstDifference(student, at, l.ops, nil); e != nil && at != student.Pos {
				errs = append(errs, e)
				continue
			}
			errs = append(errs, &Error{Line: at.Line, Col: at.Col, Msg: fmt.Sprintf("program %s: the lab's %s is missing (%s)", student.Name, l.head.Text, WhyKept)})
		case st[i].head.Text != l.head.Text:
			errs = append(errs, &Error{Line: st[i].head.Pos.Line, Col: st[i].head.Pos.Col, Msg: fmt.Sprintf("program %s: the lab has %s, not %s (%s)", student.Name, l.head.Text, st[i].head.Text, WhyKept)})
		default:
			if e := firstDifference(student, st[i].head.Pos, l.ops, st[i].ops); e != nil {
				errs = append(errs, e)
			}
		}
	}
	for _, s := range st {
		if !slices.ContainsFunc(lt, func(l threadGroup) bool { return l.name == s.name }) {
			errs = append(errs, &Error{Line: s.ops[0].Pos.Line, Col: s.ops[0].Pos.Col, Msg: fmt.Sprintf("program %s: %s has `%s`, but the lab's checks are not in that thread (%s)", student.Name, s.head.Text, s.ops[0].Text, WhyKept)})
		}
	}
	return errs
}

// WhyKept is the reason a change to the checks is refused; every error
// that refuses one says it.
const WhyKept = "the lab's checks stay as the handout has them"

// firstDifference reports where got, the student's checks, first differs
// from want, the lab's; a missing check is reported after the student's
// check before it, or at missing when there is none.
func firstDifference(student *Def, missing Pos, want, got []Check) *Error {
	for i := range max(len(want), len(got)) {
		switch {
		case i >= len(got):
			at := missing
			if i > 0 {
				at = got[i-1].Pos
			}
			return &Error{Line: at.Line, Col: at.Col, Msg: fmt.Sprintf("program %s: the lab's `%s` is missing (%s)", student.Name, want[i].Text, WhyKept)}
		case i >= len(want):
			return &Error{Line: got[i].Pos.Line, Col: got[i].Pos.Col, Msg: fmt.Sprintf("program %s: `%s` is not in the lab's program (%s)", student.Name, got[i].Text, WhyKept)}
		case want[i].Text != got[i].Text:
			return &Error{Line: got[i].Pos.Line, Col: got[i].Pos.Col, Msg: fmt.Sprintf("program %s: the lab has `%s` here, not `%s` (%s)", student.Name, want[i].Text, got[i].Text, WhyKept)}
		}
	}
	return nil
}

// regionName is the name in a region's check.
func regionName(c Check) string {
	name, _, _ := strings.Cut(strings.TrimPrefix(c.Text, "regions: {"), ":")
	return name
}

// threadGroup is a thread's check and the checks of its operations.
type threadGroup struct {
	name string
	head Check
	ops  []Check
}

func threadGroups(checks []Check) []threadGroup {
	var out []threadGroup
	for _, c := range checks {
		switch {
		case strings.HasPrefix(c.Text, "thread "):
			name, _, _ := strings.Cut(strings.TrimPrefix(c.Text, "thread "), " ")
			out = append(out, threadGroup{name: name, head: c})
		case len(out) > 0:
			out[len(out)-1].ops = append(out[len(out)-1].ops, c)
		}
	}
	return out
}

// threadChecks are the operations of ops, nested ones included, and those
// of the procedures they call, that a student keeps.
func (d *Def) threadChecks(ops []*Op, read map[string]bool, calling []string) []Check {
	var out []Check
	for _, op := range ops {
		switch {
		case op.Kind == OpAssert:
			out = append(out, Check{Text: opLine(op), Pos: op.Pos})
		case op.Kind == OpCritical:
			out = append(out, Check{Text: opLine(op), Pos: op.Pos})
		case (op.Kind == OpSet || op.Kind == OpAtomicSet || op.Kind == OpLocal) && read[arrayBase(op.Target)]:
			out = append(out, Check{Text: opLine(op), Pos: op.Pos})
		case op.Kind == OpCall:
			if p := d.procedure(op); p != nil && !slices.Contains(calling, p.Name) {
				out = append(out, d.threadChecks(p.Body, read, append(calling, p.Name))...)
			}
		}
		for _, block := range [][]*Op{op.Then, op.Else} {
			out = append(out, d.threadChecks(block, read, calling)...)
		}
		if op.Kind != OpCritical {
			out = append(out, d.threadChecks(op.Do, read, calling)...)
		}
	}
	return out
}

// procedure is the procedure a call names; nil if there is none.
func (d *Def) procedure(call *Op) *ProcDecl {
	name, _, _ := callText(call.Object, call.ObjectPos)
	for i := range d.Procedures {
		if d.Procedures[i].Name == name {
			return &d.Procedures[i]
		}
	}
	return nil
}

// arrayBase is the array an element's name is of (state of state[2]),
// or the name itself.
func arrayBase(name string) string {
	if base, _, _, ok := splitIndex(name); ok {
		return base
	}
	return name
}

// checkedVars are the names the checks read: the invariants, expect and
// every assert.
func (d *Def) checkedVars() map[string]bool {
	read := map[string]bool{}
	for _, x := range d.Invariants {
		namesIn(x.Src, read)
	}
	if d.Expect != nil {
		namesIn(d.Expect.Src, read)
	}
	var walk func([]*Op)
	walk = func(ops []*Op) {
		for _, op := range ops {
			if op.Kind == OpAssert {
				namesIn(op.Expr.Src, read)
			}
			walk(op.Then)
			walk(op.Else)
			walk(op.Do)
		}
	}
	for _, t := range d.Threads {
		walk(t.Body)
	}
	for _, p := range d.Procedures {
		walk(p.Body)
	}
	return read
}

// namesIn adds the names src reads to into; an expression that does not
// parse adds nothing (the compiler reports it).
func namesIn(src string, into map[string]bool) {
	tree, err := exprparser.Parse(src)
	if err != nil {
		return
	}
	ast.Walk(&tree.Node, visitor(func(n ast.Node) {
		if id, ok := n.(*ast.IdentifierNode); ok {
			into[id.Value] = true
		}
	}))
}

// opLine writes an operation on one line, in YAML's flow style: the text
// of a check in a message.
func opLine(op *Op) string {
	key := op.Kind.String()
	list := func(ops []*Op) string {
		parts := make([]string, len(ops))
		for i, o := range ops {
			parts[i] = opLine(o)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	switch op.Kind.Shape() {
	case ShapeNone:
		return key
	case ShapeRegion:
		if op.Object == "" {
			return key + ": " + list(op.Do)
		}
		return key + ": {region: " + op.Object + ", do: " + list(op.Do) + "}"
	case ShapeText:
		return key + ": " + strconv.Quote(op.Text)
	}
	line := key + ": " + oneLine(op.Arg())
	blocks, shown := op.Kind.Blocks()
	var more string
	for _, name := range blocks {
		if b := op.Block(name); len(b) > 0 || slices.Contains(shown, name) {
			more += ", " + name + ": " + list(b)
		}
	}
	if more == "" {
		return line
	}
	return "{" + line + more + "}"
}

func oneLine(src string) string { return strings.Join(strings.Fields(src), " ") }

func varText(v VarDecl) string {
	if v.Bool {
		return fmt.Sprintf("%s: %t", v.Name, v.Value != 0)
	}
	return v.Name + ": " + strconv.FormatInt(v.Value, 10)
}

func threadText(t ThreadDecl) string {
	if t.Count > 0 {
		return fmt.Sprintf("thread %s (count %d)", t.Name, t.Count)
	}
	return "thread " + t.Name
}
