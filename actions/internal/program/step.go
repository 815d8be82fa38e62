package program

import (
	"fmt"
	"strings"
	"time"
)

// Verdict is the outcome of a run of a program.
type Verdict string

// The verdicts, as the program action reports them.
const (
	Pass            Verdict = "pass"
	Assert          Verdict = "assert"           // an assert was false, or an expression failed
	Expect          Verdict = "expect"           // expect was false when every thread had finished
	Invariant       Verdict = "invariant"        // an invariant was false after a step
	MutualExclusion Verdict = "mutual_exclusion" // more threads inside a region than it admits
	Misuse          Verdict = "misuse"           // a synchronization object used against its rules
	Deadlock        Verdict = "deadlock"         // no thread can step, some have not finished
	MaxSteps        Verdict = "max_steps"        // the run took more steps than allowed
	Starvation      Verdict = "starvation"       // a fair run goes round for ever while a thread never makes progress
	// Incomplete is a search's verdict, never a run's: it stopped before
	// it did all it was asked (a cap, a time limit) and found no failure.
	// A search that did not finish proves nothing, so it is not a pass.
	Incomplete Verdict = "incomplete"
)

// Failure is a broken check: what, where and by whom.
type Failure struct {
	Verdict Verdict
	// Thread is the thread whose step broke the check; "" for expect,
	// deadlock and max_steps.
	Thread string
	// Pos is the operation's position, or the invariant's or expect's.
	Pos Pos
	Msg string
	// Deadlock explains a deadlock; nil for other verdicts.
	Deadlock *DeadlockInfo
}

// Error is LINE:COL: verdict: message.
func (f *Failure) Error() string {
	return fmt.Sprintf("%s: %s", f.Pos, f.Rule())
}

// Rule is the broken rule as a person reads it: the verdict, then the
// message, the verdict left out where the message begins with it
// ("mutual_exclusion: B entered critical while A is inside", but
// "deadlock: 2 of 2 threads blocked", "expect count == 2 failed: count
// = 1", not "deadlock: deadlock: …").
func (f *Failure) Rule() string {
	v := string(f.Verdict)
	if rest, ok := strings.CutPrefix(f.Msg, v); ok && (rest == "" || rest[0] == ':' || rest[0] == ' ') {
		return f.Msg
	}
	return v + ": " + f.Msg
}

// StepInfo is what one step did.
type StepInfo struct {
	Thread int
	Op     OpKind
	Phase  Phase
	Text   string // the step as a person reads it: "count = count + 1 (read)"
	Pos    Pos
	// Var is the shared variable the step wrote, -1 if none; Old and New
	// its values before and after.
	Var      int
	Old, New int64
	// Blocked: the step left the thread waiting (a FIFO wait that found
	// the semaphore at 0, the first step of cond_wait).
	Blocked bool
	// Woken are the threads this step released: the waiter a FIFO signal
	// handed its unit to, the waiters a cond_signal or cond_broadcast
	// moved on to reacquire their mutex.
	Woken []int
	// Log is the text a log step printed.
	Log string
	// Work is how long a work step works under scheduler: os.
	Work time.Duration
	// Failure is the check this step broke, nil if none.
	Failure *Failure
}

// maxHidden bounds the operations a thread runs between two visible steps,
// so that a loop over locals alone cannot hang a step.
const maxHidden = 100000

// Step takes thread t's next step, deterministically, and runs the
// thread's following operations up to its next visible step. It checks
// the step (assert, misuse, mutual exclusion) and, when a variable
// changed, the invariants. The error is for a caller's mistake: t out of
// range or not enabled; s is then unchanged.
func (s *State) Step(t int) (StepInfo, error) {
	if t < 0 || t >= len(s.p.threads) {
		return StepInfo{}, fmt.Errorf("program %s: no thread %d", s.p.def.Name, t)
	}
	if !s.IsEnabled(t) {
		return StepInfo{}, fmt.Errorf("program %s: thread %s cannot take a step now", s.p.def.Name, s.p.threads[t].name)
	}
	in := s.instr(t)
	info := StepInfo{Thread: t, Op: in.op, Phase: in.phase, Text: in.text, Pos: in.pos, Var: -1}
	s.step(t, in, &info, false)
	return info, nil
}

// step takes thread t's step in, enabled, filling info; quiet leaves out
// what only a display needs (the threads woken, a log step's text).
func (s *State) step(t int, in *instr, info *StepInfo, quiet bool) {
	sc := s.p.getScratch()
	defer s.p.putScratch(sc)
	s.steps++
	advance := true
	fail := func(v Verdict, format string, args ...any) {
		info.Failure = &Failure{Verdict: v, Thread: s.p.threads[t].name, Pos: in.pos, Msg: fmt.Sprintf(format, args...)}
	}
	p := s.p
	switch in.kind {
	case iWait:
		v := &s.w[p.semBase+in.obj]
		if *v > 0 {
			*v--
		} else { // a FIFO semaphore at 0: queue up
			s.enqueue(p.semQueue[in.obj], t)
			*s.tw(t, tStatus), *s.tw(t, tObj) = stSemQueued, int64(in.obj)
			info.Blocked, advance = true, false
		}
	case iSignal:
		if q := p.semQueue[in.obj]; q >= 0 && s.w[q] > 0 {
			w := s.dequeue(q)
			*s.tw(w, tStatus), *s.tw(w, tObj) = stReady, 0
			*s.tw(w, tPC)++
			if !quiet {
				info.Woken = []int{w}
			}
			if f := s.settle(w, sc); f != nil {
				info.Failure = f
			}
			break
		}
		v := &s.w[p.semBase+in.obj]
		if m := p.sems[in.obj].max; m > 0 && *v >= m {
			fail(Misuse, "signal %s past its max %d (value %d)", p.sems[in.obj].Name, m, *v)
			break
		}
		*v++
	case iLock:
		h := &s.w[p.mutexBase+in.obj]
		if *h == int64(t)+1 {
			fail(Misuse, "lock %s: %s already holds it (a mutex is not recursive)", p.mutexes[in.obj].Name, p.threads[t].name)
			break
		}
		*h = int64(t) + 1
	case iUnlock:
		h := &s.w[p.mutexBase+in.obj]
		if *h != int64(t)+1 {
			fail(Misuse, "unlock %s by %s, %s", p.mutexes[in.obj].Name, p.threads[t].name, s.heldBy(in.obj))
			break
		}
		*h = 0
	case iCondRelease:
		h := &s.w[p.mutexBase+in.obj2]
		if *h != int64(t)+1 {
			fail(Misuse, "cond_wait %s without holding %s (%s)", p.conds[in.obj].Name, p.mutexes[in.obj2].Name, s.heldBy(in.obj2))
			break
		}
		*h = 0
		s.enqueue(p.condQueue[in.obj], t)
		*s.tw(t, tStatus), *s.tw(t, tObj) = stCondWaiting, int64(in.obj)
		*s.tw(t, tPC)++
		info.Blocked, advance = true, false
	case iCondReacquire:
		s.w[p.mutexBase+in.obj2] = int64(t) + 1
	case iCondSignal:
		if q := p.condQueue[in.obj]; s.w[q] > 0 {
			w := s.dequeue(q)
			*s.tw(w, tStatus), *s.tw(w, tObj) = stReady, 0
			if !quiet {
				info.Woken = []int{w}
			}
		}
	case iCondBroadcast:
		q := p.condQueue[in.obj]
		for s.w[q] > 0 {
			w := s.dequeue(q)
			*s.tw(w, tStatus), *s.tw(w, tObj) = stReady, 0
			if !quiet {
				info.Woken = append(info.Woken, w)
			}
		}
	case iRead:
		v, err := in.e.eval(s, t, sc)
		if err != nil {
			fail(Assert, "%v", err)
			break
		}
		*s.tw(t, tTemp) = v
	case iWriteTemp:
		info.Var, info.Old, info.New = in.obj, s.w[in.obj], *s.tw(t, tTemp)
		s.w[in.obj] = info.New
		*s.tw(t, tTemp) = 0
	case iAssign:
		v, err := in.e.eval(s, t, sc)
		if err != nil {
			fail(Assert, "%v", err)
			break
		}
		info.Var, info.Old, info.New = in.obj, s.w[in.obj], v
		s.w[in.obj] = v
	case iLocal, iBranch, iRepeatInit:
		if err := s.exec(t, in, sc); err != nil {
			fail(Assert, "%v", err)
		}
		advance = false
	case iEnter:
		if others := s.inside(in.obj, t); len(others) >= p.regions[in.obj].Capacity {
			fail(MutualExclusion, "%s entered %s while %s %s inside (capacity %d)", p.threads[t].name, p.regions[in.obj].Name, s.names(others), isAre(len(others)), p.regions[in.obj].Capacity)
		}
	case iAssert:
		v, err := in.e.eval(s, t, sc)
		switch {
		case err != nil:
			fail(Assert, "%v", err)
		case v == 0:
			fail(Assert, "assert %s failed: %s", in.e.src, in.e.values(s, t))
		}
	case iWork:
		info.Work = in.work
	case iLog:
		if quiet {
			if err := s.logChecks(t, in, sc); err != nil {
				fail(Assert, "log %v", err)
			}
			break
		}
		text, err := s.logText(t, in, sc)
		if err != nil {
			fail(Assert, "log %v", err)
			break
		}
		info.Log = text
	}
	if advance {
		*s.tw(t, tPC)++
	}
	if info.Failure == nil && !info.Blocked {
		info.Failure = s.settle(t, sc)
	}
	if info.Failure == nil && info.Var >= 0 && info.Old != info.New {
		info.Failure = s.checkInvariants(sc, t)
	}
}

// exec runs an instruction that touches only the thread's own state (or
// reads shared variables, when it is visible) and moves the pc.
func (s *State) exec(t int, in *instr, sc *scratch) error {
	pc := s.tw(t, tPC)
	switch in.kind {
	case iJump:
		*pc = int64(in.jump)
		return nil
	case iRepeatTest:
		n := s.tw(t, tLocals+in.slot)
		if *n <= 0 {
			*pc = int64(in.jump)
		} else {
			*n--
			*pc++
		}
		return nil
	}
	v, err := in.e.eval(s, t, sc)
	if err != nil {
		return err
	}
	switch in.kind {
	case iLocal, iRepeatInit:
		*s.tw(t, tLocals+in.slot) = v
		*pc++
	case iBranch:
		if v == 0 {
			*pc = int64(in.jump)
		} else {
			*pc++
		}
	}
	return nil
}

// settle runs thread t's invisible operations up to its next visible step
// or its end.
func (s *State) settle(t int, sc *scratch) *Failure {
	c := s.p.threads[t].code
	for n := 0; ; n++ {
		pc := s.pc(t)
		if pc >= len(c.instrs) || c.instrs[pc].visible {
			return nil
		}
		in := &c.instrs[pc]
		if n == maxHidden {
			return &Failure{Verdict: MaxSteps, Thread: s.p.threads[t].name, Pos: in.pos,
				Msg: fmt.Sprintf("%s ran %d operations without a visible step (a loop that reads no shared variable and never ends?)", s.p.threads[t].name, maxHidden)}
		}
		if err := s.exec(t, in, sc); err != nil {
			return &Failure{Verdict: Assert, Thread: s.p.threads[t].name, Pos: in.pos, Msg: err.Error()}
		}
	}
}

// checkInvariants evaluates the invariants; t is the thread whose step
// came before, -1 at the start.
func (s *State) checkInvariants(sc *scratch, t int) *Failure {
	for _, e := range s.p.invariants {
		v, err := e.eval(s, -1, sc)
		if err == nil && v != 0 {
			continue
		}
		f := &Failure{Verdict: Invariant, Pos: e.pos}
		if t >= 0 {
			f.Thread = s.p.threads[t].name
		}
		if err != nil {
			// The error begins with the expression.
			f.Msg = fmt.Sprintf("invariant %v", err)
			if isArith(err) {
				f.Verdict = Assert
			}
		} else {
			f.Msg = fmt.Sprintf("invariant %s does not hold: %s", e.src, e.values(s, -1))
		}
		return f
	}
	return nil
}

// End is the check of a run that cannot go on (no thread is enabled): nil
// when every thread finished and expect holds, an expect failure, or a
// deadlock with its explanation. It returns nil too when some thread is
// still enabled.
func (s *State) End() *Failure {
	if !s.AllDone() {
		for t := range s.p.threads {
			if s.IsEnabled(t) {
				return nil
			}
		}
		d := s.explain()
		return &Failure{Verdict: Deadlock, Pos: s.p.def.Pos, Msg: d.Text, Deadlock: d}
	}
	e := s.p.expect
	if e == nil {
		return nil
	}
	sc := s.p.getScratch()
	defer s.p.putScratch(sc)
	v, err := e.eval(s, -1, sc)
	switch {
	case err != nil && isArith(err):
		return &Failure{Verdict: Assert, Pos: e.pos, Msg: fmt.Sprintf("expect %v", err)}
	case err != nil:
		return &Failure{Verdict: Expect, Pos: e.pos, Msg: fmt.Sprintf("expect %v", err)}
	case v == 0:
		return &Failure{Verdict: Expect, Pos: e.pos, Msg: fmt.Sprintf("expect %s failed: %s", e.src, e.values(s, -1))}
	}
	return nil
}

func (s *State) heldBy(m int) string {
	h := s.w[s.p.mutexBase+m]
	if h == 0 {
		return "which is not locked"
	}
	return "held by " + s.p.threads[h-1].name
}

func (s *State) names(ts []int) string {
	n := make([]string, len(ts))
	for i, t := range ts {
		n[i] = s.p.threads[t].name
	}
	return strings.Join(n, ", ")
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}

// logText is the text a log operation writes; an expression in it whose
// arithmetic fails is an error, as anywhere else.
// logChecks evaluates a log step's expressions for their arithmetic
// checks alone, as logText does, without making its text.
func (s *State) logChecks(t int, in *instr, sc *scratch) error {
	for _, part := range in.log {
		if part.e == nil {
			continue
		}
		if _, err := part.e.eval(s, t, sc); err != nil && isArith(err) {
			return err
		}
	}
	return nil
}

func (s *State) logText(t int, in *instr, sc *scratch) (string, error) {
	var b strings.Builder
	for _, part := range in.log {
		if part.e == nil {
			b.WriteString(part.text)
			continue
		}
		v, err := part.e.eval(s, t, sc)
		if err != nil {
			if isArith(err) {
				return "", err
			}
			fmt.Fprintf(&b, "<%v>", err)
			continue
		}
		b.WriteString(formatValue(v, part.e.isBool))
	}
	return b.String(), nil
}
