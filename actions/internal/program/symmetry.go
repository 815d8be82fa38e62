package program

import (
	"slices"
	"sync"
)

// Symmetry returns a function that puts a state's words in a canonical
// form: among threads that are interchangeable, their parts of the state
// sorted, and every word that names one of them (a mutex's holder, the
// threads in a FIFO semaphore's or a condition's queue) renamed to match.
// Two states that differ only by a permutation of interchangeable threads
// then have the same canonical form, and a model checker that keeps only
// canonical states visits one state of each such class (a symmetry
// reduction).
//
// Threads are interchangeable when they run the same code (a thread
// declared with count, whose body does not read self and names no
// element by self; or threads declared apart whose bodies compile alike,
// wherever they are written): their steps depend on nothing that tells
// them apart, and the checks (invariants, expect) read shared variables
// only. The threads of a ring (found by ringOf) are interchangeable
// by rotation only: the canonical form is the least of a state's N
// rotations, each with its alike threads sorted, a rotation moving the
// ring's parts and the elements of the arrays it turns together (and
// the threads queued on them renamed). Symmetry returns nil when the
// program has neither, so that a search without symmetry pays nothing.
//
// The function is safe to call from several goroutines at once. If perm
// is not nil (of length len(Threads())), it is set to the permutation
// made: perm[i] is the thread of the state given whose part is thread
// i's in the canonical one. A step of thread perm[i] in the state given
// leads to a state whose canonical form is that of thread i's step in
// the canonical state.
func (p *Program) Symmetry() func(w []int64, perm []int) {
	groups := p.symmetricGroups()
	rg := p.findRing(groups)
	if len(groups) == 0 && rg == nil {
		return nil
	}
	n := len(p.threads)
	var turns []*turned
	if rg != nil {
		turns = p.turns(rg)
	}
	pool := sync.Pool{New: func() any {
		b := &symBuf{order: make([]int, n), newOf: make([]int, n), tmp: make([]int64, p.words)}
		if rg != nil {
			b.best, b.cand = make([]int64, p.words), make([]int64, p.words)
			b.bestOrder, b.turnOrder = make([]int, n), make([]int, n)
		}
		return b
	}}
	return func(w []int64, perm []int) {
		b := pool.Get().(*symBuf)
		defer pool.Put(b)
		if rg == nil {
			p.sortGroups(groups, w, b)
			if perm != nil {
				copy(perm, b.order)
			}
			return
		}
		// The least of the rotations, each with its groups sorted.
		copy(b.best, w)
		p.sortGroups(groups, b.best, b)
		copy(b.bestOrder, b.order)
		for _, tr := range turns {
			p.turn(tr, w, b.cand, b.turnOrder)
			p.sortGroups(groups, b.cand, b)
			if slices.Compare(b.cand, b.best) < 0 {
				b.best, b.cand = b.cand, b.best
				for i, t := range b.order {
					b.bestOrder[i] = b.turnOrder[t]
				}
			}
		}
		copy(w, b.best)
		if perm != nil {
			copy(perm, b.bestOrder)
		}
	}
}

// symBuf is the scratch of one canonical form at a time.
type symBuf struct {
	order, newOf []int
	tmp          []int64
	// With a ring: the least form so far and the one being made, and the
	// permutations that made them.
	best, cand           []int64
	bestOrder, turnOrder []int
}

// sortGroups sorts each group's threads' parts of w and renames the words
// that name them; b.order[i] is then the thread whose part became i's.
func (p *Program) sortGroups(groups [][]int, w []int64, b *symBuf) {
	for i := range b.order {
		b.order[i] = i
	}
	moved := false
	for _, g := range groups {
		size := tLocals + len(p.threads[g[0]].code.locals)
		part := func(t int) []int64 { b := p.threads[t].base; return w[b : b+size] }
		// Insertion sort of the group's threads by their parts (groups
		// are small; stable, so equal parts keep their order).
		idx := append(make([]int, 0, len(g)), g...)
		for i := 1; i < len(idx); i++ {
			for j := i; j > 0 && less(part(idx[j]), part(idx[j-1])); j-- {
				idx[j], idx[j-1] = idx[j-1], idx[j]
			}
		}
		same := true
		for k, t := range g {
			if idx[k] != t {
				same = false
			}
			b.order[t] = idx[k]
		}
		if same {
			continue
		}
		moved = true
		for k, t := range idx {
			copy(b.tmp[k*size:(k+1)*size], part(t))
		}
		for k, t := range g {
			copy(part(t), b.tmp[k*size:(k+1)*size])
		}
	}
	if !moved {
		return
	}
	for i, old := range b.order {
		b.newOf[old] = i
	}
	p.renameThreads(w, w, b.newOf)
}

// renameThreads writes into dst the words of src that name threads (a
// mutex's holder, the threads in a FIFO semaphore's or a condition's
// queue), each thread t renamed newOf[t]; dst may be src.
func (p *Program) renameThreads(dst, src []int64, newOf []int) {
	for m := range p.mutexes {
		if h := src[p.mutexBase+m]; h > 0 {
			dst[p.mutexBase+m] = int64(newOf[h-1]) + 1
		}
	}
	rename := func(q int) {
		for i := range int(src[q]) {
			dst[q+1+i] = int64(newOf[src[q+1+i]])
		}
	}
	for _, q := range p.semQueue {
		if q >= 0 {
			rename(q)
		}
	}
	for _, q := range p.condQueue {
		rename(q)
	}
}

// less orders two threads' parts of a state word by word.
func less(a, b []int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

// turned is a ring's rotation by some steps, as images: of each thread,
// and of each object of the kinds a state holds.
type turned struct {
	thread                     []int
	vars, sems, mutexes, conds []int
}

// turns are the ring's rotations by 1 … N-1 steps.
func (p *Program) turns(rg *ring) []*turned {
	n := len(rg.threads)
	images := func(count int, kind ObjKind, r int) []int {
		out := make([]int, count)
		for i := range out {
			o := Object{kind, i}
			for range r {
				o = rg.turn.of(o)
			}
			out[i] = o.Index
		}
		return out
	}
	var out []*turned
	for r := 1; r < n; r++ {
		tr := &turned{
			thread: make([]int, len(p.threads)),
			vars:   images(len(p.vars), ObjVar, r), sems: images(len(p.sems), ObjSemaphore, r),
			mutexes: images(len(p.mutexes), ObjMutex, r), conds: images(len(p.conds), ObjCond, r),
		}
		for t := range tr.thread {
			tr.thread[t] = t
		}
		for k, t := range rg.threads {
			tr.thread[t] = rg.threads[(k+r)%n]
		}
		out = append(out, tr)
	}
	return out
}

// turn writes into dst the state src rotated by tr; order[i] is then the
// thread of src whose part became thread i's.
func (p *Program) turn(tr *turned, src, dst []int64, order []int) {
	for v, to := range tr.vars {
		dst[to] = src[v]
	}
	for s, to := range tr.sems {
		dst[p.semBase+to] = src[p.semBase+s]
	}
	for m, to := range tr.mutexes {
		h := src[p.mutexBase+m]
		if h > 0 {
			h = int64(tr.thread[h-1]) + 1
		}
		dst[p.mutexBase+to] = h
	}
	queue := func(from, to int) {
		copy(dst[to:to+1+len(p.threads)], src[from:from+1+len(p.threads)])
		for i := range int(src[from]) {
			dst[to+1+i] = int64(tr.thread[src[from+1+i]])
		}
	}
	for s, q := range p.semQueue {
		if q >= 0 {
			queue(q, p.semQueue[tr.sems[s]])
		}
	}
	for c, q := range p.condQueue {
		queue(q, p.condQueue[tr.conds[c]])
	}
	for t, th := range p.threads {
		to := tr.thread[t]
		size := tLocals + len(th.code.locals)
		part := dst[p.threads[to].base : p.threads[to].base+size]
		copy(part, src[th.base:th.base+size])
		switch part[tStatus] {
		case stSemQueued:
			part[tObj] = int64(tr.sems[part[tObj]])
		case stCondWaiting:
			part[tObj] = int64(tr.conds[part[tObj]])
		}
		order[to] = t
	}
}
