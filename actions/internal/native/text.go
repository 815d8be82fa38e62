package native

import (
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/program"
	"time"

	pl "github.com/pmrun/pmrun/actions/internal/preload"
)

// Row is one step of a run: the thread that took it, what its call did,
// and the call's source line (File empty when the binary has no line
// for it).
type Row struct {
	Thread int
	Op     string
	Pos    program.Pos // File and Line
	Failed bool

	bin *binary // where Pos is read from, once the row is shown
	pc  uint64
}

// row is t's step, its call made at site; its line is found when it is
// shown ([resolve]), not at every step.
func (r *Run) row(t *thread, text string, site uint64) Row {
	row := Row{Thread: t.idx, Op: text}
	if p := t.proc; site != 0 && p.bin != nil && site > p.bias {
		row.bin, row.pc = p.bin, site-p.bias
		if t.state != tNew {
			row.pc-- // a return address: the call is the instruction before
		}
	}
	return row
}

// resolve finds the source lines of rows.
func resolve(rows []Row) {
	for i := range rows {
		if r := &rows[i]; r.bin != nil {
			r.Pos.File, r.Pos.Line, _ = r.bin.line(r.pc)
			r.bin = nil
		}
	}
}

// routineName names the threads a start routine runs: its symbol, else
// "thread".
func (r *Run) routineName(p *process, start uint64) string {
	if p.bin != nil && start > p.bias {
		if name, ok := symbolAt(p.bin.funcs, start-p.bias); ok {
			return name
		}
	}
	return "thread"
}

var kindNames = map[int]string{
	pl.KindMutex: "mutex", pl.KindCond: "cond", pl.KindSem: "sem", pl.KindRWLock: "rwlock",
	pl.KindSpin: "spin", pl.KindBarrier: "barrier",
}

// objectName names an object: its variable when it is one of the
// program's (lock_a, buf+40), else its kind and a number in order of
// first sight (mutex1, sem2).
func (r *Run) objectName(p *process, addr uint64, kind int) string {
	if p.bin != nil && addr > p.bias {
		if name, ok := symbolAt(p.bin.data, addr-p.bias); ok {
			return name
		}
	}
	r.kindCount[kind]++
	return fmt.Sprintf("%s%d", kindNames[kind], r.kindCount[kind])
}

// startText is a thread's first step.
func (r *Run) startText(t *thread) string {
	if t.proc.main == t {
		return "start"
	}
	if t.start != 0 {
		return "start " + r.routineName(t.proc, t.start) + "()"
	}
	return "start"
}

// opText says what t's pending call is, as the program wrote it.
func (r *Run) opText(t *thread) string {
	q := &t.req
	o := func() string { return q.obj.name }
	timed := func(plain, withTime string) string {
		if q.timed() {
			return withTime
		}
		return plain
	}
	switch q.op {
	case pl.OpStart:
		return r.startText(t)
	case pl.OpCreate:
		return "pthread_create(" + r.routineName(t.proc, uint64(q.arg)) + ")"
	case pl.OpJoin:
		if u := r.threadBySelf(t.proc, q.addr); u != nil {
			return "pthread_join(" + u.name + ")"
		}
		return "pthread_join()"
	case pl.OpFork:
		return "fork()"
	case pl.OpWaitpid:
		for _, c := range t.proc.children {
			if int(q.arg) == c.pid && c.pid > 0 {
				return "waitpid(" + c.name() + ")"
			}
		}
		return "wait()"
	case pl.OpMutexLock:
		return timed("pthread_mutex_lock(", "pthread_mutex_timedlock(") + o() + ")"
	case pl.OpMutexTrylock:
		return "pthread_mutex_trylock(" + o() + ")"
	case pl.OpMutexUnlock:
		return "pthread_mutex_unlock(" + o() + ")"
	case pl.OpCondWait:
		return timed("pthread_cond_wait(", "pthread_cond_timedwait(") + o() + ", " + q.obj2.name + "): unlocks " + q.obj2.name + ", waits"
	case pl.OpCondReacq:
		return timed("pthread_cond_wait(", "pthread_cond_timedwait(") + o() + ", " + q.obj2.name + "): wakes, locks " + q.obj2.name
	case pl.OpCondSignal:
		return "pthread_cond_signal(" + o() + ")"
	case pl.OpCondBroadcast:
		return "pthread_cond_broadcast(" + o() + ")"
	case pl.OpSemWait:
		return timed("sem_wait(", "sem_timedwait(") + o() + ")"
	case pl.OpSemTrywait:
		return "sem_trywait(" + o() + ")"
	case pl.OpSemPost:
		return "sem_post(" + o() + ")"
	case pl.OpRWRdlock:
		return timed("pthread_rwlock_rdlock(", "pthread_rwlock_timedrdlock(") + o() + ")"
	case pl.OpRWWrlock:
		return timed("pthread_rwlock_wrlock(", "pthread_rwlock_timedwrlock(") + o() + ")"
	case pl.OpRWTryrdlock:
		return "pthread_rwlock_tryrdlock(" + o() + ")"
	case pl.OpRWTrywrlock:
		return "pthread_rwlock_trywrlock(" + o() + ")"
	case pl.OpRWUnlock:
		return "pthread_rwlock_unlock(" + o() + ")"
	case pl.OpSpinLock:
		return "pthread_spin_lock(" + o() + ")"
	case pl.OpSpinTrylock:
		return "pthread_spin_trylock(" + o() + ")"
	case pl.OpSpinUnlock:
		return "pthread_spin_unlock(" + o() + ")"
	case pl.OpBarrierWait:
		return "pthread_barrier_wait(" + o() + ")"
	case pl.OpBarrierLeave:
		return "pthread_barrier_wait(" + o() + "): leaves"
	case pl.OpYield:
		return "sched_yield()"
	case pl.OpSleep:
		return fmt.Sprintf("sleep(%v)", time.Duration(q.arg))
	case pl.OpPoint:
		return "point " + q.text
	case pl.OpExit:
		if q.arg < 0 {
			return "exit (main returned)"
		}
		return fmt.Sprintf("exit(%d)", q.arg)
	}
	return pl.OpName(q.op)
}
