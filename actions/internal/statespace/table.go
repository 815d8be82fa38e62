package statespace

import (
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
)

// table is the visited set: an open-addressing hash table of 64-bit
// fingerprints (see hash.go), each with a 32-bit value: the state's number
// plus one (0: being written). Slots go in pairs, two keys then their two
// values (24 bytes, so 12 a slot, the keys aligned for atomics, a pair
// within one cache line most of the time). Linear probing from the
// fingerprint scaled to the table's size (the top bits of fingerprint ×
// size), so that a larger table keeps the order of the slots, growing it
// moves memory mostly in sequence, and it can grow by half rather than
// double: while it grows, the old and the new table are there together,
// and that moment is the search's peak. Fingerprint 0 marks an empty
// slot. Workers insert concurrently with a compare-and-swap on the key; a
// resize stops them (they hold the read side of mu while they use the
// table, the resize the write side).
type table struct {
	mem   *arena
	mu    sync.RWMutex
	pairs []pair
	n     uint64 // slots: 2·len(pairs)
	count atomic.Int64
	limit int64 // count past which the table grows
}

// pair is two slots.
type pair struct {
	key [2]uint64
	val [2]uint32
}

// tableLoad is the fill past which a table grows (out of 16).
const tableLoad = 11

// slotBytes is what one slot takes.
const slotBytes = 12

// newTable returns a table that holds capacity keys before it grows.
func newTable(mem *arena, capacity int) *table {
	n := 1 << 10
	for n*tableLoad/16 < capacity {
		n *= 2
	}
	t := &table{mem: mem}
	t.alloc(n)
	return t
}

// alloc makes the table's slots, n of them (even), all empty.
func (t *table) alloc(n int) {
	t.pairs = allocHuge[pair](t.mem, n/2, true)
	t.n = uint64(n)
	t.limit = int64(n) * tableLoad / 16
}

func (t *table) bytes() int64 { return int64(t.n) * slotBytes }

func (t *table) key(i uint64) *uint64 { return &t.pairs[i>>1].key[i&1] }
func (t *table) val(i uint64) *uint32 { return &t.pairs[i>>1].val[i&1] }

// home is where probing for key starts: key scaled to the table's size.
func (t *table) home(key uint64) uint64 {
	hi, _ := bits.Mul64(key, t.n)
	return hi
}

// after is the slot after i.
func (t *table) after(i uint64) uint64 {
	if i++; i == t.n {
		return 0
	}
	return i
}

// touch reads key's first slot, so that it is in the cache when needed.
func (t *table) touch(key uint64) uint64 { return atomic.LoadUint64(t.key(t.home(key))) }

// find returns key's value (its state's number plus one), 0 if absent.
// The caller holds mu's read side.
func (t *table) find(key uint64) uint32 {
	for i := t.home(key); ; i = t.after(i) {
		k := atomic.LoadUint64(t.key(i))
		if k == 0 {
			return 0
		}
		if k == key {
			return t.wait(i)
		}
	}
}

// wait reads the value of slot i, which another worker may still be
// writing. It spins a little, then yields: on a busy machine the writer
// may have lost its CPU between its claim and its publish.
func (t *table) wait(i uint64) uint32 {
	for spin := 0; ; spin++ {
		if v := atomic.LoadUint32(t.val(i)); v != 0 {
			return v
		}
		if spin >= 64 {
			runtime.Gosched()
		}
	}
}

// claim adds key unless it is there. When it was there it returns its
// value (the state's number plus one) and added false; when this call
// added it, the caller must then [table.publish] its value at slot, and
// count it (count.Add, in batches). The caller holds mu's read side.
func (t *table) claim(key uint64) (slot uint64, val uint32, added bool) {
	for i := t.home(key); ; i = t.after(i) {
		k := atomic.LoadUint64(t.key(i))
		if k == 0 {
			if atomic.CompareAndSwapUint64(t.key(i), 0, key) {
				return i, 0, true
			}
			k = atomic.LoadUint64(t.key(i))
		}
		if k == key {
			return i, t.wait(i), false
		}
	}
}

// publish writes the value of a key claim added.
func (t *table) publish(slot uint64, v uint32) { atomic.StoreUint32(t.val(slot), v) }

// set changes key's value; key must be there. The caller holds mu's read
// side and is the only one to change this key's value.
func (t *table) set(key uint64, v uint32) {
	for i := t.home(key); ; i = t.after(i) {
		if atomic.LoadUint64(t.key(i)) == key {
			atomic.StoreUint32(t.val(i), v)
			return
		}
	}
}

// each calls f with each key and value in the table, in slot order.
func (t *table) each(f func(key uint64, val uint32)) {
	for _, p := range t.pairs {
		for j := range 2 {
			if p.key[j] != 0 {
				f(p.key[j], p.val[j])
			}
		}
	}
}

// full says whether the table should grow before more inserts: headroom
// is how many a worker may still add before it looks again.
func (t *table) full(headroom int64) bool { return t.count.Load()+headroom > t.limit }

// grow makes the table at least half as large again; the caller holds
// mu's write side.
func (t *table) grow(headroom int64) {
	old := t.pairs
	t.alloc(int(t.grownBytes(headroom) / slotBytes))
	for _, p := range old {
		for j := range 2 {
			k := p.key[j]
			if k == 0 {
				continue
			}
			i := t.home(k)
			for *t.key(i) != 0 {
				i = t.after(i)
			}
			*t.key(i), *t.val(i) = k, p.val[j]
		}
	}
	freeOf(t.mem, old)
}

// grownBytes is what the table would take once grown for headroom more.
func (t *table) grownBytes(headroom int64) int64 {
	n := int64(t.n)
	for {
		n = (n + n/2 + 1) &^ 1
		if n*tableLoad/16 >= t.count.Load()+headroom {
			return n * slotBytes
		}
	}
}
