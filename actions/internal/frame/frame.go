// Package frame is the wire format of pmrun's IPC channels: how a message
// is cut into chunks, how chunks are packed into writes, and how a receiver
// puts messages back together. It does no I/O; package channel moves the
// bytes.
//
// # Why chunks and not a lock
//
// A pipe keeps a write(2) whole only up to PIPE_BUF (4096) bytes; a larger
// write can be split by the kernel and another writer's data can land in the
// gap. Two rules keep messages whole:
//
//   - an exclusive lock (flock) held by every writer while it writes a large
//     message. But a small message written without the lock can still land
//     inside a large one, so every writer would have to take the lock (or a
//     shared lock) for every write, a plain program writing to a FIFO never
//     takes it, and a writer stopped while holding it stalls all the others.
//   - cut every message into chunks of at most PIPE_BUF bytes, each written
//     with one write(2) and carrying enough to be put back in place: sender,
//     message sequence number, offset, total length and a checksum. The
//     receiver reassembles per sender.
//
// pmrun uses chunks: no lock, no lock file, no writer can block another, and
// a sender that dies leaves whole chunks behind, never half of one, so the
// receiver can say exactly which message was cut short.
//
// One write(2) per 4 KiB would make large messages slow, though. Linux
// splits a pipe write only where it starts a new page, and when the length
// of a write is a multiple of the page size those places are page-aligned
// in the written buffer (fs/pipe.c: pipe_write merges only the sub-page
// remainder into the last page, then copies whole pages, and waits for
// room, letting other writers in, only between pages). So the full 4 KiB
// chunks of a large message go out as one write of up to 256 KiB: other
// writers' data can land between two of its chunks, never inside one, and
// the receiver reassembles per sender as always. The shorter last chunk
// goes in a write of at most PIPE_BUF bytes. With pages larger than 4 KiB
// the places are still multiples of 4 KiB apart. Should a kernel ever split
// elsewhere, the checksums catch it: an error, never silent data. See
// [Limits].
//
// Small messages are packed several to a write of at most PIPE_BUF bytes,
// so they cost less than one write(2) each.
//
// # Chunk layout
//
// A chunk is a 32-byte header followed by Length bytes of payload. All
// integers are little-endian.
//
//	offset size field
//	0      2    magic "PM"
//	2      1    version (1)
//	3      1    flags (0; reserved)
//	4      4    CRC-32 (IEEE) of the chunk, this field taken as zero
//	8      4    length of this chunk's payload
//	12     8    sender (PID << 32 | endpoint number in that process)
//	20     4    message sequence number, per sender, from 0, wrapping
//	24     4    offset of this payload in the message
//	28     4    total length of the message
//
// The checksum is CRC-32 rather than CRC-32C because Go computes it about
// half again as fast on amd64 (carry-less multiplication against the
// SSE4.2 CRC instruction), and both catch the same kinds of damage. It
// covers the whole chunk so that a full chunk is a multiple of 16 bytes,
// which that code takes without a byte-at-a-time tail.
//
// An empty message is one chunk with no payload.
//
// # Lines
//
// Channels declared with lines framing carry newline-ended text with no
// header, so shell tools can write and read them; see [LineDecoder] and
// [NewLineEncoder].
package frame

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

const (
	// HeaderSize is the size of a chunk header in bytes.
	HeaderSize = 32

	// PipeBuf is PIPE_BUF on Linux: the largest write(2) to a pipe that the
	// kernel keeps whole when several processes write at once.
	PipeBuf = 4096

	// MaxTotal is the largest message the format can describe; Total is a
	// 32-bit field.
	MaxTotal = 1<<32 - 1

	version = 1
	magic0  = 'P'
	magic1  = 'M'
)

// Errors a [Decoder] or an [Encoder] reports, matched with errors.Is; the
// returned error adds the sender and message.
var (
	// ErrCorrupt means bytes that are not a valid chunk: a bad magic number,
	// an impossible length, or a checksum that does not match.
	ErrCorrupt = errors.New("corrupt chunk")
	// ErrSequence means a sender's messages did not arrive one after
	// another: a message is missing or repeated, or a chunk belongs to a
	// message whose start was never seen.
	ErrSequence = errors.New("sequence gap")
	// ErrTruncated means a sender began a message and stopped sending it.
	ErrTruncated = errors.New("truncated message")
	// ErrTooLarge means a message or line longer than allowed.
	ErrTooLarge = errors.New("message too large")
	// ErrNewline means a message for a lines channel that contains a
	// newline, which would make it two messages.
	ErrNewline = errors.New("message contains a newline")
)

// Sender identifies one sending endpoint: the PID of its process and a
// number that tells endpoints of the same process apart. The receiver keeps
// order and reassembles per Sender.
type Sender uint64

// NewSender returns the Sender for endpoint n of process pid.
func NewSender(pid int, n uint32) Sender {
	return Sender(uint64(uint32(pid))<<32 | uint64(n))
}

// PID returns the process the sender lives in.
func (s Sender) PID() int { return int(s >> 32) }

// String returns "PID/N".
func (s Sender) String() string { return fmt.Sprintf("%d/%d", s.PID(), uint32(s)) }

// Header describes one chunk.
type Header struct {
	Length uint32 // payload bytes in this chunk
	Sender Sender
	Seq    uint32 // message sequence number of the sender
	Offset uint32 // where the payload goes in the message
	Total  uint32 // length of the whole message
}

// putHeader writes h into b[:HeaderSize] with a zero checksum.
func putHeader(b []byte, h Header) {
	_ = b[HeaderSize-1]
	b[0], b[1], b[2], b[3] = magic0, magic1, version, 0
	binary.LittleEndian.PutUint32(b[4:], 0)
	binary.LittleEndian.PutUint32(b[8:], h.Length)
	binary.LittleEndian.PutUint64(b[12:], uint64(h.Sender))
	binary.LittleEndian.PutUint32(b[20:], h.Seq)
	binary.LittleEndian.PutUint32(b[24:], h.Offset)
	binary.LittleEndian.PutUint32(b[28:], h.Total)
}

// sealChunk stores the checksum of the chunk c, whose checksum field is
// zero.
func sealChunk(c []byte) {
	binary.LittleEndian.PutUint32(c[4:], crc32.ChecksumIEEE(c))
}

// ParseHeader decodes the header at the start of b without checking the
// payload's checksum; it fails with [ErrCorrupt] when b does not start with
// a chunk header.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, fmt.Errorf("frame: %w: %d bytes, header needs %d", ErrCorrupt, len(b), HeaderSize)
	}
	if b[0] != magic0 || b[1] != magic1 {
		return Header{}, fmt.Errorf("frame: %w: bad magic %#02x%02x", ErrCorrupt, b[0], b[1])
	}
	if b[2] != version || b[3] != 0 {
		return Header{}, fmt.Errorf("frame: %w: unknown version %d flags %#x", ErrCorrupt, b[2], b[3])
	}
	h := Header{
		Length: binary.LittleEndian.Uint32(b[8:]),
		Sender: Sender(binary.LittleEndian.Uint64(b[12:])),
		Seq:    binary.LittleEndian.Uint32(b[20:]),
		Offset: binary.LittleEndian.Uint32(b[24:]),
		Total:  binary.LittleEndian.Uint32(b[28:]),
	}
	if uint64(h.Offset)+uint64(h.Length) > uint64(h.Total) {
		return Header{}, fmt.Errorf("frame: %w: chunk [%d, +%d) beyond message length %d", ErrCorrupt, h.Offset, h.Length, h.Total)
	}
	return h, nil
}

// checksumOK reports whether chunk c carries the right checksum. It zeroes
// the field while it computes, and puts it back.
func checksumOK(c []byte) bool {
	stored := binary.LittleEndian.Uint32(c[4:])
	binary.LittleEndian.PutUint32(c[4:], 0)
	sum := crc32.ChecksumIEEE(c)
	binary.LittleEndian.PutUint32(c[4:], stored)
	return sum == stored
}
