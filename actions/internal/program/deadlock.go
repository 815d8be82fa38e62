package program

import (
	"fmt"
	"strings"
)

// DeadlockInfo explains a deadlock: every blocked thread, what it waits
// on and who could release it, and a cycle of waits when there is one.
type DeadlockInfo struct {
	Blocked []BlockedThread
	// Cycle is a cycle of waits, thread and object alternating and the
	// first thread repeated at the end (A, m2, B, m1, A); nil when there
	// is none (someone waits for a thread that has finished, or for
	// nobody).
	Cycle []string
	// Text is the whole explanation, one line per blocked thread and one
	// for the cycle.
	Text string
}

// BlockedThread is one thread of a deadlock.
type BlockedThread struct {
	Thread string
	Pos    Pos    // the operation it is stuck at
	Op     string // the step, as text
	Kind   ObjKind
	Object string
	// Holder holds the mutex the thread waits for.
	Holder         string
	HolderFinished bool
	// Releasers are the other threads whose remaining code (from where
	// they are, loops included) signals the semaphore or condition the
	// thread waits on; empty when nobody's does.
	Releasers []string
}

// explain builds the explanation of a deadlocked state.
func (s *State) explain() *DeadlockInfo {
	p := s.p
	d := &DeadlockInfo{}
	waitsFor := map[int][]int{} // blocked thread → threads it waits for
	objOf := map[int]string{}
	var lines []string
	for t, th := range p.threads {
		in := s.instr(t)
		if in == nil {
			continue
		}
		b := BlockedThread{Thread: th.name, Pos: in.pos, Op: in.text}
		var line string
		switch {
		case in.kind == iLock || in.kind == iCondReacquire && *s.tw(t, tStatus) == stReady:
			m := in.obj
			if in.kind == iCondReacquire {
				m = in.obj2
			}
			b.Kind, b.Object = ObjMutex, p.mutexes[m].Name
			h := int(s.w[p.mutexBase+m]) - 1
			b.Holder = p.threads[h].name
			b.HolderFinished = s.Done(h)
			line = fmt.Sprintf("%s waits for mutex %s at %s (%s), held by %s", th.name, b.Object, in.pos, in.text, b.Holder)
			if b.HolderFinished {
				line += ", which finished without unlocking it"
			} else {
				waitsFor[t] = []int{h}
			}
		case in.kind == iWait:
			b.Kind, b.Object = ObjSemaphore, p.sems[in.obj].Name
			rel := s.releasers(t, func(x *instr) bool { return x.kind == iSignal && x.obj == in.obj })
			b.Releasers = s.threadNames(rel)
			waitsFor[t] = rel
			line = fmt.Sprintf("%s waits on semaphore %s (value %d) at %s (%s); %s", th.name, b.Object, s.w[p.semBase+in.obj], in.pos, in.text, could(b.Releasers, "signal"))
		default: // queued on a condition
			b.Kind, b.Object = ObjCond, p.conds[in.obj].Name
			b.Op = "cond_wait " + b.Object
			rel := s.releasers(t, func(x *instr) bool {
				return (x.kind == iCondSignal || x.kind == iCondBroadcast) && x.obj == in.obj
			})
			b.Releasers = s.threadNames(rel)
			waitsFor[t] = rel
			line = fmt.Sprintf("%s waits on condition %s at %s (%s); %s", th.name, b.Object, in.pos, b.Op, could(b.Releasers, "signal"))
		}
		objOf[t] = b.Object
		d.Blocked = append(d.Blocked, b)
		lines = append(lines, line)
	}
	if c := findCycle(len(p.threads), waitsFor); c != nil {
		for _, t := range c {
			d.Cycle = append(d.Cycle, p.threads[t].name, objOf[t])
		}
		d.Cycle = append(d.Cycle, p.threads[c[0]].name)
		lines = append(lines, "cycle: "+strings.Join(d.Cycle, " → "))
	}
	d.Text = fmt.Sprintf("deadlock: %d of %d threads blocked\n%s", len(d.Blocked), len(p.threads), strings.Join(lines, "\n"))
	return d
}

func could(names []string, verb string) string {
	switch len(names) {
	case 0:
		return "nobody " + verb + "s it in the code left to run"
	case 1:
		return names[0] + " could " + verb + " it"
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1] + " could " + verb + " it"
}

func (s *State) threadNames(ts []int) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = s.p.threads[t].name
	}
	return out
}

// releasers returns the threads other than t whose code from their
// current position (following every branch and loop) has an instruction
// that match accepts.
func (s *State) releasers(t int, match func(*instr) bool) []int {
	var out []int
	for u, th := range s.p.threads {
		if u != t && reaches(th.code, s.pc(u), match) {
			out = append(out, u)
		}
	}
	return out
}

func reaches(c *code, from int, match func(*instr) bool) bool {
	seen := make([]bool, len(c.instrs)+1)
	stack := []int{from}
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if pc >= len(c.instrs) || seen[pc] {
			continue
		}
		seen[pc] = true
		in := &c.instrs[pc]
		if match(in) {
			return true
		}
		switch in.kind {
		case iJump:
			stack = append(stack, in.jump)
		case iBranch, iRepeatTest:
			stack = append(stack, pc+1, in.jump)
		default:
			stack = append(stack, pc+1)
		}
	}
	return false
}

// findCycle returns the first cycle of the waits-for graph, starting from
// the lowest thread, as the threads on it; nil if there is none.
func findCycle(n int, edges map[int][]int) []int {
	const (
		white = iota
		grey
		black
	)
	color := make([]int, n)
	var path []int
	var cycle []int
	var visit func(t int) bool
	visit = func(t int) bool {
		color[t] = grey
		path = append(path, t)
		for _, u := range edges[t] {
			if color[u] == grey {
				for i, x := range path {
					if x == u {
						cycle = append([]int(nil), path[i:]...)
						return true
					}
				}
			}
			if color[u] == white && visit(u) {
				return true
			}
		}
		path = path[:len(path)-1]
		color[t] = black
		return false
	}
	for t := range n {
		if color[t] == white && visit(t) {
			return cycle
		}
	}
	return nil
}
