package program

import "time"

// Def is one program of a `programs:` section as written: the syntax tree
// the parser builds, with the position of every declaration and operation.
// [Compile] turns it into a [Program].
type Def struct {
	Name string
	Pos  Pos
	// File is the file the program was read from when it is not the
	// scenario's own: a student's (see [Set.Overlay]).
	File        string
	Description string
	Vars        []VarDecl
	Semaphores  []SemDecl
	Mutexes     []Decl
	Conds       []Decl
	Regions     []RegionDecl
	// Arrays are the arrays among the declarations above, whose elements
	// they hold as NAME[0], NAME[1], ….
	Arrays     []ArrayDecl
	Procedures []ProcDecl
	Threads    []ThreadDecl
	Invariants []Expr
	Expect     *Expr
}

// Decl is a declared name and where it is declared.
type Decl struct {
	Name string
	Pos  Pos
}

// VarDecl is a shared variable: an integer, or a boolean when Bool is set
// (Value is then 0 or 1).
type VarDecl struct {
	Decl
	Bool  bool
	Value int64
}

// SemDecl is a counting semaphore: its initial Value; FIFO hands a signal
// to the oldest waiter; Max, when not 0, is the value a signal may not
// exceed.
type SemDecl struct {
	Decl
	Value int64
	FIFO  bool
	Max   int64
}

// ArrayDecl is an array of Count objects of one kind, declared as one
// name: its elements are NAME[0] … NAME[Count-1], each a declaration of
// its own in the program's lists, and an operation names one as
// NAME[EXPR], EXPR known when the program loads.
type ArrayDecl struct {
	Decl
	Kind  ObjKind
	Count int
}

// ProcDecl is a procedure: operations, with parameters, that a call:
// puts in place in the thread that calls it.
type ProcDecl struct {
	Decl
	Params []Decl
	Body   []*Op
}

// RegionDecl is a named critical region and how many threads may be inside
// it at once.
type RegionDecl struct {
	Decl
	Capacity int
}

// ThreadDecl is a thread, or with Count > 0 that many alike threads named
// Name0 … Name(Count-1), in which `self` is the index.
type ThreadDecl struct {
	Decl
	Count int
	Body  []*Op
}

// Expr is the source of an expr expression and where it starts in the file.
type Expr struct {
	Src string
	Pos Pos
}

// Op is one operation as written. Which fields are set depends on Kind:
//
//   - wait, signal, lock, unlock, cond_signal, cond_broadcast: Object.
//   - cond_wait: Object (the condition) and Mutex.
//   - set, atomic_set, local: Target and Expr (the value).
//   - if: Expr (the test), Then, Else. while: Expr, Do (empty: a spin).
//     repeat: Expr (the count), Do.
//   - critical: Object (the region, "" for the default one), Do.
//   - assert: Expr. work: Duration. log: Text.
type Op struct {
	Kind      OpKind
	Pos       Pos
	Object    string
	ObjectPos Pos
	Mutex     string
	MutexPos  Pos
	Target    string
	TargetPos Pos
	Expr      Expr
	Then      []*Op
	Else      []*Op
	Do        []*Op
	Duration  time.Duration
	Text      string
	TextPos   Pos
}
