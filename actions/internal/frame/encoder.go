package frame

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Limits say how an [Encoder] may cut messages and pack chunks into writes.
type Limits struct {
	// Chunk is the largest chunk, header included, and the largest write
	// that is never split: [PipeBuf] on a pipe, a datagram on a socket.
	// Small messages are packed several to such a write.
	Chunk int
	// Burst, if not 0, is the largest write made of full chunks (exactly
	// Chunk bytes each) of one message, a multiple of Chunk. On Linux a
	// pipe splits a write only where it copies a new page, page-aligned in
	// the written buffer when its length is a multiple of the page size,
	// so such a write can be split between chunks and never inside one;
	// the receiver puts chunks back together per sender anyway. 0 writes
	// every chunk alone.
	Burst int
}

// PipeLimits are the limits for pipes and FIFOs: 4 KiB chunks, up to 64
// of them in one write.
var PipeLimits = Limits{Chunk: PipeBuf, Burst: 64 * PipeBuf}

// Encoder turns messages into writes. It cuts each message into chunks and
// buffers them, handing them to its flush function when the next chunk may
// not join them. Every write holds whole chunks only and is either at most
// Limits.Chunk bytes (kept whole) or a burst of full chunks of one message
// (split, if at all, between chunks).
//
// A message that fits in one chunk is never split and shares a write with
// its neighbours; a larger one goes out as bursts of full chunks, written
// straight from the message with the headers beside it, and its last,
// shorter chunk stays buffered so that small messages that follow share its
// write. Call [Encoder.Flush] to write what is buffered.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	sender Sender
	lim    Limits
	lines  bool
	flush  func(p [][]byte) (int, error)

	// Small chunks (or lines) are copied into buf. A burst is segs: the
	// headers, kept in hdrs, and pieces of the message itself. Only one
	// of the two holds anything at a time.
	buf  []byte
	hdrs []byte
	segs [][]byte
	one  [1][]byte

	seq uint32
	// firstSeq is the sequence number of the first message that starts in
	// what is buffered; valid when started. A write that failed before any
	// byte left hands those numbers out again, so the receiver sees no gap
	// for messages that never left.
	firstSeq uint32
	started  bool

	pendingMsgs  int
	pendingBytes int64
	sentMsgs     int
	sentBytes    int64
}

// NewEncoder returns an Encoder for framed messages from sender. flush
// must write the concatenation of p (with writev(2) or the like),
// returning how many bytes it wrote; with an error it may have written
// part of a burst, but none of a write of at most Chunk bytes. It must not
// keep p.
func NewEncoder(sender Sender, lim Limits, flush func(p [][]byte) (int, error)) *Encoder {
	if lim.Chunk <= HeaderSize || lim.Burst < lim.Chunk {
		lim.Burst = 0
	}
	if lim.Burst > 0 {
		lim.Burst -= lim.Burst % lim.Chunk
	}
	e := &Encoder{sender: sender, lim: lim, flush: flush, buf: make([]byte, 0, max(lim.Chunk, 0))}
	if lim.Burst > 0 {
		e.hdrs = make([]byte, 0, lim.Burst/lim.Chunk*HeaderSize)
	}
	return e
}

// NewLineEncoder returns an Encoder for lines framing: each message is
// written as itself plus a newline, never split, so a line (newline
// included) may be at most maxWrite bytes.
func NewLineEncoder(maxWrite int, flush func(p [][]byte) (int, error)) *Encoder {
	return &Encoder{lines: true, lim: Limits{Chunk: maxWrite}, flush: flush, buf: make([]byte, 0, max(maxWrite, 0))}
}

// Encode adds the message made of head followed by body. It may flush
// earlier messages first, and flushes every burst of a large message, so
// that nothing buffered points into head or body when it returns. An error
// from flush is returned as is; see [Encoder.Flush] for what is then
// dropped.
func (e *Encoder) Encode(head, body []byte) error {
	if e.lines {
		return e.encodeLine(head, body)
	}
	if e.lim.Chunk <= HeaderSize {
		return fmt.Errorf("frame: chunk size %d leaves no room after the %d-byte header", e.lim.Chunk, HeaderSize)
	}
	total := len(head) + len(body)
	if total > MaxTotal {
		return fmt.Errorf("frame: %w: %d bytes, the format allows %d", ErrTooLarge, total, MaxTotal)
	}
	h := Header{Sender: e.sender, Seq: e.seq, Total: uint32(total)}
	if HeaderSize+total <= e.lim.Chunk {
		if len(e.buf)+HeaderSize+total > e.lim.Chunk {
			if err := e.Flush(); err != nil {
				return err
			}
		}
		e.begin()
		e.appendChunk(h, head, body, 0, total)
		e.complete(total)
		return nil
	}

	// Several chunks: full ones in bursts, then the shorter last one
	// alone or with the small messages that follow. Without bursts every
	// chunk is a write of its own.
	if err := e.Flush(); err != nil {
		return err
	}
	e.begin()
	per := e.lim.Chunk - HeaderSize
	off := 0
	for ; e.lim.Burst > 0 && total-off >= per; off += per {
		if len(e.hdrs) == cap(e.hdrs) {
			if err := e.Flush(); err != nil {
				return err
			}
		}
		h.Offset = uint32(off)
		e.burstChunk(h, head, body, off, per)
	}
	if off == total {
		e.complete(total)
		return e.Flush()
	}
	for ; off < total; off += per {
		if err := e.Flush(); err != nil {
			return err
		}
		h.Offset = uint32(off)
		e.appendChunk(h, head, body, off, min(per, total-off))
	}
	e.complete(total)
	return nil
}

// begin takes the next sequence number for a message starting in what is
// buffered.
func (e *Encoder) begin() {
	if !e.started {
		e.started, e.firstSeq = true, e.seq
	}
	e.seq++
}

// complete notes that what is buffered holds the end of a message of
// total bytes.
func (e *Encoder) complete(total int) {
	e.pendingMsgs++
	e.pendingBytes += int64(total)
}

// pieces calls fn with bytes [off, off+n) of head||body, in at most two
// pieces.
func pieces(head, body []byte, off, n int, fn func([]byte)) {
	end := off + n
	if off < len(head) {
		fn(head[off:min(end, len(head))])
	}
	if end > len(head) {
		fn(body[max(off-len(head), 0) : end-len(head)])
	}
}

// appendChunk copies the chunk for bytes [off, off+n) of head||body into
// buf.
func (e *Encoder) appendChunk(h Header, head, body []byte, off, n int) {
	h.Length = uint32(n)
	start := len(e.buf)
	e.buf = e.buf[:start+HeaderSize]
	putHeader(e.buf[start:], h)
	pieces(head, body, off, n, func(p []byte) { e.buf = append(e.buf, p...) })
	sealChunk(e.buf[start:])
}

// burstChunk adds the chunk for bytes [off, off+n) of head||body to the
// burst, pointing at the message rather than copying it.
func (e *Encoder) burstChunk(h Header, head, body []byte, off, n int) {
	h.Length = uint32(n)
	start := len(e.hdrs)
	e.hdrs = e.hdrs[:start+HeaderSize]
	hdr := e.hdrs[start:]
	putHeader(hdr, h)
	e.segs = append(e.segs, hdr)
	sum := crc32.ChecksumIEEE(hdr)
	pieces(head, body, off, n, func(p []byte) {
		e.segs = append(e.segs, p)
		sum = crc32.Update(sum, crc32.IEEETable, p)
	})
	binary.LittleEndian.PutUint32(hdr[4:], sum)
}

func (e *Encoder) encodeLine(head, body []byte) error {
	if bytes.IndexByte(head, '\n') >= 0 || bytes.IndexByte(body, '\n') >= 0 {
		return fmt.Errorf("frame: %w", ErrNewline)
	}
	total := len(head) + len(body)
	if total+1 > e.lim.Chunk {
		return fmt.Errorf("frame: %w: a line of %d bytes plus newline, a write keeps at most %d whole", ErrTooLarge, total, e.lim.Chunk)
	}
	if len(e.buf)+total+1 > e.lim.Chunk {
		if err := e.Flush(); err != nil {
			return err
		}
	}
	e.buf = append(append(append(e.buf, head...), body...), '\n')
	e.complete(total)
	return nil
}

// Flush writes what is buffered. On failure the buffer is dropped: if
// nothing of it was written, the messages that began in it give their
// sequence numbers back; if part of a burst was, that message is cut short
// and its receiver will report it truncated.
func (e *Encoder) Flush() error {
	var p [][]byte
	switch {
	case len(e.segs) > 0:
		p = e.segs
	case len(e.buf) > 0:
		e.one[0] = e.buf
		p = e.one[:]
	default:
		return nil
	}
	n, err := e.flush(p)
	if err != nil {
		if n > 0 {
			e.started = false
		}
		e.Discard()
		return err
	}
	e.sentMsgs += e.pendingMsgs
	e.sentBytes += e.pendingBytes
	e.reset()
	return nil
}

// Discard drops what is buffered, as a failed write would: messages that
// had not begun to be written give their sequence numbers back.
func (e *Encoder) Discard() {
	if e.started {
		e.seq = e.firstSeq
	}
	e.reset()
}

func (e *Encoder) reset() {
	e.buf = e.buf[:0]
	e.hdrs = e.hdrs[:0]
	clear(e.segs) // do not keep the caller's message alive
	e.segs = e.segs[:0]
	e.one[0] = nil
	e.started = false
	e.pendingMsgs, e.pendingBytes = 0, 0
}

// Sent returns how many messages, and payload bytes, have been written
// completely so far.
func (e *Encoder) Sent() (messages int, bytes int64) { return e.sentMsgs, e.sentBytes }
