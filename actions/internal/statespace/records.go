package statespace

import (
	"sync"
	"sync/atomic"
)

// A record is a state found new while a level is expanded, before it is
// numbered: its fingerprint, its key (the smallest parent<<8 | thread
// that reaches it: the order in which the level's new states are
// numbered), its vector, its slot in the table, and what kind of final
// state it is.
type record struct {
	fp   uint64
	key  atomic.Uint64
	vec  ref
	slot uint32
	end  uint8
}

// What a new state is when no thread can step.
const (
	notEnd  = iota
	passEnd // every thread finished, expect holds
	failEnd // a deadlock, or expect is false
)

const (
	recPageBits = 16
	recPages    = 1 << (31 - recPageBits)
	recBlock    = 256 // records a worker claims at a time
)

// records are a level's new states, numbered provisionally in the order
// workers claim them (a block of recBlock at a time, so that workers
// rarely touch the shared counter).
type records struct {
	mem   *arena
	next  atomic.Uint32
	mu    sync.Mutex
	pages [recPages]atomic.Pointer[[1 << recPageBits]record]
	used  int // pages allocated, under mu
	spare []*[1 << recPageBits]record
}

// claim reserves a block of record numbers; ok is false when the level
// has used them all.
func (r *records) claim() (from, to uint32, ok bool) {
	from = r.next.Add(recBlock) - recBlock
	if from >= provLimit-recBlock {
		return 0, 0, false
	}
	r.page(from >> recPageBits)
	return from, from + recBlock, true
}

// provLimit bounds provisional numbers: below the edge flag's FAIL value.
const provLimit = 1<<31 - recBlock

func (r *records) page(i uint32) {
	if r.pages[i].Load() != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pages[i].Load() == nil {
		var pg *[1 << recPageBits]record
		if n := len(r.spare); n > 0 {
			pg, r.spare = r.spare[n-1], r.spare[:n-1]
		} else {
			pg = (*[1 << recPageBits]record)(allocOf[record](r.mem, 1<<recPageBits))
		}
		r.pages[i].Store(pg)
		r.used++
	}
}

func (r *records) at(i uint32) *record {
	return &r.pages[i>>recPageBits].Load()[i&(1<<recPageBits-1)]
}

// bytes is what the records' pages take.
func (r *records) bytes() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return int64(r.used+len(r.spare)) * (1 << recPageBits) * 32
}

// reset empties the records for the next level, keeping their pages.
func (r *records) reset() {
	n := int(min(r.next.Load(), provLimit))
	for i := 0; i<<recPageBits < n; i++ {
		if pg := r.pages[i].Load(); pg != nil {
			clear(pg[:min(n-i<<recPageBits, 1<<recPageBits)])
			r.spare = append(r.spare, pg)
			r.pages[i].Store(nil)
		}
	}
	r.used = 0
	r.next.Store(0)
}

// lower makes key the record's key if it is smaller.
func lower(k *atomic.Uint64, key uint64) {
	for {
		old := k.Load()
		if key >= old || k.CompareAndSwap(old, key) {
			return
		}
	}
}
