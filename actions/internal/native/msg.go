package native

import (
	"fmt"
	"os"
	"strconv"

	pl "github.com/pmrun/pmrun/actions/internal/preload"
)

// drain reads every request the threads have written since the last
// look: notes are answered at once, points make their thread wait to be
// chosen. Then it marks the threads of the processes that have ended.
func (r *Run) drain() {
	n := r.blk.Allocated()
	for i := range n {
		s := r.blk.Slot(i)
		seq := s.LoadSeq()
		t := r.slotThread(i, s)
		// A thread's requests are numbered one after another, and it
		// waits for each answer (but for its end, the last): anything
		// else is a slot not written yet (a new thread that has not
		// stored its start's number).
		if t == nil || seq != t.seq+1 {
			continue
		}
		t.seq = seq
		r.message(t, s, seq)
	}
	r.reapEnded()
}

// slotThread is the thread of slot i; a slot a thread took for itself
// (the program's first thread, or a process started in a way pmrun did
// not see) becomes a thread here, once it has written its request.
func (r *Run) slotThread(i int, s *pl.Slot) *thread {
	for len(r.threads) <= i {
		r.threads = append(r.threads, nil)
	}
	if t := r.threads[i]; t != nil {
		return t
	}
	if s.LoadSeq() == 0 {
		return nil // claimed, not written yet
	}
	pid := int(s.PID)
	p := r.byPid[pid]
	if p == nil {
		p = r.addProcess(pid, nil)
		r.notef("process %d joined without a fork pmrun saw (posix_spawn, system or vfork?): when it started is not under pmrun's control", pid)
	}
	t := &thread{idx: i, proc: p, tid: int(s.TID), self: s.Self, state: tNew}
	if p.main == nil {
		p.main = t
		t.name = r.processName(p)
	} else {
		t.name = r.uniqueName("thread")
		r.notef("thread %d of process %d joined without a pthread_create pmrun saw", t.tid, pid)
	}
	r.threads[i] = t
	return t
}

// message handles request seq of t.
func (r *Run) message(t *thread, s *pl.Slot, seq uint32) {
	op := int(s.Op)
	if t.tid == 0 {
		t.tid, t.self = int(s.TID), s.Self
	}
	switch {
	case op == pl.OpEnd:
		r.ended(t)
	case op <= pl.LastNote:
		arg := r.note(t, s)
		s.Answer(seq, 0, arg)
	default:
		t.req = r.request(t, s)
		if t.state == tFree {
			r.notef("%s came back to pmrun's control at %s", t.name, r.opText(t))
		}
		if op == pl.OpStart && t.state == tNew {
			t.proc.bias = uint64(s.Arg)
			r.loadImage(t.proc)
			return // its start is its first step
		}
		t.state = tParked
		if r.running == t {
			r.running = nil
		}
		r.lastAsker = t
	}
}

// ended marks t finished.
func (r *Run) ended(t *thread) {
	t.state = tDone
	if r.running == t {
		r.running = nil
	}
}

// note handles a note of t and returns the reply's argument.
func (r *Run) note(t *thread, s *pl.Slot) int64 {
	p := t.proc
	switch int(s.Op) {
	case pl.OpExec:
		for _, u := range r.threads {
			if u != nil && u.proc == p && u != t {
				r.ended(u)
			}
		}
		p.bias, p.objs = uint64(s.Arg), map[uint64]*object{}
		r.loadImage(p)
	case pl.OpForked:
		c := t.forked
		t.forked = nil
		if c == nil {
			break
		}
		if s.Arg < 0 {
			c.proc.exited, c.proc.reaped = true, true
			r.ended(c)
			break
		}
		r.bindProcess(c.proc, int(s.Arg))
	case pl.OpCreated:
		i := int(s.Arg2)
		if i < 0 || i >= len(r.threads) || r.threads[i] == nil {
			break
		}
		if u := r.threads[i]; s.Arg != 0 {
			r.ended(u)
		} else {
			u.self = s.Obj
		}
	case pl.OpInit:
		o := r.object(p, s.Obj, int(s.Arg2), s.Flags, true)
		switch o.kind {
		case pl.KindSem:
			o.value = s.Arg
		case pl.KindBarrier:
			o.need = int(s.Arg)
		case pl.KindMutex:
			o.mtype = int(s.Arg)
		}
	case pl.OpDestroy:
		if s.Obj == 0 {
			delete(r.objs, objKey{name: s.TextString()})
		} else {
			delete(p.objs, s.Obj)
		}
	case pl.OpSemOpen:
		name := s.TextString()
		k := objKey{name: name}
		o := r.objs[k]
		if o == nil {
			o = &object{kind: pl.KindSem, name: name, shared: true, value: s.Arg}
			r.objs[k] = o
		}
		p.objs[s.Obj] = o
	case pl.OpSemClose:
		delete(p.objs, s.Obj)
	case pl.OpAssert:
		r.assert = &assertNote{thread: t, text: s.TextString(), site: s.Site}
	case pl.OpSetName:
		u := r.threadBySelf(p, s.Obj)
		if u == nil {
			u = t
		}
		if name := s.TextString(); name != "" && name != u.name {
			u.name = r.uniqueName(name)
		}
	}
	return 0
}

// request reads the point t waits at.
func (r *Run) request(t *thread, s *pl.Slot) request {
	q := request{op: int(s.Op), flags: s.Flags, addr: s.Obj, arg: s.Arg, arg2: s.Arg2, site: s.Site}
	p := t.proc
	switch kind := opKind(q.op); {
	case kind != 0:
		q.obj = r.object(p, s.Obj, kind, s.Flags, false)
		switch q.op {
		case pl.OpMutexLock, pl.OpMutexTrylock, pl.OpMutexUnlock:
			if q.obj.owner == nil && q.obj.mtype == 0 {
				q.obj.mtype = int(s.Arg)
			}
		case pl.OpSemWait, pl.OpSemTrywait, pl.OpSemPost:
			if q.obj.value != s.Arg {
				r.notef("semaphore %s has value %d where pmrun counted %d: something outside pmrun's control changed it", q.obj.name, s.Arg, q.obj.value)
				q.obj.value = s.Arg
			}
		}
	}
	if q.op == pl.OpCondWait || q.op == pl.OpCondReacq {
		q.obj2 = r.object(p, s.Obj2, pl.KindMutex, s.Flags, false)
	}
	if q.op == pl.OpPoint {
		q.text = s.TextString()
	}
	return q
}

// opKind is the kind of object an operation works on, 0 for none.
func opKind(op int) int {
	switch op {
	case pl.OpMutexLock, pl.OpMutexTrylock, pl.OpMutexUnlock:
		return pl.KindMutex
	case pl.OpCondWait, pl.OpCondReacq, pl.OpCondSignal, pl.OpCondBroadcast:
		return pl.KindCond
	case pl.OpSemWait, pl.OpSemTrywait, pl.OpSemPost:
		return pl.KindSem
	case pl.OpRWRdlock, pl.OpRWWrlock, pl.OpRWTryrdlock, pl.OpRWTrywrlock, pl.OpRWUnlock:
		return pl.KindRWLock
	case pl.OpSpinLock, pl.OpSpinTrylock, pl.OpSpinUnlock:
		return pl.KindSpin
	case pl.OpBarrierWait, pl.OpBarrierLeave:
		return pl.KindBarrier
	}
	return 0
}

// objKey names an object across the program's processes: a private one
// by its process and address; a process-shared one by the file its
// memory maps (device, inode, offset: the same in every process that maps
// it, at whatever address); a named semaphore by its name.
type objKey struct {
	dev, ino, off uint64
	proc          int
	name          string
}

// object returns the object at addr in p, made when first seen (or made
// anew when fresh: an init).
func (r *Run) object(p *process, addr uint64, kind int, flags uint32, fresh bool) *object {
	if o := p.objs[addr]; o != nil && !fresh {
		return o
	}
	k := objKey{proc: p.idx + 1, off: addr}
	shared := flags&pl.FlagShared != 0
	if shared {
		if dev, ino, off, ok := sharedKey(p.pid, addr); ok {
			k = objKey{dev: dev, ino: ino, off: off}
		}
	}
	o := r.objs[k]
	if o == nil || fresh {
		o = &object{kind: kind, name: r.objectName(p, addr, kind), shared: shared}
		if o2 := r.objs[k]; o2 != nil {
			o.name = o2.name // initialized again: the same object for a person
		}
		r.objs[k] = o
	}
	p.objs[addr] = o
	return o
}

// processName names a process's first thread: main for the program's,
// child1, child2, … for the processes it forks, in order.
func (r *Run) processName(p *process) string {
	if p.idx == 0 {
		return "main"
	}
	return r.uniqueName("child")
}

// uniqueName is base followed by the next number for it (worker1,
// worker2), or base itself when it ends in a digit and is free.
func (r *Run) uniqueName(base string) string {
	for {
		r.nameCount[base]++
		name := base + strconv.Itoa(r.nameCount[base])
		if !r.nameTaken(name) {
			return name
		}
	}
}

func (r *Run) nameTaken(name string) bool {
	for _, t := range r.threads {
		if t != nil && t.name == name {
			return true
		}
	}
	return false
}

func (p *process) name() string {
	if p.main != nil {
		return p.main.name
	}
	return fmt.Sprintf("process %d", p.pid)
}

// loadImage reads p's binary (names and lines), once per binary.
func (r *Run) loadImage(p *process) {
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.pid))
	if err != nil {
		return
	}
	p.bin = loadBinary(exe)
}
