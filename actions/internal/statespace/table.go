package statespace

import (
	"math/bits"
	"sync"
	"sync/atomic"
)

// table is the visited set: an open-addressing hash table of 64-bit
// fingerprints (see hash.go), each with a 32-bit value beside it in the same
// slot (one cache line holds both): the state's number plus one (0: being
// written). Linear probing from the fingerprint's top bits, so that a
// table twice as large keeps the order of the slots and growing it moves
// memory mostly in sequence. Fingerprint 0 marks an empty slot. Workers insert
// concurrently with a compare-and-swap on the key; a resize stops them
// (they hold the read side of mu while they use the table, the resize
// the write side).
type table struct {
	mem   *arena
	mu    sync.RWMutex
	slots []slot
	mask  uint64
	shift uint
	count atomic.Int64
	limit int64 // count past which the table grows
}

type slot struct {
	key uint64
	val uint32
	_   uint32
}

// tableLoad is the fill past which a table grows (out of 16).
const tableLoad = 11

// slotBytes is what one slot takes.
const slotBytes = 16

func newTable(mem *arena, capacity int) *table {
	n := 1 << 10
	for n*tableLoad/16 < capacity {
		n *= 2
	}
	t := &table{mem: mem}
	t.alloc(n)
	return t
}

func (t *table) alloc(n int) {
	t.slots = allocHuge[slot](t.mem, n, true)
	t.mask = uint64(n - 1)
	t.shift = uint(64 - bits.TrailingZeros(uint(n)))
	t.limit = int64(n) * tableLoad / 16
}

func (t *table) bytes() int64 { return int64(len(t.slots)) * slotBytes }

// home is where probing for key starts: its top bits.
func (t *table) home(key uint64) uint64 { return key >> t.shift }

// find returns key's value (its state's number plus one), 0 if absent.
// The caller holds mu's read side.
func (t *table) find(key uint64) uint32 {
	for i := t.home(key); ; i = (i + 1) & t.mask {
		k := atomic.LoadUint64(&t.slots[i].key)
		if k == 0 {
			return 0
		}
		if k == key {
			return t.wait(i)
		}
	}
}

// wait reads the value of slot i, which another worker may still be
// writing.
func (t *table) wait(i uint64) uint32 {
	for {
		if v := atomic.LoadUint32(&t.slots[i].val); v != 0 {
			return v
		}
	}
}

// claim adds key unless it is there. When it was there it returns its
// value (the state's number plus one) and added false; when this call
// added it, the caller must then [table.publish] its value at slot, and
// count it (count.Add, in batches). The caller holds mu's read side.
func (t *table) claim(key uint64) (slot uint64, val uint32, added bool) {
	for i := t.home(key); ; i = (i + 1) & t.mask {
		k := atomic.LoadUint64(&t.slots[i].key)
		if k == 0 {
			if atomic.CompareAndSwapUint64(&t.slots[i].key, 0, key) {
				return i, 0, true
			}
			k = atomic.LoadUint64(&t.slots[i].key)
		}
		if k == key {
			return i, t.wait(i), false
		}
	}
}

// publish writes the value of a key claim added.
func (t *table) publish(slot uint64, v uint32) { atomic.StoreUint32(&t.slots[slot].val, v) }

// set changes key's value; key must be there. The caller holds mu's read
// side and is the only one to change this key's value.
func (t *table) set(key uint64, v uint32) {
	for i := t.home(key); ; i = (i + 1) & t.mask {
		if atomic.LoadUint64(&t.slots[i].key) == key {
			atomic.StoreUint32(&t.slots[i].val, v)
			return
		}
	}
}

// full says whether the table should grow before more inserts: headroom
// is how many a worker may still add before it looks again.
func (t *table) full(headroom int64) bool { return t.count.Load()+headroom > t.limit }

// grow makes the table at least twice as large; the caller holds mu's
// write side.
func (t *table) grow(headroom int64) {
	old := t.slots
	t.alloc(int(t.grownBytes(headroom) / slotBytes))
	for _, sl := range old {
		if sl.key == 0 {
			continue
		}
		j := t.home(sl.key)
		for t.slots[j].key != 0 {
			j = (j + 1) & t.mask
		}
		t.slots[j] = sl
	}
	freeOf(t.mem, old)
}

// grownBytes is what the table would take once grown for headroom more.
func (t *table) grownBytes(headroom int64) int64 {
	n := int64(len(t.slots)) * 2
	for n*tableLoad/16 < t.count.Load()+headroom {
		n *= 2
	}
	return n * slotBytes
}
