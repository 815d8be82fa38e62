package program

import (
	"reflect"
	"slices"

	"github.com/expr-lang/expr/ast"
)

// This file finds a program's symmetries when it loads; symmetry.go
// puts states in the canonical form they allow. Both kinds are found
// conservatively: what the comparison below cannot show to be alike is
// taken for different, and a program then has fewer symmetries or none
// (a search without a reduction, never a wrong one).

// renaming maps a program's objects to objects of the same kinds: the
// elements of arrays a ring of threads turns (see [Program.ring]); nil
// is the identity.
type renaming map[Object]Object

func (m renaming) of(o Object) Object {
	if to, ok := m[o]; ok {
		return to
	}
	return o
}

func (m renaming) index(k ObjKind, i int) int { return m.of(Object{k, i}).Index }

// symmetricGroups is the sets of two or more threads that run the same
// code (shared, or compiled alike: a YAML alias, or a body written out
// twice), whose code does not read self.
func (p *Program) symmetricGroups() [][]int {
	var groups [][]int
next:
	for t, th := range p.threads {
		for i, g := range groups {
			if c := p.threads[g[0]].code; c == th.code || p.sameCode(c, th.code, nil) {
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
		return e != nil && slices.ContainsFunc(e.refs, func(r ref) bool { return r.kind == refSelf })
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

// objKinds says, for each kind of instruction, what its obj and obj2
// name (0: a number that is not an object).
var objKinds = map[ikind][2]ObjKind{
	iWait: {ObjSemaphore}, iSignal: {ObjSemaphore},
	iLock: {ObjMutex}, iUnlock: {ObjMutex},
	iCondRelease: {ObjCond, ObjMutex}, iCondReacquire: {ObjCond, ObjMutex},
	iCondSignal: {ObjCond}, iCondBroadcast: {ObjCond},
	iEnter: {ObjRegion}, iLeave: {ObjRegion},
	iRead: {ObjVar}, iWriteTemp: {ObjVar}, iAssign: {ObjVar},
}

// sameCode says whether b is a's code with a's objects renamed by m:
// the same instructions on the renamed objects, whatever their source
// positions and texts (which only a display reads), and expressions of
// the same syntax reading the renamed variables.
func (p *Program) sameCode(a, b *code, m renaming) bool {
	if len(a.instrs) != len(b.instrs) || !slices.Equal(a.locals, b.locals) || len(a.regions) != len(b.regions) {
		return false
	}
	for i, x := range a.regions {
		y := b.regions[i]
		if m.index(ObjRegion, x.region) != y.region || x.from != y.from || x.to != y.to {
			return false
		}
	}
	for i := range a.instrs {
		x, y := &a.instrs[i], &b.instrs[i]
		k := objKinds[x.kind]
		obj := func(kind ObjKind, i int) int {
			if kind == 0 {
				return i
			}
			return m.index(kind, i)
		}
		if x.kind != y.kind || x.op != y.op || x.phase != y.phase || x.visible != y.visible ||
			obj(k[0], x.obj) != y.obj || obj(k[1], x.obj2) != y.obj2 || x.slot != y.slot || x.jump != y.jump ||
			x.work != y.work || !p.sameExpr(x.e, y.e, m) || len(x.log) != len(y.log) ||
			!sameObjects(x.fp.Reads, y.fp.Reads, m) || !sameObjects(x.fp.Writes, y.fp.Writes, m) {
			return false
		}
		for j := range x.log {
			if x.log[j].text != y.log[j].text || !p.sameExpr(x.log[j].e, y.log[j].e, m) {
				return false
			}
		}
	}
	return true
}

// sameObjects says whether ys is xs renamed by m, in any order.
func sameObjects(xs, ys []Object, m renaming) bool {
	if len(xs) != len(ys) {
		return false
	}
	for _, o := range xs {
		if !slices.Contains(ys, m.of(o)) {
			return false
		}
	}
	return true
}

// sameExpr says whether y is x with the variables it reads renamed by m:
// the same syntax tree once compiled (numbers an index or a procedure's
// parameter gave at load included), node by node, a name standing for
// the renamed variable. An expression that reads self, or a whole array
// m turns, is alike under the identity only.
func (p *Program) sameExpr(x, y *cexpr, m renaming) bool {
	if x == nil || y == nil {
		return x == y
	}
	if x.isBool != y.isBool || x.shared != y.shared || x.konst != y.konst || x.kval != y.kval || len(x.refs) != len(y.refs) {
		return false
	}
	refOf := func(e *cexpr, name string) (ref, bool) {
		i := slices.IndexFunc(e.refs, func(r ref) bool { return r.name == name })
		if i < 0 {
			return ref{}, false
		}
		return e.refs[i], true
	}
	sameRef := func(r, s ref) bool {
		if r.kind != s.kind || r.isBool != s.isBool || r.n != s.n {
			return false
		}
		switch r.kind {
		case refSelf:
			return m == nil
		case refArray:
			for i := range r.n {
				if m.index(ObjVar, r.idx+i) != r.idx+i {
					return false // an array the renaming turns
				}
			}
			return r.idx == s.idx && r.name == s.name
		case refVar:
			// An element's name follows its index; a variable's or a
			// parameter's name must be the same.
			elements := r.name == p.vars[r.idx].Name && s.name == p.vars[s.idx].Name
			return m.index(ObjVar, r.idx) == s.idx && (r.name == s.name || elements)
		}
		return r.idx == s.idx && r.name == s.name
	}
	xs, ys := nodesOf(x.prog.Node()), nodesOf(y.prog.Node())
	if len(xs) != len(ys) {
		return false
	}
	for i, xn := range xs {
		yn := ys[i]
		xid, isID := xn.(*ast.IdentifierNode)
		if yid, ok := yn.(*ast.IdentifierNode); isID && ok {
			r, xref := refOf(x, xid.Value)
			s, yref := refOf(y, yid.Value)
			if xref != yref || xref && !sameRef(r, s) || !xref && xid.Value != yid.Value {
				return false
			}
			continue
		}
		if !shallowEqual(xn, yn) {
			return false
		}
	}
	return true
}

// nodesOf lists a syntax tree's nodes in the order ast.Walk visits them
// (children first).
func nodesOf(n ast.Node) []ast.Node {
	var out []ast.Node
	ast.Walk(&n, visitor(func(n ast.Node) { out = append(out, n) }))
	return out
}

// shallowEqual says whether two nodes are of one type with the same
// fields besides their children (which nodesOf lists apart), and the
// same number of children in each place: with the order of nodesOf, the
// same tree. Position and type information are not compared. A node
// whose fields it cannot compare is taken for different.
func shallowEqual(a, b ast.Node) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() || va.Kind() != reflect.Pointer || va.Elem().Kind() != reflect.Struct {
		return false
	}
	if bn, ok := a.(*ast.BuiltinNode); ok && bn.Map != nil {
		return false // a fold of the optimizer's, which ast.Walk does not visit
	}
	va, vb = va.Elem(), vb.Elem()
	nodeType := reflect.TypeFor[ast.Node]()
	for i := range va.NumField() {
		f := va.Type().Field(i)
		if f.Anonymous {
			continue // the position and the type
		}
		if !f.IsExported() {
			return false
		}
		fa, fb := va.Field(i), vb.Field(i)
		switch {
		case f.Type == nodeType:
			if fa.IsNil() != fb.IsNil() {
				return false
			}
		case f.Type.Kind() == reflect.Slice && f.Type.Elem() == nodeType:
			if fa.Len() != fb.Len() {
				return false
			}
		case f.Type.Kind() == reflect.Func:
			return false
		default:
			if !reflect.DeepEqual(fa.Interface(), fb.Interface()) {
				return false
			}
		}
	}
	return true
}

// ring is the threads of one count: N declaration that a rotation maps
// each to the next, threads[k] the one whose self is k: thread k's code
// is thread k-1's with each element a[j] of the arrays the ring turns
// renamed a[(j+1) % N] (philosopher k takes fork[k] and fork[(k+1) %
// N]). The rotation renames nothing else that a step or a check reads,
// so it maps each state to one that behaves alike, thread k's step to
// thread k+1's (rotational symmetry).
type ring struct {
	threads []int
	turn    renaming // a[j] → a[(j+1) % N] for each array turned
}

// findRing returns a ring of threads outside the groups (of
// symmetricGroups), or nil. Only the first declaration that makes one is
// taken: a symmetry of the program still, if not all of them.
func (p *Program) findRing(groups [][]int) *ring {
	grouped := make([]bool, len(p.threads))
	for _, g := range groups {
		for _, t := range g {
			grouped[t] = true
		}
	}
	first := 0
	for _, d := range p.def.Threads {
		if d.Count < 2 {
			first++
			continue
		}
		ts := make([]int, d.Count)
		for k := range ts {
			ts[k] = first + k
		}
		first += d.Count
		if slices.ContainsFunc(ts, func(t int) bool { return grouped[t] }) {
			continue
		}
		if r := p.ringOf(ts); r != nil {
			return r
		}
	}
	return nil
}

// ringOf returns the ring of threads ts (self 0 … N-1), or nil when the
// comparison cannot show that one rotation maps their code, and fixes
// every other thread's and every check.
func (p *Program) ringOf(ts []int) *ring {
	n := len(ts)
	named := p.objectsOf(p.threads[ts[0]].code)
	turn := renaming{}
	for _, a := range p.def.Arrays {
		if a.Count != n {
			continue
		}
		first, ok := p.objectIndex(a.Kind, elementName(a.Name, 0))
		if !ok || !slices.ContainsFunc(named, func(o Object) bool { return o.Kind == a.Kind && o.Index >= first && o.Index < first+n }) {
			continue
		}
		for j := range n {
			if !p.sameDecl(a.Kind, first, first+j) {
				return nil
			}
			turn[Object{a.Kind, first + j}] = Object{a.Kind, first + (j+1)%n}
		}
	}
	if len(turn) == 0 {
		return nil
	}
	for k, t := range ts {
		if !p.sameCode(p.threads[t].code, p.threads[ts[(k+1)%n]].code, turn) {
			return nil
		}
	}
	for t := range p.threads {
		if !slices.Contains(ts, t) && !p.sameCode(p.threads[t].code, p.threads[t].code, turn) {
			return nil
		}
	}
	for _, e := range append(slices.Clone(p.invariants), p.expect) {
		if !p.sameExpr(e, e, turn) {
			return nil
		}
	}
	return &ring{threads: ts, turn: turn}
}

// objectsOf is the objects code names: its instructions' objects, what
// its steps read and write, its regions.
func (p *Program) objectsOf(c *code) []Object {
	var out []Object
	add := func(o Object) {
		if !slices.Contains(out, o) {
			out = append(out, o)
		}
	}
	for _, in := range c.instrs {
		k := objKinds[in.kind]
		for i, obj := range []int{in.obj, in.obj2} {
			if k[i] != 0 {
				add(Object{k[i], obj})
			}
		}
		for _, o := range in.fp.Reads {
			add(o)
		}
		for _, o := range in.fp.Writes {
			add(o)
		}
		es := []*cexpr{in.e}
		for _, l := range in.log {
			es = append(es, l.e)
		}
		for _, o := range readsOf(es...) {
			add(o)
		}
	}
	for _, sp := range c.regions {
		add(Object{ObjRegion, sp.region})
	}
	return out
}

// objectIndex finds the object of kind called name.
func (p *Program) objectIndex(kind ObjKind, name string) (int, bool) {
	var i int
	switch kind {
	case ObjVar:
		i = slices.IndexFunc(p.vars, func(v varInfo) bool { return v.Name == name })
	case ObjSemaphore:
		i = slices.IndexFunc(p.sems, func(s semInfo) bool { return s.Name == name })
	case ObjMutex:
		i = slices.IndexFunc(p.mutexes, func(d Decl) bool { return d.Name == name })
	case ObjCond:
		i = slices.IndexFunc(p.conds, func(d Decl) bool { return d.Name == name })
	case ObjRegion:
		i = slices.IndexFunc(p.regions, func(r RegionDecl) bool { return r.Name == name })
	default:
		return 0, false
	}
	return i, i >= 0
}

// sameDecl says whether objects i and j of kind behave alike: the same
// type, FIFO order, max, capacity. Their initial values may differ (a
// token that starts at thread 0): a rotation that maps every step to a
// step and keeps every check maps the states reachable from the start
// to those reachable from the start rotated, and the search keeps one
// of each class whichever it meets first.
func (p *Program) sameDecl(kind ObjKind, i, j int) bool {
	switch kind {
	case ObjVar:
		return p.vars[i].isBool == p.vars[j].isBool
	case ObjSemaphore:
		a, b := p.sems[i], p.sems[j]
		return a.fifo == b.fifo && a.max == b.max
	case ObjRegion:
		return p.regions[i].Capacity == p.regions[j].Capacity
	}
	return kind == ObjMutex || kind == ObjCond
}
