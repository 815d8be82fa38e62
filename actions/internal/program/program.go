package program

import (
	"fmt"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/contract"
)

// defaultRegion names the region of a bare `critical: [ops]`.
const defaultRegion = "critical"

// Program is a compiled program: its objects, the code of its threads and
// the layout of its [State]. It is immutable and may be shared by any
// number of states and goroutines.
type Program struct {
	def        *Def
	vars       []varInfo
	sems       []semInfo
	mutexes    []Decl
	conds      []Decl
	regions    []RegionDecl // regions[0] is the default region
	threads    []threadInfo
	invariants []*cexpr
	invReads   []int // variables the invariants read
	expect     *cexpr
	textHash   string

	// Layout of a state's words.
	semBase, mutexBase int
	semQueue           []int // word of each semaphore's FIFO queue, -1 if not FIFO
	condQueue          []int // word of each condition's queue
	words              int

	pool sync.Pool // *scratch
}

type varInfo struct {
	Decl
	isBool bool
	init   int64
}

type semInfo struct {
	Decl
	init int64
	fifo bool
	max  int64
}

// threadInfo is one thread; counted threads share their code.
type threadInfo struct {
	name string
	pos  Pos
	self int
	code *code
	base int // first word of its part of a state
}

// Thread words, from a thread's base.
const (
	tPC     = iota // index of the next instruction
	tStatus        // stReady, stSemQueued, stCondWaiting
	tObj           // the semaphore or condition it is queued on
	tTemp          // the value a set read and has yet to write
	tLocals        // first local
)

// Thread statuses; a thread whose pc is past its code has finished.
const (
	stReady       = 0
	stSemQueued   = 1
	stCondWaiting = 2
)

// code is the instructions of one thread declaration.
type code struct {
	instrs  []instr
	locals  []localInfo // declared locals, then hidden loop counters
	regions []span      // the critical blocks
}

type localInfo struct {
	name   string // "" for a hidden loop counter
	isBool bool
}

// span is the instructions inside a critical block: a thread whose pc is in
// [from, to] is inside region.
type span struct {
	region   int
	from, to int
}

// ikind is what an instruction does.
type ikind uint8

const (
	iWait ikind = iota + 1
	iSignal
	iLock
	iUnlock
	iCondRelease
	iCondReacquire
	iCondSignal
	iCondBroadcast
	iRead      // temp = expr
	iWriteTemp // var = temp
	iAssign    // var = expr, in one step
	iLocal     // local = expr
	iBranch    // if !expr, jump
	iJump
	iRepeatInit // counter = expr
	iRepeatTest // if counter <= 0, jump; else counter--
	iEnter
	iLeave
	iAssert
	iWork
	iYield
	iLog
	iProgress
)

// instr is one instruction of a thread's code. A visible instruction is a
// step a scheduler chooses; the others run as soon as the thread reaches
// them (see the package documentation).
type instr struct {
	kind    ikind
	op      OpKind
	phase   Phase
	pos     Pos
	text    string
	visible bool
	obj     int // semaphore, mutex, condition, region or variable
	obj2    int // the mutex of a cond_wait
	slot    int // local slot
	jump    int
	e       *cexpr
	log     []logPart
	work    time.Duration
	fp      Footprint
}

// logPart is literal text, or an expression whose value is printed.
type logPart struct {
	text string
	e    *cexpr
}

// Phase tells the steps of one operation apart.
type Phase uint8

// The phases of operations that take more than one step, or whose single
// step has a name of its own.
const (
	PhaseNone      Phase = iota
	PhaseRead            // set: the read of its expression
	PhaseWrite           // set: the write of the variable
	PhaseRelease         // cond_wait: release the mutex and wait
	PhaseReacquire       // cond_wait: take the mutex back after a signal
	PhaseEnter           // critical: enter the region
	PhaseLeave           // critical: leave the region
	PhaseTest            // if, while: the test; repeat: reading the count
)

var phaseNames = [...]string{"", "read", "write", "release", "reacquire", "enter", "leave", "test"}

// String is the phase as a word: read, write, release, …; "" for none.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return "phase?"
}

// Name is the program's name under `programs:`.
func (p *Program) Name() string { return p.def.Name }

// Def is the syntax tree the program was compiled from.
func (p *Program) Def() *Def { return p.def }

// Threads are the names of the threads in order: a thread's index in a
// [State] is its index here; counted threads W are W0, W1, ….
func (p *Program) Threads() []string {
	out := make([]string, len(p.threads))
	for i, t := range p.threads {
		out[i] = t.name
	}
	return out
}

// Thread returns the index of the thread called name, or an error with a
// suggestion.
func (p *Program) Thread(name string) (int, error) {
	for i, t := range p.threads {
		if t.name == name {
			return i, nil
		}
	}
	return -1, fmt.Errorf("program %s has no thread %q%s", p.def.Name, name, contract.DidYouMean(name, p.Threads()))
}

// Vars are the names of the shared variables in declaration order, the
// order of [Row.Values].
func (p *Program) Vars() []string {
	out := make([]string, len(p.vars))
	for i, v := range p.vars {
		out[i] = v.Name
	}
	return out
}

// InvariantVars are the shared variables the invariants read.
func (p *Program) InvariantVars() []Object {
	out := make([]Object, len(p.invReads))
	for i, v := range p.invReads {
		out[i] = Object{Kind: ObjVar, Index: v}
	}
	return out
}

// TextHash is a stable hash of the program's definition (16 hex digits):
// it changes when an operation, name, value, thread or check changes, not
// when comments, spacing or YAML style do. A schedule names it so that an
// edited program is not replayed.
func (p *Program) TextHash() string { return p.textHash }

// ObjectName names an object of the program, for a [Footprint].
func (p *Program) ObjectName(o Object) string {
	switch o.Kind {
	case ObjVar:
		return p.vars[o.Index].Name
	case ObjSemaphore:
		return p.sems[o.Index].Name
	case ObjMutex:
		return p.mutexes[o.Index].Name
	case ObjCond:
		return p.conds[o.Index].Name
	case ObjRegion:
		return p.regions[o.Index].Name
	}
	return "?"
}

func (p *Program) getScratch() *scratch {
	if sc, ok := p.pool.Get().(*scratch); ok {
		return sc
	}
	return &scratch{env: make(map[string]any, 8)}
}

func (p *Program) putScratch(sc *scratch) { p.pool.Put(sc) }
