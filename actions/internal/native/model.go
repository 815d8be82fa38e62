package native

import (
	"cmp"
	"fmt"
	"slices"
	"syscall"

	pl "github.com/pmrun/pmrun/actions/internal/preload"
)

// tstate is where a thread of the program is.
type tstate uint8

const (
	tNew     tstate = iota // made, waits for its first turn
	tParked                // at a point, waits to be chosen
	tRunning               // holds the turn
	tFree                  // let run outside pmrun's control by the watchdog
	tDone                  // ended, or its process did
)

// thread is one of the program's threads: a slot of the control block.
type thread struct {
	idx   int
	name  string
	proc  *process
	tid   int
	self  uint64 // its pthread_t
	state tstate
	seq   uint32  // the last request read from its slot
	req   request // the point it waits at (tParked), its start (tNew)
	start uint64  // its start routine

	cond       *object // the condition it is queued on, until signalled
	condCount  int     // its recursive mutex's count, restored after the wait
	barrierGen int     // the generation of the barrier it waits to leave
	forked     *thread // the child of its fork, until the pid is known
}

// request is a point a thread waits at.
type request struct {
	op        int
	flags     uint32
	obj, obj2 *object
	addr      uint64 // obj's address, for a join: the pthread_t
	arg, arg2 int64
	site      uint64
	text      string
}

func (q request) timed() bool { return q.flags&pl.FlagTimed != 0 }

// process is one process of the program.
type process struct {
	idx      int
	pid      int
	parent   *process
	bin      *binary // its image, for names and lines; nil if unreadable
	bias     uint64  // its image's load bias
	objs     map[uint64]*object
	exited   bool
	reaped   bool // a wait of its parent collected it
	children []*process
	main     *thread
	watch    func() // stops the watch of its end
	kill     func() // sends it SIGKILL through its pidfd
}

// object is a synchronization object as pmrun models it.
type object struct {
	kind   int // pl.Kind*
	name   string
	shared bool

	owner *thread // mutexes, spin locks; a read-write lock's writer
	count int     // a recursive mutex's
	mtype int     // a mutex's type: 0 normal, 1 recursive, 2 error checking
	// Semaphores.
	value   int64
	posters []*thread // who posted it, in order: who could again
	takes   takes     // who took a unit and has not posted one since
	// Conditions: the queue, and who signalled it.
	waiters    []*thread
	signallers []*thread
	// Read-write locks: the readers holding it.
	readers []*thread
	// Barriers.
	need, arrived, gen int
}

// Mutex types, as glibc numbers them.
const (
	mutexNormal     = 0
	mutexRecursive  = 1
	mutexErrorCheck = 2
)

// canGo says whether t can take its step now, without a timeout.
func (r *Run) canGo(t *thread) bool {
	switch t.state {
	case tNew:
		return true
	case tParked:
	default:
		return false
	}
	q := &t.req
	o := q.obj
	switch q.op {
	case pl.OpJoin:
		u := r.threadBySelf(t.proc, q.addr)
		return u == nil || u.state == tDone
	case pl.OpWaitpid:
		return r.waitReady(t.proc, int(q.arg), int(q.arg2))
	case pl.OpMutexLock:
		return o.owner == nil || o.owner == t && o.mtype != mutexNormal
	case pl.OpSpinLock:
		return o.owner == nil
	case pl.OpCondReacq:
		return t.cond == nil && q.obj2.owner == nil
	case pl.OpSemWait:
		return o.value > 0
	case pl.OpRWRdlock:
		return o.owner == nil
	case pl.OpRWWrlock:
		return o.owner == nil && len(o.readers) == 0
	case pl.OpBarrierLeave:
		return o.gen > t.barrierGen
	}
	return true
}

// canTimeOut says whether t waits in a timed call that can time out:
// time passes only when no thread can go otherwise.
func canTimeOut(t *thread) bool {
	if t.state != tParked || !t.req.timed() {
		return false
	}
	switch t.req.op {
	case pl.OpMutexLock, pl.OpSemWait, pl.OpRWRdlock, pl.OpRWWrlock:
		return true
	case pl.OpCondReacq:
		return t.req.obj2.owner == nil // it still takes the mutex back
	}
	return false
}

// take has t take its step: the model changes as the call will, and the
// reply is what the library answers (0: make the real call; an errno:
// return it), with reply_arg. text says what the step did, for the
// interleaving; a misuse fails the run.
func (r *Run) take(t *thread) (reply int32, arg int64, text string, fail *Failure) {
	if t.state == tNew {
		return 0, 0, r.startText(t), nil
	}
	q := &t.req
	o := q.obj
	timeout := !r.canGo(t) // chosen among the timed calls: it times out
	text = r.opText(t)
	switch q.op {
	case pl.OpCreate:
		u := r.newThread(t.proc, q.arg)
		if u == nil {
			return int32(syscall.EAGAIN), 0, text + ": too many threads for pmrun", nil
		}
		return 0, int64(u.idx), text + " → " + u.name, nil
	case pl.OpFork:
		u := r.newProcess(t)
		if u == nil {
			return int32(syscall.EAGAIN), 0, text + ": too many threads for pmrun", nil
		}
		t.forked = u
		return 0, int64(u.idx), text + " → " + u.name, nil
	case pl.OpMutexLock, pl.OpSpinLock:
		switch {
		case timeout:
			return int32(syscall.ETIMEDOUT), 0, text + ": timed out", nil
		case o.owner == t && o.mtype == mutexErrorCheck:
			return int32(syscall.EDEADLK), 0, text + ": EDEADLK", nil
		case o.owner == t:
			o.count++
		default:
			o.owner, o.count = t, 1
		}
	case pl.OpMutexTrylock, pl.OpSpinTrylock:
		switch {
		case o.owner == nil:
			o.owner, o.count = t, 1
		case o.owner == t && o.mtype == mutexRecursive:
			o.count++
		default:
			return int32(syscall.EBUSY), 0, text + ": EBUSY", nil
		}
	case pl.OpMutexUnlock, pl.OpSpinUnlock:
		if o.owner != t {
			if o.mtype != mutexNormal && q.op == pl.OpMutexUnlock {
				return int32(syscall.EPERM), 0, text + ": EPERM", nil
			}
			return 0, 0, text, r.misuse(t, "%s unlocks %s, which %s", t.name, o.name, heldBy(o))
		}
		if o.count--; o.count <= 0 {
			o.owner, o.count = nil, 0
		}
	case pl.OpCondWait:
		m := q.obj2
		if m.owner != t {
			if m.mtype != mutexNormal {
				return int32(syscall.EPERM), 0, text + ": EPERM", nil
			}
			return 0, 0, text, r.misuse(t, "%s waits on %s without holding %s, which %s", t.name, o.name, m.name, heldBy(m))
		}
		t.condCount = m.count
		m.owner, m.count = nil, 0
		t.cond = o
		o.waiters = append(o.waiters, t)
	case pl.OpCondReacq:
		m := q.obj2
		m.owner, m.count = t, max(t.condCount, 1)
		if timeout {
			o.waiters = slices.DeleteFunc(o.waiters, func(u *thread) bool { return u == t })
			t.cond = nil
			return int32(syscall.ETIMEDOUT), 0, text + ": timed out", nil
		}
	case pl.OpCondSignal, pl.OpCondBroadcast:
		n := len(o.waiters)
		if q.op == pl.OpCondSignal {
			n = min(n, 1)
		}
		for _, u := range o.waiters[:n] {
			u.cond = nil
		}
		text += fmt.Sprintf(": wakes %s", names(o.waiters[:n]))
		o.waiters = slices.Delete(o.waiters, 0, n)
		o.signallers = addOnce(o.signallers, t)
	case pl.OpSemWait:
		if timeout {
			return int32(syscall.ETIMEDOUT), 0, text + ": timed out", nil
		}
		o.value--
		o.takes.take(t)
	case pl.OpSemTrywait:
		if o.value <= 0 {
			return int32(syscall.EAGAIN), 0, text + ": EAGAIN", nil
		}
		o.value--
		o.takes.take(t)
	case pl.OpSemPost:
		o.value++
		o.posters = addOnce(o.posters, t)
		o.takes.post(t)
	case pl.OpRWRdlock, pl.OpRWTryrdlock:
		switch {
		case timeout:
			return int32(syscall.ETIMEDOUT), 0, text + ": timed out", nil
		case o.owner != nil:
			return int32(syscall.EBUSY), 0, text + ": EBUSY", nil
		}
		o.readers = append(o.readers, t)
	case pl.OpRWWrlock, pl.OpRWTrywrlock:
		switch {
		case timeout:
			return int32(syscall.ETIMEDOUT), 0, text + ": timed out", nil
		case o.owner != nil || len(o.readers) > 0:
			return int32(syscall.EBUSY), 0, text + ": EBUSY", nil
		}
		o.owner = t
	case pl.OpRWUnlock:
		if o.owner == t {
			o.owner = nil
		} else if i := slices.Index(o.readers, t); i >= 0 {
			o.readers = slices.Delete(o.readers, i, i+1)
		} else {
			return 0, 0, text, r.misuse(t, "%s unlocks read-write lock %s, which it does not hold", t.name, o.name)
		}
	case pl.OpWaitpid:
		if c := waitable(t.proc, int(q.arg)); c != nil {
			c.reaped = true
			text += " → " + c.name()
		}
	case pl.OpBarrierWait:
		if o.need <= 0 {
			return int32(syscall.EINVAL), 0, text + ": EINVAL (not initialized)", nil
		}
		o.arrived++
		if o.arrived >= o.need {
			o.arrived = 0
			o.gen++
			return 0, 1, text + fmt.Sprintf(": opens it (%d of %d)", o.need, o.need), nil
		}
		t.barrierGen = o.gen
		return 0, 0, text + fmt.Sprintf(": waits (%d of %d)", o.arrived, o.need), nil
	}
	return 0, 0, text, nil
}

// takes are a semaphore's units taken and not given back: each taken by a
// thread that has not posted one since (its first post gives back its
// first unit). A thread that only takes (a turn that another posts) keeps
// a queue that grows, but a post costs the same however long it is.
type takes struct {
	n  int64               // units taken so far: the number of the next
	by map[*thread][]int64 // each thread's units not given back, by number, oldest first
}

func (k *takes) take(t *thread) {
	if k.by == nil {
		k.by = map[*thread][]int64{}
	}
	k.by[t] = append(k.by[t], k.n)
	k.n++
}

func (k *takes) post(t *thread) {
	switch q := k.by[t]; len(q) {
	case 0:
	case 1:
		delete(k.by, t)
	default:
		k.by[t] = q[1:]
	}
}

// holders are the threads that hold a unit, by their oldest unit.
func (k *takes) holders() []*thread {
	out := make([]*thread, 0, len(k.by))
	for t := range k.by {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b *thread) int { return cmp.Compare(k.by[a][0], k.by[b][0]) })
	return out
}

// heldBy says who holds a mutex, for a misuse's message.
func heldBy(o *object) string {
	if o.owner == nil {
		return "nobody holds"
	}
	return o.owner.name + " holds"
}

func addOnce(ts []*thread, t *thread) []*thread {
	if slices.Contains(ts, t) {
		return ts
	}
	return append(ts, t)
}

func names(ts []*thread) string {
	if len(ts) == 0 {
		return "nobody"
	}
	s := ts[0].name
	for _, t := range ts[1:] {
		s += ", " + t.name
	}
	return s
}

// threadBySelf is the thread of p whose pthread_t is self.
func (r *Run) threadBySelf(p *process, self uint64) *thread {
	for _, t := range r.threads {
		if t != nil && t.proc == p && t.self == self {
			return t
		}
	}
	return nil
}

// waitReady says whether a waitpid(pid, options) of p returns without
// blocking: WNOHANG, a child it waits for has ended, or it has no such
// child pmrun knows of (the call then returns ECHILD, or blocks on a
// child pmrun did not see made, which the watchdog notices).
func (r *Run) waitReady(p *process, pid, options int) bool {
	if options&syscall.WNOHANG != 0 {
		return true
	}
	return waitable(p, pid) != nil || !hasChild(p, pid)
}

// waitable is the child a waitpid(pid) of p collects: the first made
// that has ended and is not collected yet (the kernel looks at children
// oldest first).
func waitable(p *process, pid int) *process {
	for _, c := range p.children {
		if (pid <= 0 || c.pid == pid) && c.exited && !c.reaped {
			return c
		}
	}
	return nil
}

func hasChild(p *process, pid int) bool {
	for _, c := range p.children {
		if (pid <= 0 || c.pid == pid) && !c.reaped {
			return true
		}
	}
	return false
}
