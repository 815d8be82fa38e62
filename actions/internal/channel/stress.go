package channel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"

	"github.com/pmrun/pmrun/actions/internal/frame"
)

// Stress payloads. A framed one is the message number (8 bytes,
// little-endian) and then a pattern of every byte value, NULs and newlines
// included; a lines one is "SSSSSSSSSSSSSSSS NNNNNNNNNNNNNNNN " (sender
// and number in hex) and then letters and digits. The pattern starts at an
// offset that depends on the number, so that bodies of neighbouring
// messages differ and a chunk put in the wrong message shows.

const (
	framedHead = 8
	linesHead  = 34
	// shifts is how many pattern offsets are used (a prime).
	shifts = 251
)

// ErrVerify means a stress message that was not what its sender sent: a
// wrong number (lost, repeated or out of order) or a damaged body.
var ErrVerify = errors.New("stress message check failed")

func checkStress(o Options, count, size int) error {
	minSize := framedHead
	if o.Framing == Lines {
		minSize = linesHead
	}
	switch {
	case count < 0:
		return fmt.Errorf("%w: stress count %d is negative", ErrInvalid, count)
	case size < minSize:
		return fmt.Errorf("%w: stress size %d is below %d, the room the message number needs", ErrInvalid, size, minSize)
	case size > o.MaxMessage:
		return fmt.Errorf("%w: stress size %d, at most %d allowed", frame.ErrTooLarge, size, o.MaxMessage)
	}
	return nil
}

// pattern holds the bytes stress bodies are cut from; bodies of any size
// up to what it was made for are prefixes of a shifted view.
type pattern struct {
	lines bool
	buf   []byte
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func newPattern(f Framing, size int) *pattern {
	p := &pattern{lines: f == Lines}
	p.grow(size)
	return p
}

// grow makes the pattern long enough for messages of size bytes.
func (p *pattern) grow(size int) {
	n := size + shifts
	if len(p.buf) >= n {
		return
	}
	p.buf = make([]byte, n)
	for i := range p.buf {
		if p.lines {
			p.buf[i] = alnum[i%len(alnum)]
		} else {
			p.buf[i] = byte(i*7 + i>>8)
		}
	}
}

// body returns the body of message i with n bytes.
func (p *pattern) body(i uint64, n int) []byte {
	k := int(i % shifts)
	return p.buf[k : k+n]
}

// message returns the head (appended to dst) and body of message i from
// sender s, the head being sized as the pattern was made for.
func (p *pattern) message(dst []byte, s frame.Sender, i uint64) (head, body []byte) {
	if p.lines {
		dst = appendHex(dst, uint64(s))
		dst = append(dst, ' ')
		dst = appendHex(dst, i)
		dst = append(dst, ' ')
		return dst, p.body(i, len(p.buf)-shifts-linesHead)
	}
	return binary.LittleEndian.AppendUint64(dst, i), p.body(i, len(p.buf)-shifts-framedHead)
}

func appendHex(dst []byte, v uint64) []byte {
	const digits = "0123456789abcdef"
	for shift := 60; shift >= 0; shift -= 4 {
		dst = append(dst, digits[v>>shift&0xf])
	}
	return dst
}

// verifier checks stress messages as they arrive, whole or piece by piece.
type verifier struct {
	p       *pattern
	senders map[frame.Sender]*progress
	lastID  frame.Sender
	last    *progress
	problem error // the first one; later ones are counted
	bad     int
}

// progress is where one sender's stress messages have got to.
type progress struct {
	next uint64 // number of the next message
	cur  uint64 // number of the message coming piece by piece
	in   bool   // a message is coming piece by piece
}

func newVerifier(f Framing) *verifier {
	return &verifier{p: &pattern{lines: f == Lines}, senders: make(map[frame.Sender]*progress)}
}

func (v *verifier) fail(err error) {
	v.bad++
	if v.problem == nil {
		v.problem = err
	}
}

// check verifies one whole message, received with sender s (ignored for
// lines, which carry their sender in the text).
func (v *verifier) check(s frame.Sender, data []byte) {
	var i uint64
	var body []byte
	if v.p.lines {
		id, n, ok := parseLinesHead(data)
		if !ok {
			v.fail(fmt.Errorf("%w: line %.40q is not a stress message", ErrVerify, data))
			return
		}
		s, i, body = id, n, data[linesHead:]
	} else {
		if len(data) < framedHead {
			v.fail(fmt.Errorf("%w: %d-byte message from sender %v is too short to be a stress message", ErrVerify, len(data), s))
			return
		}
		i, body = binary.LittleEndian.Uint64(data), data[framedHead:]
	}
	if v.number(s, i) {
		v.body(s, i, body, 0, len(body))
	}
}

// piece verifies one piece of a framed message and reports whether it was
// the last.
func (v *verifier) piece(p frame.Piece) bool {
	pr := v.progress(p.Sender)
	data, off := p.Data, p.Offset
	if off == 0 {
		pr.in = false
		if len(data) < framedHead {
			v.fail(fmt.Errorf("%w: %d-byte message from sender %v is too short to be a stress message", ErrVerify, p.Total, p.Sender))
			return p.Last()
		}
		i := binary.LittleEndian.Uint64(data)
		if !v.number(p.Sender, i) {
			return p.Last()
		}
		pr.cur, pr.in = i, true
		data, off = data[framedHead:], framedHead
	}
	if pr.in {
		v.body(p.Sender, pr.cur, data, off-framedHead, p.Total-framedHead)
	}
	if p.Last() {
		pr.in = false
		return true
	}
	return false
}

// number checks that message i is the one sender s was to send next.
func (v *verifier) number(s frame.Sender, i uint64) bool {
	pr := v.progress(s)
	want := pr.next
	pr.next = i + 1
	if i != want {
		v.fail(fmt.Errorf("%w: sender %v sent message %d, expected %d", ErrVerify, s, i, want))
		return false
	}
	return true
}

// body checks that part, found at off in the n-byte body of message i,
// is what was sent.
func (v *verifier) body(s frame.Sender, i uint64, part []byte, off, n int) {
	v.p.grow(n + linesHead)
	if !bytes.Equal(part, v.p.body(i, n)[off:off+len(part)]) {
		v.fail(fmt.Errorf("%w: sender %v message %d: body differs from what was sent", ErrVerify, s, i))
	}
}

func parseLinesHead(data []byte) (s frame.Sender, i uint64, ok bool) {
	if len(data) < linesHead || data[16] != ' ' || data[33] != ' ' {
		return 0, 0, false
	}
	id, err1 := strconv.ParseUint(string(data[:16]), 16, 64)
	n, err2 := strconv.ParseUint(string(data[17:33]), 16, 64)
	return frame.Sender(id), n, err1 == nil && err2 == nil
}

func (v *verifier) progress(s frame.Sender) *progress {
	if v.last != nil && v.lastID == s {
		return v.last
	}
	p, ok := v.senders[s]
	if !ok {
		p = &progress{}
		v.senders[s] = p
	}
	v.lastID, v.last = s, p
	return p
}

// err returns nil if every message checked so far was right.
func (v *verifier) err() error {
	if v.problem == nil {
		return nil
	}
	if v.bad > 1 {
		return fmt.Errorf("%w (and %d more)", v.problem, v.bad-1)
	}
	return v.problem
}
