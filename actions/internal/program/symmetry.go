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
// Threads are interchangeable when they run the same compiled code (a
// thread declared with count, whose body does not read self and names no
// element by self; or threads declared apart whose bodies compile to the
// same instructions from the same source positions, as a YAML alias
// gives): their steps depend on nothing that tells them apart, and the
// checks (invariants, expect) read shared variables only. Symmetry
// returns nil when no two threads are.
//
// The function is safe to call from several goroutines at once. If perm
// is not nil (of length len(Threads())), it is set to the permutation
// made: perm[i] is the thread of the state given whose part is thread
// i's in the canonical one. A step of thread perm[i] in the state given
// leads to a state whose canonical form is that of thread i's step in
// the canonical state.
func (p *Program) Symmetry() func(w []int64, perm []int) {
	groups := p.symmetricGroups()
	if len(groups) == 0 {
		return nil
	}
	n := len(p.threads)
	type buf struct {
		order, newOf []int
		tmp          []int64
	}
	pool := sync.Pool{New: func() any {
		return &buf{order: make([]int, n), newOf: make([]int, n), tmp: make([]int64, p.words)}
	}}
	return func(w []int64, perm []int) {
		b := pool.Get().(*buf)
		defer pool.Put(b)
		for i := range b.order {
			b.order[i] = i
		}
		moved := false
		for _, g := range groups {
			size := tLocals + len(p.threads[g[0]].code.locals)
			part := func(t int) []int64 { b := p.threads[t].base; return w[b : b+size] }
			// Insertion sort of the group's threads by their parts
			// (groups are small; stable, so equal parts keep their order).
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
		if perm != nil {
			copy(perm, b.order)
		}
		if !moved {
			return
		}
		for i, old := range b.order {
			b.newOf[old] = i
		}
		for m := range p.mutexes {
			if h := w[p.mutexBase+m]; h > 0 {
				w[p.mutexBase+m] = int64(b.newOf[h-1]) + 1
			}
		}
		rename := func(q int) {
			for i := range int(w[q]) {
				w[q+1+i] = int64(b.newOf[w[q+1+i]])
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

// symmetricGroups is the sets of two or more threads that run the same
// code (shared, or compiled alike from the same text at the same place:
// a YAML alias), whose code does not read self.
func (p *Program) symmetricGroups() [][]int {
	var groups [][]int
next:
	for t, th := range p.threads {
		for i, g := range groups {
			if c := p.threads[g[0]].code; c == th.code || sameCode(c, th.code) {
				groups[i] = append(groups[i], t)
				continue next
			}
		}
		groups = append(groups, []int{t})
	}
	out := groups[:0]
	for _, g := range groups {
		if len(g) > 1 && !readsSelf(p.threads[g[0]].code) {
			out = append(out, g)
		}
	}
	return out
}

// readsSelf says whether any expression of c reads self.
func readsSelf(c *code) bool {
	reads := func(e *cexpr) bool {
		if e == nil {
			return false
		}
		for _, r := range e.refs {
			if r.kind == refSelf {
				return true
			}
		}
		return false
	}
	for _, in := range c.instrs {
		if reads(in.e) {
			return true
		}
		for _, l := range in.log {
			if reads(l.e) {
				return true
			}
		}
	}
	return false
}

// sameCode says whether a and b are the same instructions, from the same
// source positions, on the same objects and locals.
func sameCode(a, b *code) bool {
	if len(a.instrs) != len(b.instrs) || !slices.Equal(a.locals, b.locals) || !slices.Equal(a.regions, b.regions) {
		return false
	}
	sameExpr := func(x, y *cexpr) bool {
		return x == nil && y == nil || x != nil && y != nil && x.src == y.src && x.pos == y.pos && slices.Equal(x.refs, y.refs)
	}
	for i := range a.instrs {
		x, y := &a.instrs[i], &b.instrs[i]
		if x.kind != y.kind || x.op != y.op || x.phase != y.phase || x.pos != y.pos || x.text != y.text ||
			x.visible != y.visible || x.obj != y.obj || x.obj2 != y.obj2 || x.slot != y.slot || x.jump != y.jump ||
			x.work != y.work || !sameExpr(x.e, y.e) || len(x.log) != len(y.log) ||
			!slices.Equal(x.fp.Reads, y.fp.Reads) || !slices.Equal(x.fp.Writes, y.fp.Writes) {
			return false
		}
		for j := range x.log {
			if x.log[j].text != y.log[j].text || !sameExpr(x.log[j].e, y.log[j].e) {
				return false
			}
		}
	}
	return true
}
