package lang

// Labs for a course: the course: key (which programs a student writes,
// which the handout leaves out, which vars vary from student to student),
// a student's file of programs loaded into its lab, and the ${{ vars.X }}
// of a section, filled in at load so that a variant can size a program.

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

// Course is what a lab says about teaching with it, under course:.
type Course struct {
	Pos Pos
	// Student names the programs a student writes: a student's file
	// holds them and nothing else (see [LoadOptions.Submission]).
	Student []string
	// Hidden names programs that the handout leaves out, because they
	// give the answer away.
	Hidden []string
	// Stubs name, for a program the student writes, the program the
	// handout gives in its place (when the solution's lines marked
	// # solution cannot make one); the handout leaves it out otherwise.
	Stubs map[string]string
	// Variants are the vars that vary from student to student.
	Variants []*Variant
}

// Variant is a var whose value a student's ID picks among Values.
type Variant struct {
	Pos    Pos
	Var    string
	Values []any
}

// Pick returns the value that student id gets in the lab called lab:
// always the same for the same lab, var and id, and spread evenly over
// the values across ids.
func (v *Variant) Pick(lab, id string) any {
	h := fnv.New64a()
	io.WriteString(h, lab+"\x00"+v.Var+"\x00"+id)
	return v.Values[h.Sum64()%uint64(len(v.Values))]
}

// Variant returns the value of every varied var for student id, by var.
func (c *Course) Variant(lab, id string) map[string]any {
	out := make(map[string]any, len(c.Variants))
	for _, v := range c.Variants {
		out[v.Var] = v.Pick(lab, id)
	}
	return out
}

// Submission is a student's file for a lab: it holds the programs the
// lab's course: names as the student's, under programs:, and nothing else.
type Submission struct {
	File string
	Data []byte
}

var courseKeys = []string{"student", "hidden", "stubs", "variants"}

// course reads the course: key and, for a student's ID, puts the variant's
// values in the vars (--var still overrides them).
func (l *loader) course(v *yaml.Node) {
	if v == nil {
		if l.opt.Submission != nil {
			l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: 1, Col: 1}, Msg: "this scenario is not a lab a student's file can be graded in: it has no course: key naming the programs a student writes"})
		}
		return
	}
	c := &Course{Pos: l.pos(v)}
	l.mapping(v, "course", courseKeys, func(key string, k, val *yaml.Node) {
		switch key {
		case "student":
			c.Student = l.programNames(val, "course: student")
		case "hidden":
			c.Hidden = l.programNames(val, "course: hidden")
		case "variants":
			c.Variants = l.variants(val)
		case "stubs":
			c.Stubs = map[string]string{}
			l.mapping(val, "course: stubs", nil, func(name string, k, v *yaml.Node) {
				stub := l.programNames(v, "course: stubs: "+name)
				if len(stub) != 1 {
					l.errorf(v, "course: stubs: %s: want one program, the stub of %s", name, name)
					return
				}
				l.programNames(k, "course: stubs")
				c.Stubs[name] = stub[0]
			})
		}
	})
	for name, stub := range c.Stubs {
		if !slices.Contains(c.Student, name) {
			l.errorf(v, "course: stubs: %s is not a program the student writes (student: %s)", name, strings.Join(c.Student, ", "))
		}
		if slices.Contains(c.Student, stub) {
			l.errorf(v, "course: stubs: %s's stub %s is a program the student writes", name, stub)
		}
	}
	if len(c.Student) == 0 {
		l.errorf(v, "course: needs student: the programs a student writes, such as student: [mutex]")
	}
	for _, name := range c.Hidden {
		if slices.Contains(c.Student, name) {
			l.errorf(v, "course: program %s is both the student's and hidden", name)
		}
	}
	l.sc.Course = c
	if id := l.opt.Student; id != "" {
		for name, value := range c.Variant(l.sc.Name, id) {
			l.sc.Vars[name] = value
		}
	}
}

// programNames reads one program's name or a list of them; each must be a
// program of the file, which is known once the sections have loaded.
func (l *loader) programNames(v *yaml.Node, what string) []string {
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	var out []string
	for _, n := range items {
		n = deref(n)
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || n.Value == "" {
			l.errorf(n, "%s: want a program's name or a list of them, not %s", what, kindName(n))
			continue
		}
		name, at := n.Value, l.pos(n)
		out = append(out, name)
		l.later = append(l.later, func() []*Error {
			if msg := l.checkRef(contract.ProgramRef, name); msg != "" {
				return []*Error{{Pos: at, Msg: what + ": " + msg}}
			}
			return nil
		})
	}
	return out
}

// variants reads var: [values]: each var declared, each value of its type.
func (l *loader) variants(v *yaml.Node) []*Variant {
	var out []*Variant
	l.mapping(v, "course: variants", nil, func(name string, k, val *yaml.Node) {
		declared, ok := l.sc.Vars[name]
		if !ok {
			l.errorf(k, "course: variants: %s is not a var of the lab: declare it under vars: (its value there is the teacher's default)", name)
			return
		}
		if val.Kind != yaml.SequenceNode || len(val.Content) == 0 {
			l.errorf(val, "course: variants: %s: want a list of the values it may take, such as [2, 3]", name)
			return
		}
		vr := &Variant{Pos: l.pos(k), Var: name}
		for _, item := range val.Content {
			var x any
			if err := item.Decode(&x); err != nil || item.Kind != yaml.ScalarNode {
				l.errorf(item, "course: variants: %s: a value must be a number, a word or true/false, not %s", name, kindName(item))
				continue
			}
			got, err := varValue(declared, item.Value)
			if err != nil {
				l.errorf(item, "course: variants: %s: %v", name, err)
				continue
			}
			vr.Values = append(vr.Values, got)
		}
		if len(vr.Values) == len(val.Content) {
			out = append(out, vr)
		}
	})
	return out
}

// submission loads a student's file into the lab: each of its sections
// replaces the lab's entries of the same names (see actions.Section's
// Overlay). Its errors are in the student's file.
func (l *loader) submission() {
	sub := l.opt.Submission
	if l.sc.Course == nil || len(l.sc.Course.Student) == 0 {
		return // reported by course
	}
	s := &loader{file: sub.File, data: sub.Data, names: l.names, varScope: l.varScope}
	defer func() { l.errs = append(l.errs, s.errs...) }()
	top := Pos{File: sub.File, Line: 1, Col: 1}
	want := strings.Join(l.sc.Course.Student, ", ")
	dec := yaml.NewDecoder(bytes.NewReader(sub.Data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil && err != io.EOF {
		s.syntaxError(err)
		return
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		s.errs = append(s.errs, &Error{Pos: top, Msg: fmt.Sprintf("the file is empty: it needs programs: with %s", want)})
		return
	}
	root := deref(doc.Content[0])
	if root.Kind != yaml.MappingNode {
		s.errorf(root, "a student's file is a mapping with programs: (%s), not %s", want, kindName(root))
		return
	}
	found := false
	s.mapping(root, "a student's file", nil, func(key string, k, v *yaml.Node) {
		sec, ok := l.reg.LookupSection(key)
		if !ok || sec.Overlay == nil {
			s.errorf(k, "%s: is the lab's: a student's file holds only programs: (%s); the steps and their checks are the teacher's", key, want)
			return
		}
		found = true
		base := l.sc.Sections[key]
		if base == nil {
			return // the lab's own errors are reported
		}
		s.sectionTemplates(v, map[*yaml.Node]bool{})
		value, errs := sec.Overlay(base, sub.File, v, l.sc.Course.Student)
		for _, e := range errs {
			if !s.templateLines[e.Line] {
				s.errs = append(s.errs, &Error{Pos: Pos{File: sub.File, Line: e.Line, Col: e.Col}, Msg: e.Msg})
			}
		}
		if value != nil {
			l.sc.Sections[key] = value
		}
	})
	if !found {
		s.errorf(root, "the file has no programs: the lab asks for %s", want)
	}
	l.sc.Submission = sub.File
}

// sectionTemplates fills in, in every text of a section, each ${{ EXPR }}
// that reads vars: a variant's thread count, a buffer's size. One that
// reads no var is the section's own (a program's log: prints its
// variables) and is left alone; one that reads both is an error.
func (l *loader) sectionTemplates(n *yaml.Node, seen map[*yaml.Node]bool) {
	if n == nil || seen[n] {
		return
	}
	seen[n] = true
	if n.Kind == yaml.AliasNode {
		l.sectionTemplates(n.Alias, seen)
		return
	}
	for _, c := range n.Content {
		l.sectionTemplates(c, seen)
	}
	if n.Kind != yaml.ScalarNode || !hasTemplate(n.Value) {
		return
	}
	var b strings.Builder
	orig := strings.TrimSpace(n.Value)
	alone := strings.HasPrefix(orig, openDelim) && strings.HasSuffix(orig, closeDelim) && strings.Count(orig, openDelim) == 1
	rest, start := n.Value, l.contentPos(n)
	done := 0 // runes of the text before rest, on its first line
	var whole any
	for {
		i := strings.Index(rest, openDelim)
		j := strings.Index(rest[max(i, 0):], closeDelim)
		if i < 0 || j < 0 {
			b.WriteString(rest)
			break
		}
		j += i
		body := rest[i+len(openDelim) : j]
		b.WriteString(rest[:i])
		at := Pos{File: start.File, Line: start.Line, Col: start.Col + done + len([]rune(rest[:i+len(openDelim)]))}
		switch reads := namesRead(body); {
		case !reads["vars"]:
			b.WriteString(rest[i : j+len(closeDelim)]) // the section's own
		case len(reads) > 1:
			l.templateError(&Error{Pos: at, Msg: "${{ }} in a section reads either vars (filled in at load) or the section's own names, not both"})
			return
		default:
			p, errs := compile(body, at, false, l.names)
			if len(errs) > 0 {
				l.templateError(errs...)
				return
			}
			v, err := l.varScope.Eval(p, nil)
			if err != nil {
				l.templateError(&Error{Pos: at, Msg: err.Error()})
				return
			}
			whole = v
			fmt.Fprint(&b, v)
		}
		done += len([]rune(rest[:j+len(closeDelim)]))
		rest = rest[j+len(closeDelim):]
	}
	text := b.String()
	if text == n.Value {
		return
	}
	n.Value = text
	if alone {
		// The value is typed, as a step's parameter would be: count:
		// ${{ vars.readers }} is a number.
		n.Value = strings.TrimSpace(text)
		switch whole.(type) {
		case int, int64, uint64:
			n.Tag = "!!int"
		case bool:
			n.Tag = "!!bool"
		case float64:
			n.Tag = "!!float"
		}
	}
}

// templateError reports the mistakes of a section's ${{ }}; the
// section's own errors on those lines, about the text left unfilled, are
// not reported as well.
func (l *loader) templateError(errs ...*Error) {
	l.errs = append(l.errs, errs...)
	if l.templateLines == nil {
		l.templateLines = map[int]bool{}
	}
	for _, e := range errs {
		l.templateLines[e.Line] = true
	}
}

// namesRead are the names an expression reads at its root (vars of
// vars.x); nil if it does not parse.
func namesRead(src string) map[string]bool {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	ast.Walk(&tree.Node, visitFunc(func(n *ast.Node) {
		if id, ok := (*n).(*ast.IdentifierNode); ok {
			out[id.Value] = true
		}
	}))
	return out
}

// points reads a step's points: its worth as a check of a lab.
func (l *loader) points(v *yaml.Node) *float64 {
	if v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!float") {
		if x, err := strconv.ParseFloat(v.Value, 64); err == nil && x >= 0 && x <= 1e6 {
			return &x
		}
	}
	l.errorf(v, "points must be a number from 0 to 1000000, not %s", quote(v))
	return nil
}
