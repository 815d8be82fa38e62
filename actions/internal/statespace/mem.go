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
// resident set, not a heap that may be twice its live size). Mappings of
// 2 MiB or more ask for transparent huge pages, so that a table of
// hundreds of megabytes costs fewer TLB misses.
type arena struct {
	mu   sync.Mutex
	maps map[*byte]int // start → length
	size int64
}

const hugePage = 2 << 20

// alloc maps n zeroed bytes. When the system refuses a mapping, it
// allocates them on Go's heap instead (where running out of memory is
// fatal, as for any allocation).
func (a *arena) alloc(n int) []byte {
	if n == 0 {
		return nil
	}
	b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS)
	if err != nil {
		return make([]byte, n)
	}
	if n >= hugePage {
		_ = syscall.Madvise(b, 14) // MADV_HUGEPAGE; a kernel without it is no worse off
	}
	a.mu.Lock()
	if a.maps == nil {
		a.maps = map[*byte]int{}
	}
	a.maps[&b[0]] = n
	a.size += int64(n)
	a.mu.Unlock()
	return b
}

// free unmaps b, which alloc returned.
func (a *arena) free(b []byte) {
	if len(b) == 0 {
		return
	}
	a.mu.Lock()
	n, ok := a.maps[&b[0]]
	delete(a.maps, &b[0])
	if ok {
		a.size -= int64(n)
	}
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

// allocOf maps n zeroed values of type T (which must hold no pointers).
func allocOf[T any](a *arena, n int) []T {
	var zero T
	b := a.alloc(n * int(unsafe.Sizeof(zero)))
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
	c := max(2*cap(s), len(s)+n, 1024)
	t := allocOf[T](a, c)[:len(s)]
	copy(t, s)
	if cap(s) > 0 {
		freeOf(a, s[:cap(s)])
	}
	return t
}
