package statespace

import (
	"sync"
	"syscall"
	"unsafe"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // mmap, madvise: Linux only
)

// The search's large arrays (the table, the graph's pages, the vectors'
// and the records' pages, the analysis's arrays) live outside Go's heap,
// in anonymous mappings it frees itself: the garbage collector has
// nothing to scan in them, a grown table's old slots go back to the
// system at once instead of at the next collection, and the memory a
// search takes is what it counts (Options.MaxBytes bounds the process's
// resident set, not a heap that may be twice its live size). The table,
// once it takes 2 MiB or more, asks for transparent huge pages, so that a
// table of hundreds of megabytes costs fewer TLB misses. Arrays under
// 4 MiB come from Go's heap: a mapping costs system calls, and unmapping
// one interrupts every CPU the process runs on, which a small search
// would pay for nothing.
type arena struct {
	mu   sync.Mutex
	maps map[*byte]int // start → length
	size int64
}

const (
	hugePage   = 2 << 20
	mapAtLeast = 4 << 20
)

// alloc returns n zeroed bytes, mapped when there are 4 MiB or more (with
// huge pages when huge and 2 MiB or more). When the system refuses a
// mapping, it allocates them on Go's heap instead (where running out of
// memory is fatal, as for any allocation).
func (a *arena) alloc(n int, huge bool) []byte {
	if n == 0 {
		return nil
	}
	a.mu.Lock()
	a.size += int64(n)
	a.mu.Unlock()
	if n < mapAtLeast {
		return make([]byte, n)
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, n)
	}
	if huge && n >= hugePage {
		_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE; a kernel without it is no worse off
	}
	a.mu.Lock()
	if a.maps == nil {
		a.maps = map[*byte]int{}
	}
	a.maps[&b[0]] = n
	a.mu.Unlock()
	return b
}

// free gives back b, which alloc returned: unmapped, or left to the
// collector.
func (a *arena) free(b []byte) {
	if len(b) == 0 {
		return
	}
	a.mu.Lock()
	n, ok := a.maps[&b[0]]
	delete(a.maps, &b[0])
	if !ok {
		n = len(b)
	}
	a.size -= int64(n)
	a.mu.Unlock()
	if ok {
		_ = syscall.Munmap(b[:n:n])
	}
}

// release unmaps everything the arena holds.
func (a *arena) release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p, n := range a.maps {
		_ = syscall.Munmap(unsafe.Slice(p, n))
	}
	a.maps, a.size = nil, 0
}

// bytes is what the arena holds.
func (a *arena) bytes() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.size
}

// allocOf returns n zeroed values of type T (which must hold no
// pointers), mapped as alloc says.
func allocOf[T any](a *arena, n int) []T { return allocHuge[T](a, n, false) }

// allocHuge is allocOf, with huge pages when huge.
func allocHuge[T any](a *arena, n int, huge bool) []T {
	var zero T
	b := a.alloc(n*int(unsafe.Sizeof(zero)), huge)
	if b == nil {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), n)
}

// freeOf unmaps values allocOf returned.
func freeOf[T any](a *arena, s []T) {
	if len(s) == 0 {
		return
	}
	var zero T
	a.free(unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(zero))))
}

// grown returns s with room for n more values, reallocated in a (twice
// as large, at least) when it has none: an append for slices kept in an
// arena, whose old array goes back to the system at once.
func grown[T any](a *arena, s []T, n int) []T {
	if len(s)+n <= cap(s) {
		return s
	}
	c := max(2*cap(s), len(s)+n, 64)
	t := allocOf[T](a, c)[:len(s)]
	copy(t, s)
	if cap(s) > 0 {
		freeOf(a, s[:cap(s)])
	}
	return t
}
