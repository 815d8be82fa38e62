package program

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
)

// Set is the compiled programs of one scenario, by name.
type Set struct {
	programs []*Program
}

// Load parses and compiles the value of a `programs:` key. The error, if
// any, is an [Errors] listing every problem of the section at its position.
func Load(n *yaml.Node) (*Set, error) {
	defs, errs := Parse(n)
	set := &Set{}
	all := errorList{}
	for _, e := range errs {
		all.add(Pos{Line: e.Line, Col: e.Col}, "%s", e.Msg)
	}
	for _, d := range defs {
		p, errs := Compile(d)
		for _, e := range errs {
			all.add(Pos{Line: e.Line, Col: e.Col}, "%s", e.Msg)
		}
		if p != nil {
			set.programs = append(set.programs, p)
		}
	}
	if errs := all.result(); errs != nil {
		return nil, errs
	}
	return set, nil
}

// LoadText loads programs from YAML text that holds what a `programs:`
// key holds (a mapping of names to programs), as an example or a test
// writes them. A YAML mistake is an error as [Load]'s are.
func LoadText(data []byte) (*Set, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	return Load(&n)
}

// Names are the programs' names in the order of the file.
func (s *Set) Names() []string {
	out := make([]string, len(s.programs))
	for i, p := range s.programs {
		out[i] = p.def.Name
	}
	return out
}

// Program returns the program called name, or an error with a suggestion
// (for the loader to report at the `run:` that names it).
func (s *Set) Program(name string) (*Program, error) {
	for _, p := range s.programs {
		if p.def.Name == name {
			return p, nil
		}
	}
	return nil, fmt.Errorf("unknown program %q%s", name, contract.DidYouMean(name, s.Names()))
}

// compiler turns one Def into a Program.
type compiler struct {
	p       *Program
	errs    errorList
	objects map[string]string // name → kind, over every declaration
	byKind  map[string]map[string]int
	arrays  map[string]arrayInfo
	procs   map[string]*ProcDecl
}

// Compile checks d and compiles it. Errors lists every problem, each at
// its position.
func Compile(d *Def) (*Program, Errors) {
	c := &compiler{
		p:       &Program{def: d},
		objects: map[string]string{},
		byKind:  map[string]map[string]int{},
		arrays:  map[string]arrayInfo{},
		procs:   map[string]*ProcDecl{},
	}
	c.declare(d)
	c.declareArrays(d)
	c.threads(d)
	c.checks(d)
	if errs := c.errs.result(); errs != nil {
		return nil, errs
	}
	c.layout()
	c.p.textHash = textHash(d)
	return c.p, nil
}

func (c *compiler) add(kind string, decl Decl) bool {
	if prev, dup := c.objects[decl.Name]; dup {
		c.errs.add(decl.Pos, "%s %s: the name is already a %s", kind, decl.Name, prev)
		return false
	}
	c.objects[decl.Name] = kind
	if c.byKind[kind] == nil {
		c.byKind[kind] = map[string]int{}
	}
	c.byKind[kind][decl.Name] = len(c.byKind[kind])
	return true
}

func (c *compiler) declare(d *Def) {
	p := c.p
	for _, v := range d.Vars {
		if c.add("variable", v.Decl) {
			p.vars = append(p.vars, varInfo{Decl: v.Decl, isBool: v.Bool, init: v.Value})
		}
	}
	for _, s := range d.Semaphores {
		if c.add("semaphore", s.Decl) {
			p.sems = append(p.sems, semInfo{Decl: s.Decl, init: s.Value, fifo: s.FIFO, max: s.Max})
		}
	}
	for _, m := range d.Mutexes {
		if c.add("mutex", m) {
			p.mutexes = append(p.mutexes, m)
		}
	}
	for _, m := range d.Conds {
		if c.add("condition variable", m) {
			p.conds = append(p.conds, m)
		}
	}
	p.regions = []RegionDecl{{Decl: Decl{Name: defaultRegion}, Capacity: 1}}
	for _, r := range d.Regions {
		if c.add("region", r.Decl) {
			p.regions = append(p.regions, r)
		}
	}
	// Region 0 is the default one, which has no name to resolve.
	c.byKind["region"] = map[string]int{}
	for i, r := range p.regions[1:] {
		c.byKind["region"][r.Name] = i + 1
	}
}

// resolve finds a declared object of kind, reporting an unknown name (with
// a suggestion among the objects of that kind) or one of another kind.
func (c *compiler) resolve(kind, name string, at Pos, use string) (int, bool) {
	if i, ok := c.byKind[kind][name]; ok {
		return i, true
	}
	if other, ok := c.objects[name]; ok {
		c.errs.add(at, "%s: %s is a %s, not a %s%s", use, name, other, kind, kindHint(other))
		return 0, false
	}
	var names []string
	for n := range c.byKind[kind] {
		names = append(names, n)
	}
	slices.Sort(names)
	c.errs.add(at, "%s: unknown %s %q%s", use, kind, name, contract.DidYouMean(name, names))
	return 0, false
}

// resolve finds the object an operation names, as written: NAME, or
// NAME[INDEX], an element of an array, its index computed now; in a
// procedure's body a parameter stands for what the call gave it. It
// returns the object's index among those of its kind and its name.
func (b *builder) resolve(kind, ref string, at Pos, use string) (int, string, bool) {
	name, index, offset, _ := splitIndex(ref)
	if index != "" {
		at.Col += offset
	}
	if bind, ok := b.bound(name); ok {
		switch {
		case bind.object == "":
			b.c.errs.add(at, "%s: %s is a parameter given a value, not a %s", use, name, kind)
			return 0, "", false
		case index != "":
			return b.element(kind, bind.object, index, at, use)
		}
		name = bind.object
	} else if index != "" {
		return b.element(kind, name, index, at, use)
	}
	if a, ok := b.c.arrays[name]; ok {
		b.c.errs.add(at, "%s: %s is an array of %d %s: name one, as %s[i]", use, name, a.count, plural(a.kind), name)
		return 0, "", false
	}
	i, ok := b.c.resolve(kind, name, at, use)
	return i, name, ok
}

func kindHint(kind string) string {
	switch kind {
	case "semaphore":
		return " (a semaphore takes wait and signal)"
	case "mutex":
		return " (a mutex takes lock and unlock)"
	case "condition variable":
		return " (a condition takes cond_wait, cond_signal and cond_broadcast)"
	case "variable":
		return " (a variable takes set and atomic_set)"
	}
	return ""
}

func (c *compiler) threads(d *Def) {
	p := c.p
	names := map[string]Pos{}
	claim := func(name string, at Pos) {
		if prev, dup := names[name]; dup {
			c.errs.add(at, "thread %s: the name is already taken by the thread at line %d", name, prev.Line)
			return
		}
		names[name] = at
	}
	for _, t := range d.Threads {
		if t.Count > 0 {
			for i := range t.Count {
				claim(fmt.Sprintf("%s%d", t.Name, i), t.Pos)
			}
		} else {
			claim(t.Name, t.Pos)
		}
	}
	if len(names) > MaxThreads {
		c.errs.add(d.Pos, "program %s has %d threads; at most %d", d.Name, len(names), MaxThreads)
		return
	}
	for _, t := range d.Threads {
		if t.Count == 0 {
			b := c.builder(t.Name, -1)
			b.ops(t.Body)
			p.threads = append(p.threads, threadInfo{name: t.Name, pos: t.Pos, code: b.code})
			continue
		}
		// Alike threads share their code, unless it names an element by
		// self (fork[self]): then each has its own, its index computed.
		first := c.builder(t.Name+"0", 0)
		first.ops(t.Body)
		for i := range t.Count {
			code := first.code
			if first.usedSelf && i > 0 {
				b := c.builder(fmt.Sprintf("%s%d", t.Name, i), i)
				b.ops(t.Body)
				code = b.code
			}
			p.threads = append(p.threads, threadInfo{name: fmt.Sprintf("%s%d", t.Name, i), pos: t.Pos, self: i, code: code})
		}
	}
}

// builder returns a builder of a thread's code; self is its index, or -1
// for a thread declared without count.
func (c *compiler) builder(thread string, self int) *builder {
	b := &builder{c: c, code: &code{}, sc: c.scope(self >= 0), self: self, thread: thread}
	b.sc.self, b.sc.usedSelf = self, &b.usedSelf
	return b
}

// scope is the names an expression of a thread (withSelf: a counted one)
// or, with no thread, of a check may read.
func (c *compiler) scope(withSelf bool) *scope {
	sc := &scope{vars: map[string]ref{}, locals: map[string]ref{}, hasSelf: withSelf, objects: map[string]string{}, arrays: map[string]arrayInfo{}, self: -1}
	for i, v := range c.p.vars {
		sc.vars[v.Name] = ref{name: v.Name, kind: refVar, idx: i, isBool: v.isBool}
	}
	for name, a := range c.arrays {
		if a.kind == "variable" {
			sc.arrays[name] = a
		}
	}
	for name, kind := range c.objects {
		if kind != "variable" {
			sc.objects[name] = kind
		}
	}
	return sc
}

func (c *compiler) checks(d *Def) {
	for _, x := range d.Invariants {
		if e, ok := compileExpr(&c.errs, x, c.scope(false), wantBool, "invariant"); ok {
			c.p.invariants = append(c.p.invariants, e)
			for _, o := range readsOf(e) {
				if !slices.Contains(c.p.invReads, o.Index) {
					c.p.invReads = append(c.p.invReads, o.Index)
				}
			}
		}
	}
	slices.Sort(c.p.invReads)
	if d.Expect != nil {
		if e, ok := compileExpr(&c.errs, *d.Expect, c.scope(false), wantBool, "expect"); ok {
			c.p.expect = e
		}
	}
}

// layout places every part of a state in its words.
func (c *compiler) layout() {
	p := c.p
	n := len(p.vars)
	p.semBase = n
	n += len(p.sems)
	p.mutexBase = n
	n += len(p.mutexes)
	queue := 1 + len(p.threads)
	p.semQueue = make([]int, len(p.sems))
	for i, s := range p.sems {
		p.semQueue[i] = -1
		if s.fifo {
			p.semQueue[i] = n
			n += queue
		}
	}
	p.condQueue = make([]int, len(p.conds))
	for i := range p.conds {
		p.condQueue[i] = n
		n += queue
	}
	for i := range p.threads {
		p.threads[i].base = n
		n += tLocals + len(p.threads[i].code.locals)
	}
	p.words = n
}

// builder compiles the operations of one thread declaration.
type builder struct {
	c      *compiler
	code   *code
	sc     *scope
	inside []int // regions of the enclosing critical blocks
	// thread and self are the thread compiled for and its index (-1:
	// declared without count); usedSelf says that an index known at load
	// read self, so that each alike thread needs code of its own.
	thread   string
	self     int
	usedSelf bool
	frames   []*frame // the calls being put in place, the innermost last
}

func (b *builder) emit(in instr) int {
	b.code.instrs = append(b.code.instrs, in)
	return len(b.code.instrs) - 1
}

func (b *builder) here() int { return len(b.code.instrs) }

func (b *builder) expr(x Expr, w want, what string) *cexpr {
	e, _ := compileExpr(&b.c.errs, x, b.sc, w, what)
	return e
}

func (b *builder) ops(ops []*Op) {
	for _, op := range ops {
		b.op(op)
	}
}

// op compiles one operation, as its declaration says (ops.go).
func (b *builder) op(op *Op) {
	in := instr{op: op.Kind, pos: op.Pos, visible: true}
	d := op.Kind.decl()
	if d.compile == nil {
		compileObject(b, op, in, d)
		return
	}
	d.compile(b, op, in)
}

// set compiles set (two steps when its expression reads a shared
// variable) and atomic_set (one step).
func (b *builder) set(op *Op, in instr) {
	name := op.Kind.String()
	v, vname, ok := b.target(op, name)
	e := b.expr(op.Expr, wantValue, name)
	if !ok || e == nil {
		return
	}
	vi := b.c.p.vars[v]
	if e.isBool != vi.isBool {
		b.c.errs.add(op.Expr.Pos, "%s %s = %s: %s holds %s, the expression gives %s", name, op.Target, op.Expr.Src, vname, typeWord(vi.isBool), typeWord(e.isBool))
		return
	}
	in.obj, in.e = v, e
	write := Footprint{Writes: []Object{{ObjVar, v}}}
	assign := vname + " = " + op.Expr.Src
	if op.Kind == OpAtomicSet || !e.shared {
		in.kind, in.text = iAssign, assign
		if op.Kind == OpAtomicSet {
			in.text = "atomic " + assign
		}
		in.fp = Footprint{Reads: readsOf(e), Writes: write.Writes}
		b.emit(in)
		return
	}
	read := in
	read.kind, read.phase, read.text = iRead, PhaseRead, assign+" (read)"
	read.fp = Footprint{Reads: readsOf(e)}
	in.kind, in.phase, in.text, in.e = iWriteTemp, PhaseWrite, assign+" (write)", nil
	in.fp = write
	b.emit(read)
	b.emit(in)
}

func typeWord(isBool bool) string {
	if isBool {
		return "true or false"
	}
	return "an integer"
}

// target resolves the variable a set or atomic_set writes, and its name.
func (b *builder) target(op *Op, name string) (int, string, bool) {
	if r, isLocal := b.sc.locals[op.Target]; isLocal && r.kind == refLocal {
		b.c.errs.add(op.TargetPos, "%s: %s is a local; write local: %s = …", name, op.Target, op.Target)
		return 0, "", false
	}
	if op.Target == "self" {
		b.c.errs.add(op.TargetPos, "%s: self cannot be assigned", name)
		return 0, "", false
	}
	return b.resolve("variable", op.Target, op.TargetPos, name)
}

func (b *builder) local(op *Op, in instr) {
	e := b.expr(op.Expr, wantValue, "local")
	if kind, ok := b.c.objects[op.Target]; ok {
		hint := ""
		if kind == "variable" {
			hint = "; write set: or atomic_set: to change it"
		}
		b.c.errs.add(op.TargetPos, "local %s: the name is already a shared %s%s", op.Target, kind, hint)
		return
	}
	if op.Target == "self" {
		b.c.errs.add(op.TargetPos, "local: self cannot be assigned")
		return
	}
	if e == nil {
		return
	}
	r, declared := b.sc.locals[op.Target]
	if !declared {
		r = ref{name: op.Target, kind: refLocal, idx: len(b.code.locals), isBool: e.isBool}
		b.code.locals = append(b.code.locals, localInfo{name: op.Target, isBool: e.isBool})
		b.sc.locals[op.Target] = r
	} else if r.isBool != e.isBool {
		b.c.errs.add(op.Expr.Pos, "local %s = %s: %s holds %s, the expression gives %s", op.Target, op.Expr.Src, op.Target, typeWord(r.isBool), typeWord(e.isBool))
		return
	}
	in.kind, in.slot, in.e, in.text = iLocal, r.idx, e, "local "+op.Target+" = "+op.Expr.Src
	in.visible, in.fp = e.shared, Footprint{Reads: readsOf(e)}
	b.emit(in)
}

func (b *builder) ifOp(op *Op, in instr) {
	in.kind, in.phase, in.text = iBranch, PhaseTest, "if "+op.Expr.Src
	in.e = b.expr(op.Expr, wantBool, "if")
	if in.e == nil {
		b.ops(op.Then)
		b.ops(op.Else)
		return
	}
	in.visible, in.fp = in.e.shared, Footprint{Reads: readsOf(in.e)}
	test := b.emit(in)
	b.ops(op.Then)
	if len(op.Else) == 0 {
		b.code.instrs[test].jump = b.here()
		return
	}
	skip := b.emit(instr{kind: iJump, op: OpIf, pos: op.Pos, text: "end then"})
	b.code.instrs[test].jump = b.here()
	b.ops(op.Else)
	b.code.instrs[skip].jump = b.here()
}

func (b *builder) critical(op *Op, in instr) {
	region, ok := 0, true
	if op.Object != "" {
		region, _, ok = b.resolve("region", op.Object, op.ObjectPos, "critical")
	}
	if ok && slices.Contains(b.inside, region) {
		b.c.errs.add(op.Pos, "critical: a block of region %s inside another: a thread cannot enter a region it is already in", b.c.p.regions[region].Name)
		ok = false
	}
	if !ok {
		b.ops(op.Do)
		return
	}
	rname := b.c.p.regions[region].Name
	in.obj, in.fp = region, Footprint{Writes: []Object{{ObjRegion, region}}}
	enter, leave := in, in
	enter.kind, enter.phase, enter.text = iEnter, PhaseEnter, "enter "+rname
	leave.kind, leave.phase, leave.text = iLeave, PhaseLeave, "leave "+rname
	from := b.emit(enter) + 1
	b.inside = append(b.inside, region)
	b.ops(op.Do)
	b.inside = b.inside[:len(b.inside)-1]
	to := b.emit(leave)
	b.code.regions = append(b.code.regions, span{region: region, from: from, to: to})
}

// logParts splits a log text at its ${{ EXPR }} parts.
func (b *builder) logParts(op *Op) []logPart {
	var parts []logPart
	text := op.Text
	offset := 0
	for {
		i := strings.Index(text, "${{")
		if i < 0 {
			break
		}
		j := strings.Index(text[i:], "}}")
		if j < 0 {
			b.c.errs.add(Pos{Line: op.TextPos.Line, Col: op.TextPos.Col + offset + i}, "log: ${{ has no closing }}")
			return nil
		}
		if i > 0 {
			parts = append(parts, logPart{text: text[:i]})
		}
		src := text[i+3 : i+j]
		lead := len(src) - len(strings.TrimLeft(src, " "))
		x := Expr{Src: strings.TrimSpace(src), Pos: Pos{Line: op.TextPos.Line, Col: op.TextPos.Col + offset + i + 3 + lead}}
		if x.Src == "" {
			b.c.errs.add(x.Pos, "log: the expression in ${{ }} is empty")
		} else if e := b.expr(x, wantValue, "log"); e != nil {
			parts = append(parts, logPart{e: e})
		}
		offset += i + j + 2
		text = text[i+j+2:]
	}
	if text != "" {
		parts = append(parts, logPart{text: text})
	}
	return parts
}
