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
	recPageBits = 12
	recBlock    = 256 // records a worker claims at a time
)

// recPage is a page of records.
type recPage [1 << recPageBits]record

// records are a level's new states, numbered provisionally in the order
// workers claim them (a block of recBlock at a time, so that workers
// rarely touch the shared counter). The pages are a list that grows by
// copying, under mu; readers load the list without a lock (a record
// number is only read after the page that holds it was added).
type records struct {
	mem   *arena
	next  atomic.Uint32
	mu    sync.Mutex
	pages atomic.Pointer[[]*recPage]
	spare []*recPage
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

// page makes sure page i is there.
func (r *records) page(i uint32) {
	if ps := r.pages.Load(); ps != nil && int(i) < len(*ps) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	old := r.pages.Load()
	var ps []*recPage
	if old != nil {
		ps = *old
	}
	if int(i) < len(ps) {
		return
	}
	grown := append([]*recPage(nil), ps...)
	for len(grown) <= int(i) {
		var pg *recPage
		if n := len(r.spare); n > 0 {
			pg, r.spare = r.spare[n-1], r.spare[:n-1]
		} else {
			pg = (*recPage)(allocOf[record](r.mem, 1<<recPageBits))
		}
		grown = append(grown, pg)
	}
	r.pages.Store(&grown)
}

func (r *records) at(i uint32) *record {
	return &(*r.pages.Load())[i>>recPageBits][i&(1<<recPageBits-1)]
}

// reset empties the records for the next level, keeping their pages.
func (r *records) reset() {
	n := int(min(r.next.Load(), provLimit))
	if ps := r.pages.Load(); ps != nil {
		for i, pg := range *ps {
			if i<<recPageBits < n {
				clear(pg[:min(n-i<<recPageBits, 1<<recPageBits)])
			}
			r.spare = append(r.spare, pg)
		}
	}
	r.pages.Store(nil)
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
