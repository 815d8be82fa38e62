package statespace

import (
	"math/bits"
	"sync"
)

// A store keeps the state vectors of one level of the search compactly:
// each word as a zigzag varint (most words of a state are small: a pc, a
// status, a count), in pages. A vector is known by its ref, its page and
// its offset in it. Each worker writes into a page of its own
// ([vecWriter]); pages are handed out under a lock, once a page.
type store struct {
	mem      *arena
	mu       sync.Mutex
	pages    [][]byte
	pageSize int
	free     *[][]byte // pages to reuse, shared by the search's stores
	freeMu   *sync.Mutex
}

// ref locates a vector: page<<32 | offset.
type ref uint64

const pageSize = 64 << 10

func newStore(mem *arena, words int, free *[][]byte, freeMu *sync.Mutex) *store {
	size := pageSize
	for size < words*binaryMaxVarintLen {
		size *= 2
	}
	return &store{mem: mem, pageSize: size, free: free, freeMu: freeMu}
}

const binaryMaxVarintLen = 10

// page hands out a new page and its number.
func (s *store) page() (int, []byte) {
	var pg []byte
	s.freeMu.Lock()
	if n := len(*s.free); n > 0 && cap((*s.free)[n-1]) == s.pageSize {
		pg = (*s.free)[n-1][:0]
		*s.free = (*s.free)[:n-1]
	}
	s.freeMu.Unlock()
	if pg == nil {
		pg = s.mem.alloc(s.pageSize, false)[:0]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages = append(s.pages, pg)
	return len(s.pages) - 1, pg
}

// bytes is the memory the store's pages take.
func (s *store) bytes() int64 { return int64(len(s.pages)) * int64(s.pageSize) }

// release gives the store's pages back for reuse.
func (s *store) release() {
	s.freeMu.Lock()
	*s.free = append(*s.free, s.pages...)
	s.freeMu.Unlock()
	s.pages = nil
}

// get decodes the vector at r into dst (its length is the number of words).
func (s *store) get(r ref, dst []int64) {
	pg := s.pages[r>>32]
	pg = pg[:cap(pg)] // the writer appended past the length the page was handed out with
	off := int(uint32(r))
	for i := range dst {
		var u uint64
		var shift uint
		for {
			b := pg[off]
			off++
			u |= uint64(b&0x7f) << shift
			if b < 0x80 {
				break
			}
			shift += 7
		}
		dst[i] = int64(u>>1) ^ -int64(u&1)
	}
}

// vecWriter is one worker's writer into a store.
type vecWriter struct {
	s    *store
	page int
	buf  []byte
}

func (w *vecWriter) reset(s *store) { w.s, w.page, w.buf = s, -1, nil }

// put encodes words and returns their ref.
func (w *vecWriter) put(words []int64) ref {
	if w.page < 0 || len(w.buf)+len(words)*binaryMaxVarintLen > cap(w.buf) {
		w.page, w.buf = w.s.page()
	}
	off := len(w.buf)
	buf := w.buf
	for _, x := range words {
		u := uint64(x<<1) ^ uint64(x>>63)
		for u >= 0x80 {
			buf = append(buf, byte(u)|0x80)
			u >>= 7
		}
		buf = append(buf, byte(u))
	}
	w.buf = buf
	return ref(uint64(w.page)<<32 | uint64(off))
}

// vecBytes is about what a vector of these words takes encoded.
func vecBytes(words []int64) int {
	n := 0
	for _, x := range words {
		u := uint64(x<<1) ^ uint64(x>>63)
		n += (bits.Len64(u|1) + 6) / 7
	}
	return n
}
