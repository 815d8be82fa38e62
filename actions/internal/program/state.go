package program

import (
	"fmt"
	"math/bits"
	"slices"
	"time"
	"unsafe"
)

// State is the whole state of one run of a program, as one value: shared
// variables, semaphore values and FIFO queues, mutex holders, condition
// queues, and each thread's position, status and locals. It is a slice of
// integers laid out by its [Program], so cloning is one copy and hashing
// reads it in order. A State is used by one goroutine at a time; clones
// are independent.
type State struct {
	p     *Program
	w     []int64
	steps int
}

// NewState returns the state before any step: variables and semaphores at
// their initial values, every thread at its first visible step (what comes
// before it touches only the thread's locals and has run). The Failure is
// not nil when that already breaks a check: an invariant false at the
// start, or a thread that fails before its first step.
func (p *Program) NewState() (*State, *Failure) {
	s := &State{p: p, w: make([]int64, p.words)}
	for i, v := range p.vars {
		s.w[i] = v.init
	}
	for i, m := range p.sems {
		s.w[p.semBase+i] = m.init
	}
	sc := p.getScratch()
	defer p.putScratch(sc)
	for t := range p.threads {
		if f := s.settle(t, sc); f != nil {
			return s, f
		}
	}
	return s, s.checkInvariants(sc, -1)
}

// Program is the program s is a state of.
func (s *State) Program() *Program { return s.p }

// Steps is the number of steps taken to reach s. It is not part of the
// state: two states reached by different paths are equal and hash alike.
func (s *State) Steps() int { return s.steps }

// Bytes is about what s takes in memory, for a caller that keeps many.
func (s *State) Bytes() int { return int(unsafe.Sizeof(*s)) + 8*len(s.w) }

// Clone returns an independent copy of s.
func (s *State) Clone() *State {
	return &State{p: s.p, w: slices.Clone(s.w), steps: s.steps}
}

// Equal says whether s and o are the same state of the same program.
func (s *State) Equal(o *State) bool { return s.p == o.p && slices.Equal(s.w, o.w) }

// Hash is a 64-bit hash of the state's words in layout order: each word
// goes through xxHash64's round for an 8-byte lane and the result through
// its avalanche (the way xxHash64 ends an input; see hashWords). It
// depends on nothing but the state (no map order, no pointers), so it is
// the same in every process and on every machine; the step count is not
// part of it.
func (s *State) Hash() uint64 { return hashWords(s.w) }

// The primes of xxHash64.
const (
	prime1 uint64 = 11400714785074694791
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	prime4 uint64 = 9650029242287828579
	prime5 uint64 = 2870177450012600261
)

// hashWords is xxHash64 (seed 0) of the words as 8-byte little-endian
// lanes, by the path xxHash64 takes for inputs under 32 bytes, whatever
// the length: one multiply-rotate round per word, then the avalanche. For
// up to three words it equals xxHash64; for more it skips the 32-byte
// stripes, which only matter for speed on long inputs. A word at a time,
// it is several times faster than a byte-wise hash such as FNV-1a.
func hashWords(ws []int64) uint64 {
	h := prime5 + uint64(len(ws))*8
	for _, w := range ws {
		k := bits.RotateLeft64(uint64(w)*prime2, 31) * prime1
		h ^= k
		h = bits.RotateLeft64(h, 27)*prime1 + prime4
	}
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}

func (s *State) load(r ref, t int) int64 {
	switch r.kind {
	case refVar:
		return s.w[r.idx]
	case refLocal:
		return s.w[s.p.threads[t].base+tLocals+r.idx]
	}
	return int64(s.p.threads[t].self)
}

func (s *State) tw(t, field int) *int64 { return &s.w[s.p.threads[t].base+field] }

func (s *State) pc(t int) int { return int(*s.tw(t, tPC)) }

// instr returns the next instruction of thread t, or nil when it has
// finished.
func (s *State) instr(t int) *instr {
	c := s.p.threads[t].code
	if pc := s.pc(t); pc < len(c.instrs) {
		return &c.instrs[pc]
	}
	return nil
}

// Done says whether thread t has finished.
func (s *State) Done(t int) bool { return s.instr(t) == nil }

// AllDone says whether every thread has finished.
func (s *State) AllDone() bool {
	for t := range s.p.threads {
		if !s.Done(t) {
			return false
		}
	}
	return true
}

// Enabled returns the threads that can take a step, in index order.
func (s *State) Enabled() []int { return s.AppendEnabled(nil) }

// AppendEnabled appends the threads that can take a step to dst, so that a
// search can reuse one slice.
func (s *State) AppendEnabled(dst []int) []int {
	for t := range s.p.threads {
		if s.IsEnabled(t) {
			dst = append(dst, t)
		}
	}
	return dst
}

// IsEnabled says whether thread t can take a step: it has not finished, it
// is not queued on a FIFO semaphore or a condition, and its next step can
// happen now (a wait on a semaphore whose value is above 0, a lock or a
// reacquire of a free mutex). A lock of a mutex the thread holds is
// enabled: that step is a misuse.
func (s *State) IsEnabled(t int) bool {
	in := s.instr(t)
	if in == nil || *s.tw(t, tStatus) != stReady {
		return false
	}
	switch in.kind {
	case iWait:
		return s.p.semQueue[in.obj] >= 0 || s.w[s.p.semBase+in.obj] > 0
	case iLock:
		h := s.w[s.p.mutexBase+in.obj]
		return h == 0 || h == int64(t)+1
	case iCondReacquire:
		return s.w[s.p.mutexBase+in.obj2] == 0
	}
	return true
}

// Footprint is what thread t's next step reads and writes; empty when the
// thread has finished.
func (s *State) Footprint(t int) Footprint {
	if in := s.instr(t); in != nil {
		return in.fp
	}
	return Footprint{}
}

// Action describes a thread's next step, for an executor to perform it on
// real objects and for a display.
type Action struct {
	Op     OpKind
	Phase  Phase
	Text   string // "wait mutex", "count = count + 1 (read)"
	Pos    Pos
	Object string // the semaphore, mutex, condition, region or variable
	Mutex  string // the mutex of a cond_wait
	Work   time.Duration
	// Footprint is what the step reads and writes.
	Footprint Footprint
}

// Next describes thread t's next step; ok is false when t has finished.
func (s *State) Next(t int) (a Action, ok bool) {
	in := s.instr(t)
	if in == nil {
		return Action{}, false
	}
	return s.p.action(in), true
}

func (p *Program) action(in *instr) Action {
	a := Action{Op: in.op, Phase: in.phase, Text: in.text, Pos: in.pos, Work: in.work, Footprint: in.fp}
	switch in.kind {
	case iWait, iSignal:
		a.Object = p.sems[in.obj].Name
	case iLock, iUnlock:
		a.Object = p.mutexes[in.obj].Name
	case iCondRelease, iCondReacquire:
		a.Object, a.Mutex = p.conds[in.obj].Name, p.mutexes[in.obj2].Name
	case iCondSignal, iCondBroadcast:
		a.Object = p.conds[in.obj].Name
	case iEnter, iLeave:
		a.Object = p.regions[in.obj].Name
	case iRead, iWriteTemp, iAssign:
		a.Object = p.vars[in.obj].Name
	}
	return a
}

// Values are the shared variables' values in declaration order (booleans
// as 0 and 1).
func (s *State) Values() []int64 { return slices.Clone(s.w[:len(s.p.vars)]) }

// Final is the shared variables by name, as an expression sees them: ints
// and bools.
func (s *State) Final() map[string]any {
	out := make(map[string]any, len(s.p.vars))
	for i, v := range s.p.vars {
		out[v.Name] = boxed(s.w[i], v.isBool)
	}
	return out
}

// Semaphore returns the value of the semaphore called name.
func (s *State) Semaphore(name string) (int64, bool) {
	for i, m := range s.p.sems {
		if m.Name == name {
			return s.w[s.p.semBase+i], true
		}
	}
	return 0, false
}

// Holder returns the thread that holds the mutex called name, -1 when it
// is free or unknown.
func (s *State) Holder(name string) int {
	for i, m := range s.p.mutexes {
		if m.Name == name {
			return int(s.w[s.p.mutexBase+i]) - 1
		}
	}
	return -1
}

// queue returns the thread queue at word base.
func (s *State) queue(base int) []int64 { return s.w[base+1 : base+1+int(s.w[base])] }

func (s *State) enqueue(base, t int) {
	n := int(s.w[base])
	s.w[base+1+n] = int64(t)
	s.w[base]++
}

// dequeue removes and returns the oldest thread of the queue at base.
func (s *State) dequeue(base int) int {
	n := int(s.w[base])
	t := int(s.w[base+1])
	copy(s.w[base+1:base+n], s.w[base+2:base+1+n])
	s.w[base+n] = 0
	s.w[base]--
	return t
}

// inside returns the threads other than t inside region r.
func (s *State) inside(r, except int) []int {
	var out []int
	for u, th := range s.p.threads {
		if u == except {
			continue
		}
		pc := s.pc(u)
		for _, sp := range th.code.regions {
			if sp.region == r && pc >= sp.from && pc <= sp.to {
				out = append(out, u)
				break
			}
		}
	}
	return out
}

// Status is where a thread is, for a timeline and for explanations.
type Status struct {
	Finished bool
	// Blocked: the thread cannot take a step now.
	Blocked bool
	// Waiting names what a blocked thread waits for ("semaphore s",
	// "mutex m", "condition c").
	Waiting string
	// Regions are the critical regions the thread is inside.
	Regions []string
	// Pos is the position of its next step.
	Pos Pos
}

// Status returns thread t's status.
func (s *State) Status(t int) Status {
	in := s.instr(t)
	if in == nil {
		return Status{Finished: true}
	}
	st := Status{Pos: in.pos, Blocked: !s.IsEnabled(t)}
	if st.Blocked {
		switch in.kind {
		case iWait:
			st.Waiting = "semaphore " + s.p.sems[in.obj].Name
		case iLock:
			st.Waiting = "mutex " + s.p.mutexes[in.obj].Name
		case iCondRelease, iCondReacquire:
			if *s.tw(t, tStatus) == stCondWaiting {
				st.Waiting = "condition " + s.p.conds[in.obj].Name
			} else {
				st.Waiting = "mutex " + s.p.mutexes[in.obj2].Name
			}
		}
	}
	pc := s.pc(t)
	for _, sp := range s.p.threads[t].code.regions {
		if pc >= sp.from && pc <= sp.to {
			st.Regions = append(st.Regions, s.p.regions[sp.region].Name)
		}
	}
	return st
}

// String prints the state for a test's failure message.
func (s *State) String() string {
	out := ""
	for i, v := range s.p.vars {
		out += fmt.Sprintf("%s=%s ", v.Name, formatValue(s.w[i], v.isBool))
	}
	for i, m := range s.p.sems {
		out += fmt.Sprintf("%s=%d ", m.Name, s.w[s.p.semBase+i])
	}
	for t, th := range s.p.threads {
		if in := s.instr(t); in != nil {
			out += fmt.Sprintf("%s@%d:%s ", th.name, in.pos.Line, in.text)
		} else {
			out += th.name + ":done "
		}
	}
	return out
}

// AtProgress says whether thread t's next step is a progress step (the
// op progress).
func (s *State) AtProgress(t int) bool {
	in := s.instr(t)
	return in != nil && in.kind == iProgress
}

// ProgressThreads are the threads whose code has a progress step, in
// index order: the threads a search for starvation watches.
func (p *Program) ProgressThreads() []int {
	var ts []int
	for t, th := range p.threads {
		for _, in := range th.code.instrs {
			if in.kind == iProgress {
				ts = append(ts, t)
				break
			}
		}
	}
	return ts
}
