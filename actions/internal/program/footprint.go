package program

// ObjKind is the kind of a shared object.
type ObjKind uint8

// The kinds of objects a step may touch.
const (
	ObjVar ObjKind = iota + 1
	ObjSemaphore
	ObjMutex
	ObjCond
	ObjRegion
)

var objKindNames = [...]string{"", "var", "semaphore", "mutex", "cond", "region"}

// String is the kind as a word: var, semaphore, mutex, cond, region.
func (k ObjKind) String() string {
	if int(k) < len(objKindNames) {
		return objKindNames[k]
	}
	return "object?"
}

// Object is one shared object of a program: Index counts within its kind,
// in declaration order (region 0 is the region of a bare critical:).
type Object struct {
	Kind  ObjKind
	Index int
}

// Footprint is what a step reads and writes among the shared objects:
// a semaphore, mutex or condition operation writes its object, entering or
// leaving critical writes the region, a read of an expression reads its
// variables. Thread-local state is not in it. Two steps of different
// threads whose footprints do not [Footprint.Conflict] commute: taking them
// in either order gives the same state, and neither enables or disables
// the other. The slices are shared; do not modify them.
type Footprint struct {
	Reads, Writes []Object
}

// Conflict says whether the steps with footprints f and g are dependent:
// one writes an object the other reads or writes.
func (f Footprint) Conflict(g Footprint) bool {
	return overlaps(f.Writes, g.Writes) || overlaps(f.Writes, g.Reads) || overlaps(f.Reads, g.Writes)
}

// Empty says whether the step touches no shared object (yield, work, log
// without a variable, a finished thread).
func (f Footprint) Empty() bool { return len(f.Reads) == 0 && len(f.Writes) == 0 }

func overlaps(a, b []Object) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// readsOf is the footprint of reading the shared variables of es.
func readsOf(es ...*cexpr) []Object {
	var out []Object
	for _, e := range es {
		if e == nil {
			continue
		}
		for _, r := range e.refs {
			switch r.kind {
			case refVar:
				if o := (Object{Kind: ObjVar, Index: r.idx}); !contains(out, o) {
					out = append(out, o)
				}
			case refArray:
				for i := range r.n {
					if o := (Object{Kind: ObjVar, Index: r.idx + i}); !contains(out, o) {
						out = append(out, o)
					}
				}
			}
		}
	}
	return out
}

func contains(os []Object, o Object) bool {
	for _, x := range os {
		if x == o {
			return true
		}
	}
	return false
}
