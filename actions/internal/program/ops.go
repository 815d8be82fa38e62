package program

// The operations of the language, each declared once: its key, the shape
// of what it takes, the lists of operations beside it, what it does (the
// JSON Schema's words), and how it compiles to instructions, with their
// footprints. The parser, the schema, the canonical text that a schedule's
// hash covers and the compiler read this table; what an instruction does
// when a thread takes it is its semantics, in State.step and
// State.IsEnabled (step.go, state.go). docs/ARCHITECTURE.md says how to
// add one.

// OpKind names an operation of the language: its index in the table.
type OpKind uint8

// The operations, one YAML key each.
const (
	OpWait OpKind = iota + 1
	OpSignal
	OpLock
	OpUnlock
	OpCondWait
	OpCondSignal
	OpCondBroadcast
	OpSet
	OpAtomicSet
	OpLocal
	OpIf
	OpWhile
	OpRepeat
	OpCritical
	OpAssert
	OpWork
	OpYield
	OpLog
	OpCall
	OpProgress
)

// Shape is what an operation's key takes.
type Shape uint8

// The shapes.
const (
	ShapeNone     Shape = iota + 1 // nothing: yield (a bare word)
	ShapeObject                    // the name of an object: wait: s
	ShapeCondWait                  // {cond: C, mutex: M}
	ShapeAssign                    // NAME = EXPR: set: x = x + 1
	ShapeExpr                      // an expression: if: x > 0
	ShapeRegion                    // a list of operations, or {region: R, do: [ops]}: critical
	ShapeDuration                  // a duration: work: 10ms
	ShapeText                      // text with ${{ EXPR }} parts: log: …
	ShapeCall                      // a procedure and its arguments: call: lock(readers, room_empty)
)

// opDecl is one operation.
type opDecl struct {
	name  string
	shape Shape
	// object is the kind of object a ShapeObject operation names.
	object ObjKind
	// blocks are the keys of the lists of operations it takes beside its
	// key (then, else, do); needed, those it cannot go without; shown,
	// those its canonical text writes even when empty.
	blocks, needed, shown []string
	// doc says what it does, for the schema.
	doc string
	// compile emits its instructions (in is an instruction at its
	// position, visible, of its kind); nil: compileObject, which emits
	// one instruction of kind instr on its object, writing it.
	compile func(b *builder, op *Op, in instr)
	instr   ikind
}

// ops is the table, by OpKind.
var ops = [...]opDecl{
	OpWait:          {name: "wait", shape: ShapeObject, object: ObjSemaphore, instr: iWait, doc: "Wait on a semaphore: one step, when its value is above 0."},
	OpSignal:        {name: "signal", shape: ShapeObject, object: ObjSemaphore, instr: iSignal, doc: "Signal a semaphore: one step."},
	OpLock:          {name: "lock", shape: ShapeObject, object: ObjMutex, instr: iLock, doc: "Lock a mutex: one step, when it is free."},
	OpUnlock:        {name: "unlock", shape: ShapeObject, object: ObjMutex, instr: iUnlock, doc: "Unlock a mutex the thread holds: one step."},
	OpCondWait:      {name: "cond_wait", shape: ShapeCondWait, compile: compileCondWait, doc: "Release the mutex and wait on the condition, then take the mutex back: two steps."},
	OpCondSignal:    {name: "cond_signal", shape: ShapeObject, object: ObjCond, instr: iCondSignal, doc: "Wake the oldest waiter of a condition: one step."},
	OpCondBroadcast: {name: "cond_broadcast", shape: ShapeObject, object: ObjCond, instr: iCondBroadcast, doc: "Wake every waiter of a condition: one step."},
	OpSet:           {name: "set", shape: ShapeAssign, compile: (*builder).set, doc: "x = EXPR: a read step, then a write step, when EXPR reads a shared variable."},
	OpAtomicSet:     {name: "atomic_set", shape: ShapeAssign, compile: (*builder).set, doc: "x = EXPR in one step."},
	OpLocal:         {name: "local", shape: ShapeAssign, compile: (*builder).local, doc: "t = EXPR: a thread-local; a step only when EXPR reads a shared variable."},
	OpIf:            {name: "if", shape: ShapeExpr, blocks: []string{"then", "else"}, needed: []string{"then"}, shown: []string{"then"}, compile: (*builder).ifOp, doc: "A test, then then: or else:."},
	OpWhile:         {name: "while", shape: ShapeExpr, blocks: []string{"do"}, compile: compileWhile, doc: "A loop; without do: a spin, each test a step."},
	OpRepeat:        {name: "repeat", shape: ShapeExpr, blocks: []string{"do"}, needed: []string{"do"}, compile: compileRepeat, doc: "How many times to run do:."},
	OpCritical:      {name: "critical", shape: ShapeRegion, compile: (*builder).critical, doc: "Operations inside a critical region, checked for mutual exclusion: entering and leaving are steps."},
	OpAssert:        {name: "assert", shape: ShapeExpr, compile: compileAssert, doc: "Must hold: one step."},
	OpWork:          {name: "work", shape: ShapeDuration, compile: compileWork, doc: "Real time under scheduler: os, none under control: one step."},
	OpYield:         {name: "yield", shape: ShapeNone, compile: compileYield},
	OpLog:           {name: "log", shape: ShapeText, compile: compileLog, doc: "A message, with ${{ EXPR }} parts: one step."},
	OpCall:          {name: "call", shape: ShapeCall, compile: compileCall, doc: "NAME(ARGS): the procedure's operations, in place, its parameters standing for the arguments: no step of its own."},
	OpProgress:      {name: "progress", shape: ShapeNone, compile: compileProgress},
}

// table is ops, which functions read through it: the table holds
// compile functions that read it (an operation's name), and Go allows no
// variable whose initializer refers, through functions, to itself.
var (
	table  []opDecl
	opKeys []string // the keys that name an operation, in the table's order
)

func init() {
	table = ops[:]
	for _, d := range table {
		if d.name != "" {
			opKeys = append(opKeys, d.name)
		}
	}
}

// String is the operation's YAML key.
func (k OpKind) String() string {
	if int(k) < len(table) && table[k].name != "" {
		return table[k].name
	}
	return "op?"
}

// Shape is what the operation's key takes.
func (k OpKind) Shape() Shape {
	if int(k) < len(table) {
		return table[k].shape
	}
	return 0
}

func (k OpKind) decl() *opDecl { return &table[k] }

// opNamed is the operation whose key is name.
func opNamed(name string) (OpKind, bool) {
	for k, d := range table {
		if d.name == name && name != "" {
			return OpKind(k), true
		}
	}
	return 0, false
}

// objectWord names a kind of object as the compiler's messages do.
var objectWord = map[ObjKind]string{
	ObjVar:       "variable",
	ObjSemaphore: "semaphore",
	ObjMutex:     "mutex",
	ObjCond:      "condition variable",
	ObjRegion:    "region",
}

// Arg is what op's key takes, written as in a scenario (on one line, with
// no lists of operations): the object's name, {cond: C, mutex: M},
// NAME = EXPR, the expression, the region, the duration, the text; "" for
// yield and a critical block of the default region.
func (op *Op) Arg() string {
	switch op.Kind.Shape() {
	case ShapeObject, ShapeRegion, ShapeCall:
		return op.Object
	case ShapeCondWait:
		return "{cond: " + op.Object + ", mutex: " + op.Mutex + "}"
	case ShapeAssign:
		return op.Target + " = " + op.Expr.Src
	case ShapeExpr:
		return op.Expr.Src
	case ShapeDuration:
		return op.Duration.String()
	case ShapeText:
		return op.Text
	}
	return ""
}

// Block is the list of operations op takes beside its key under name:
// then, else or do.
func (op *Op) Block(name string) []*Op {
	switch name {
	case "then":
		return op.Then
	case "else":
		return op.Else
	case "do":
		return op.Do
	}
	return nil
}

// Blocks are the keys of the lists of operations an operation takes
// beside its key, in order (then and else for if, do for while and
// repeat), and Shown those a written form gives even when empty (then).
func (k OpKind) Blocks() (blocks, shown []string) {
	d := k.decl()
	return d.blocks, d.shown
}

// compileObject compiles an operation on one object of d's kind: one
// step, which writes it.
func compileObject(b *builder, op *Op, in instr, d *opDecl) {
	name := d.name
	i, oname, ok := b.resolve(objectWord[d.object], op.Object, op.ObjectPos, name)
	in.kind, in.obj, in.text = d.instr, i, name+" "+oname
	in.fp = Footprint{Writes: []Object{{d.object, i}}}
	if ok {
		b.emit(in)
	}
}

func compileCondWait(b *builder, op *Op, in instr) {
	ci, cname, ok1 := b.resolve("condition variable", op.Object, op.ObjectPos, "cond_wait cond")
	mi, mname, ok2 := b.resolve("mutex", op.Mutex, op.MutexPos, "cond_wait mutex")
	if !ok1 || !ok2 {
		return
	}
	in.obj, in.obj2 = ci, mi
	rel, re := in, in
	rel.kind, rel.phase = iCondRelease, PhaseRelease
	rel.text = "cond_wait " + cname + " (release " + mname + ")"
	rel.fp = Footprint{Writes: []Object{{ObjCond, ci}, {ObjMutex, mi}}}
	re.kind, re.phase = iCondReacquire, PhaseReacquire
	re.text = "cond_wait " + cname + " (reacquire " + mname + ")"
	// The reacquire waits for the signal's write to the condition.
	re.fp = Footprint{Reads: []Object{{ObjCond, ci}}, Writes: []Object{{ObjMutex, mi}}}
	b.emit(rel)
	b.emit(re)
}

func compileWhile(b *builder, op *Op, in instr) {
	in.kind, in.phase, in.text = iBranch, PhaseTest, "while "+op.Expr.Src
	in.e = b.expr(op.Expr, wantBool, "while")
	if in.e == nil {
		b.ops(op.Do)
		return
	}
	in.visible, in.fp = in.e.shared, Footprint{Reads: readsOf(in.e)}
	top := b.emit(in)
	b.ops(op.Do)
	b.emit(instr{kind: iJump, op: OpWhile, pos: op.Pos, jump: top, text: "end while"})
	b.code.instrs[top].jump = b.here()
}

func compileRepeat(b *builder, op *Op, in instr) {
	in.kind, in.phase, in.text = iRepeatInit, PhaseTest, "repeat "+op.Expr.Src
	in.e = b.expr(op.Expr, wantInt, "repeat")
	if in.e == nil {
		b.ops(op.Do)
		return
	}
	in.slot = len(b.code.locals)
	b.code.locals = append(b.code.locals, localInfo{})
	in.visible, in.fp = in.e.shared, Footprint{Reads: readsOf(in.e)}
	b.emit(in)
	test := b.emit(instr{kind: iRepeatTest, op: OpRepeat, pos: op.Pos, slot: in.slot, text: "repeat test"})
	b.ops(op.Do)
	b.emit(instr{kind: iJump, op: OpRepeat, pos: op.Pos, jump: test, text: "end repeat"})
	b.code.instrs[test].jump = b.here()
}

func compileAssert(b *builder, op *Op, in instr) {
	in.kind, in.text = iAssert, "assert "+op.Expr.Src
	if in.e = b.expr(op.Expr, wantBool, "assert"); in.e != nil {
		in.fp = Footprint{Reads: readsOf(in.e)}
		b.emit(in)
	}
}

func compileWork(b *builder, op *Op, in instr) {
	in.kind, in.work, in.text = iWork, op.Duration, "work "+op.Duration.String()
	b.emit(in)
}

func compileYield(b *builder, _ *Op, in instr) {
	in.kind, in.text = iYield, "yield"
	b.emit(in)
}

// compileProgress emits a step that changes nothing but says the thread
// made progress: a search for starvation looks for runs in which a
// thread that has one never takes it again.
func compileProgress(b *builder, _ *Op, in instr) {
	in.kind, in.text = iProgress, "progress"
	b.emit(in)
}

func compileLog(b *builder, op *Op, in instr) {
	in.kind, in.text = iLog, "log "+op.Text
	in.log = b.logParts(op)
	var es []*cexpr
	for _, part := range in.log {
		es = append(es, part.e)
	}
	in.fp = Footprint{Reads: readsOf(es...)}
	b.emit(in)
}
