package frame

import (
	"bytes"
	"fmt"
)

// Encoder turns messages into writes. It cuts each message into chunks,
// packs whole chunks into a buffer of at most maxWrite bytes and hands the
// buffer to its flush function when the next chunk does not fit, so that
// every write holds whole chunks only. With maxWrite at most [PipeBuf], a
// pipe keeps every write, and so every chunk, whole.
//
// A message that fits in one chunk is never split; a larger one is written
// as full-size chunks, one write each, and its last chunk stays buffered so
// small messages that follow share its write. Call [Encoder.Flush] to write
// what is buffered.
//
// An Encoder is not safe for concurrent use.
type Encoder struct {
	sender Sender
	max    int
	lines  bool
	flush  func(p []byte) error
	buf    []byte

	seq uint32
	// firstSeq is the sequence number of the first message that starts in
	// buf; valid when started. A failed flush hands those numbers out again
	// so the receiver sees no gap for messages that never left.
	firstSeq uint32
	started  bool

	pendingMsgs  int
	pendingBytes int64
	sentMsgs     int
	sentBytes    int64
}

// NewEncoder returns an Encoder for framed messages from sender, writing at
// most maxWrite bytes (more than [HeaderSize]) per call to flush. flush must
// write p whole or not at all and must not keep p.
func NewEncoder(sender Sender, maxWrite int, flush func(p []byte) error) *Encoder {
	return &Encoder{sender: sender, max: maxWrite, flush: flush, buf: make([]byte, 0, max(maxWrite, 0))}
}

// NewLineEncoder returns an Encoder for lines framing: each message is
// written as itself plus a newline, never split, so a line (newline
// included) may be at most maxWrite bytes.
func NewLineEncoder(maxWrite int, flush func(p []byte) error) *Encoder {
	return &Encoder{lines: true, max: maxWrite, flush: flush, buf: make([]byte, 0, max(maxWrite, 0))}
}

// Encode adds the message made of head followed by body. It may flush
// earlier messages first, and flushes every chunk of a large message but
// the last. An error from flush is returned as is; the messages that were
// buffered with the failed write are dropped, see [Encoder.Sent].
func (e *Encoder) Encode(head, body []byte) error {
	if e.lines {
		return e.encodeLine(head, body)
	}
	if e.max <= HeaderSize {
		return fmt.Errorf("frame: write size %d leaves no room after the %d-byte header", e.max, HeaderSize)
	}
	total := len(head) + len(body)
	if total > MaxTotal {
		return fmt.Errorf("frame: %w: %d bytes, the format allows %d", ErrTooLarge, total, MaxTotal)
	}
	if len(e.buf) > 0 && len(e.buf)+HeaderSize+total > e.max {
		if err := e.Flush(); err != nil {
			return err
		}
	}
	h := Header{Sender: e.sender, Seq: e.seq, Total: uint32(total)}
	if !e.started {
		e.started, e.firstSeq = true, e.seq
	}
	e.seq++
	for off := 0; ; {
		// The buffer is empty or the rest of the message fits, so there
		// is always room for at least one payload byte.
		n := min(e.max-len(e.buf)-HeaderSize, total-off)
		h.Offset = uint32(off)
		e.appendChunk(h, head, body, off, n)
		off += n
		if off == total {
			break
		}
		if err := e.Flush(); err != nil {
			return err
		}
	}
	e.pendingMsgs++
	e.pendingBytes += int64(total)
	return nil
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
	if total+1 > e.max {
		return fmt.Errorf("frame: %w: a line of %d bytes plus newline, a write keeps at most %d whole", ErrTooLarge, total, e.max)
	}
	if len(e.buf)+total+1 > e.max {
		if err := e.Flush(); err != nil {
			return err
		}
	}
	e.buf = append(append(append(e.buf, head...), body...), '\n')
	e.pendingMsgs++
	e.pendingBytes += int64(total)
	return nil
}

// Flush writes what is buffered. On failure the buffered data is dropped:
// a write either happened whole or not at all.
func (e *Encoder) Flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	err := e.flush(e.buf)
	if err != nil {
		e.Discard()
		return err
	}
	e.sentMsgs += e.pendingMsgs
	e.sentBytes += e.pendingBytes
	e.buf = e.buf[:0]
	e.started = false
	e.pendingMsgs, e.pendingBytes = 0, 0
	return nil
}

// Discard drops what is buffered, as a failed write would: messages that
// had not begun to be written give their sequence numbers back.
func (e *Encoder) Discard() {
	if e.started {
		e.seq = e.firstSeq
	}
	e.buf = e.buf[:0]
	e.started = false
	e.pendingMsgs, e.pendingBytes = 0, 0
}

// Buffered returns the number of bytes waiting for [Encoder.Flush].
func (e *Encoder) Buffered() int { return len(e.buf) }

// Sent returns how many messages, and payload bytes, have been written
// completely so far.
func (e *Encoder) Sent() (messages int, bytes int64) { return e.sentMsgs, e.sentBytes }
