package statespace

// u32s is a growing array of uint32 in pages, so that growing it never
// copies what it holds (a slice that doubles would, for a moment, take
// three times its size). One writer appends; readers read what was
// appended before they started.
type u32s struct {
	mem   *arena
	pages [][]uint32
	n     int
}

const u32PageBits = 14

func (a *u32s) len() int { return a.n }

func (a *u32s) at(i int) uint32 { return a.pages[i>>u32PageBits][i&(1<<u32PageBits-1)] }

func (a *u32s) setAt(i int, v uint32) { a.pages[i>>u32PageBits][i&(1<<u32PageBits-1)] = v }

func (a *u32s) push(v uint32) {
	if a.n>>u32PageBits == len(a.pages) {
		a.pages = append(a.pages, allocOf[uint32](a.mem, 1<<u32PageBits))
	}
	a.pages[a.n>>u32PageBits][a.n&(1<<u32PageBits-1)] = v
	a.n++
}

func (a *u32s) bytes() int64 { return int64(len(a.pages)) << u32PageBits * 4 }

// bitset is a set of state numbers.
type bitset []uint64

// newBitset is a set for numbers below n, in mem.
func newBitset(mem *arena, n int) bitset { return allocOf[uint64](mem, (n+63)/64) }

// has says whether i is in the set; past its end, it is not.
func (b bitset) has(i int) bool { return i>>6 < len(b) && b[i>>6]&(1<<(i&63)) != 0 }

func (b bitset) add(i int) { b[i>>6] |= 1 << (i & 63) }

// grow makes room for n members.
func (b *bitset) grow(n int) {
	for len(*b) < (n+63)/64 {
		*b = append(*b, 0)
	}
}

func (b bitset) bytes() int64 { return int64(cap(b)) * 8 }
