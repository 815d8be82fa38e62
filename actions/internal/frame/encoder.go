package frame

import (
	"bytes"
	"fmt"
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
// buffers them, handing the buffer to its flush function when the next
// chunk may not join it. Every write holds whole chunks only and is either
// at most Limits.Chunk bytes (kept whole) or a burst of full chunks of one
// message (split, if at all, between chunks).
//
// A message that fits in one chunk is never split and shares a write with
// its neighbours; a larger one goes out as bursts of full chunks, and its
// last, shorter chunk stays buffered so that small messages that follow
// share its write. Call [Encoder.Flush] to write what is buffered.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	sender Sender
	lim    Limits
	lines  bool
	flush  func(p []byte) (int, error)
	buf    []byte
	burst  bool // buf holds full chunks of one message

	seq uint32
	// firstSeq is the sequence number of the first message that starts in
	// buf; valid when started. A write that failed before any byte left
	// hands those numbers out again, so the receiver sees no gap for
	// messages that never left.
	firstSeq uint32
	started  bool

	pendingMsgs  int
	pendingBytes int64
	sentMsgs     int
	sentBytes    int64
}

// NewEncoder returns an Encoder for framed messages from sender. flush
// must write p, returning how many bytes it wrote; with an error it may
// have written part of a burst, but none of a write of at most Chunk
// bytes. It must not keep p.
func NewEncoder(sender Sender, lim Limits, flush func(p []byte) (int, error)) *Encoder {
	if lim.Burst < lim.Chunk || lim.Chunk <= 0 {
		lim.Burst = 0
	}
	lim.Burst -= lim.Burst % max(lim.Chunk, 1)
	return &Encoder{sender: sender, lim: lim, flush: flush, buf: make([]byte, 0, max(lim.Chunk, lim.Burst, 0))}
}

// NewLineEncoder returns an Encoder for lines framing: each message is
// written as itself plus a newline, never split, so a line (newline
// included) may be at most maxWrite bytes.
func NewLineEncoder(maxWrite int, flush func(p []byte) (int, error)) *Encoder {
	return &Encoder{lines: true, lim: Limits{Chunk: maxWrite}, flush: flush, buf: make([]byte, 0, max(maxWrite, 0))}
}

// Encode adds the message made of head followed by body. It may flush
// earlier messages first, and flushes every burst of a large message. An
// error from flush is returned as is; see [Encoder.Flush] for what is then
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

	// Several chunks: full ones in bursts, the shorter last one alone or
	// with the small messages that follow.
	if err := e.Flush(); err != nil {
		return err
	}
	e.begin()
	per := e.lim.Chunk - HeaderSize
	for off := 0; off < total; off += per {
		n := min(per, total-off)
		full := n == per
		if len(e.buf) > 0 && (!full || !e.burst || len(e.buf)+e.lim.Chunk > e.lim.Burst) {
			if err := e.Flush(); err != nil {
				return err
			}
		}
		h.Offset = uint32(off)
		e.appendChunk(h, head, body, off, n)
		e.burst = full && e.lim.Burst > 0
	}
	e.complete(total)
	if e.burst {
		// Nothing may join a burst.
		return e.Flush()
	}
	return nil
}

// begin takes the next sequence number for a message starting in buf.
func (e *Encoder) begin() {
	if !e.started {
		e.started, e.firstSeq = true, e.seq
	}
	e.seq++
}

// complete notes that buf holds the end of a message of total bytes.
func (e *Encoder) complete(total int) {
	e.pendingMsgs++
	e.pendingBytes += int64(total)
}

// appendChunk appends the chunk for bytes [off, off+n) of head||body.
func (e *Encoder) appendChunk(h Header, head, body []byte, off, n int) {
	h.Length = uint32(n)
	start := len(e.buf)
	e.buf = e.buf[:start+HeaderSize]
	putHeader(e.buf[start:], h)
	end := off + n
	if off < len(head) {
		e.buf = append(e.buf, head[off:min(end, len(head))]...)
	}
	if end > len(head) {
		e.buf = append(e.buf, body[max(off-len(head), 0):end-len(head)]...)
	}
	sealChunk(e.buf[start:])
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
	if len(e.buf) == 0 {
		return nil
	}
	n, err := e.flush(e.buf)
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
	e.burst = false
	e.started = false
	e.pendingMsgs, e.pendingBytes = 0, 0
}

// Buffered returns the number of bytes waiting for [Encoder.Flush].
func (e *Encoder) Buffered() int { return len(e.buf) }

// Sent returns how many messages, and payload bytes, have been written
// completely so far.
func (e *Encoder) Sent() (messages int, bytes int64) { return e.sentMsgs, e.sentBytes }
