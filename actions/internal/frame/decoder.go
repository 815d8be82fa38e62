package frame

import (
	"bytes"
	"errors"
	"fmt"
)

// Message is one reassembled message.
type Message struct {
	Sender Sender
	Seq    uint32
	// Data is the message; nil when no message completed, or when the
	// one that did was not kept (Dropped). Unless Owned, it points into
	// the buffer given to Next and is valid until that buffer changes.
	Data []byte
	// Owned says Data was put together from several chunks in memory of
	// its own, which now belongs to the caller.
	Owned bool
	// Dropped says a message completed that the Decoder's keep function
	// (see [Decoder.SetKeep]) declined: it was checked like any other but
	// not put together, and Data is nil.
	Dropped bool
	// Size is the completed message's length, also when it was dropped.
	Size int
}

// Done reports whether m is a completed message, kept or dropped.
func (m Message) Done() bool { return m.Data != nil || m.Dropped }

// TruncatedError reports a message that its sender began and did not
// finish; it matches [ErrTruncated].
type TruncatedError struct {
	Sender Sender
	Seq    uint32
	Got    int // bytes received
	Total  int // bytes announced
}

func (e *TruncatedError) Error() string {
	return fmt.Sprintf("frame: %v: sender %v message %d stopped after %d of %d bytes", ErrTruncated, e.Sender, e.Seq, e.Got, e.Total)
}

// Unwrap returns [ErrTruncated].
func (e *TruncatedError) Unwrap() error { return ErrTruncated }

// senderState is what a Decoder remembers about one sender.
type senderState struct {
	next   uint32 // sequence number expected for the next new message
	synced bool   // next is known: a message from this sender was seen
	// open says a message is in progress: seq, total and got describe it.
	open  bool
	seq   uint32
	total uint32
	got   uint32
	// partial holds what Next has put together of the open message; nil
	// when NextPiece is taking it piece by piece, or when Next drops it.
	partial []byte
	// dropping says Next is counting the open message's chunks without
	// putting them together: keep declined it.
	dropping bool
	// skipping drops the remaining chunks of message skipSeq, already
	// reported as an error, so that one bad message is one error.
	skipping bool
	skipSeq  uint32
}

// Decoder reassembles messages from a byte stream of chunks in which chunks
// of different senders may alternate. It checks every chunk's checksum and,
// per sender, that messages follow one another: the first message it sees
// from a sender may have any sequence number, every later one must be the
// next. It zeroes each chunk's checksum field in the buffer it is given
// while it checks it, and puts it back. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	maxMessage int
	maxChunk   int
	senders    map[Sender]*senderState
	// last caches the most recent sender: most streams have one.
	lastID Sender
	last   *senderState
	// keep, if set, decides at a message's first chunk whether Next puts
	// it together; see SetKeep.
	keep func(size int) bool
}

// NewDecoder returns a Decoder that accepts messages of at most maxMessage
// bytes in chunks of at most maxChunk bytes (header included).
func NewDecoder(maxMessage, maxChunk int) *Decoder {
	return &Decoder{maxMessage: maxMessage, maxChunk: maxChunk, senders: make(map[Sender]*senderState)}
}

// SetKeep makes [Decoder.Next] ask keep, at the first chunk of a message
// of several chunks, whether to put together a message of size bytes. One
// it declines is still checked chunk by chunk, but not copied anywhere,
// and completes as a [Message] with Dropped set: a receiver that keeps
// only some messages spares the memory and the copy of the others. A
// message of one chunk costs no copy either way, so keep is not asked about
// it. nil, the default, keeps every message.
func (d *Decoder) SetKeep(keep func(size int) bool) { d.keep = keep }

// Next decodes the chunk at the start of b. It returns how many bytes of b
// it used, and a message when that chunk completed one. n == 0 with a nil
// error means b holds no whole chunk yet: read more and call again. The
// second argument, for symmetry with [LineDecoder.Next], is ignored.
//
// An error never loses data silently and never stops the stream: call Next
// again to go on. For a corrupt chunk n skips to the next place a chunk may
// start. For [ErrTruncated] (a sender started a new message before
// finishing the last) and [ErrSequence] (messages missing) n is 0 and the
// Decoder has taken note, so the next call delivers the chunk that showed
// the problem.
func (d *Decoder) Next(b []byte, _ bool) (m Message, n int, err error) {
	c, n, err := d.chunk(b)
	if err != nil || !c.ok {
		return Message{}, n, err
	}
	st, h := c.st, c.h
	switch {
	case h.Offset == 0 && !st.open:
		return Message{Sender: h.Sender, Seq: h.Seq, Data: c.payload, Size: len(c.payload)}, n, nil
	case h.Offset == 0 && d.keep != nil && !d.keep(int(h.Total)):
		st.dropping = true
		return Message{}, n, nil
	case h.Offset == 0:
		st.dropping = false
		st.partial = append(make([]byte, 0, h.Total), c.payload...)
		return Message{}, n, nil
	case st.dropping:
		if st.open {
			return Message{}, n, nil
		}
		st.dropping = false
		return Message{Sender: h.Sender, Seq: h.Seq, Dropped: true, Size: int(h.Total)}, n, nil
	case st.partial == nil:
		// Begun by NextPiece: there is nothing to add to.
		st.open, st.skipping, st.skipSeq = false, true, h.Seq
		return Message{}, n, fmt.Errorf("frame: %w: sender %v message %d was begun piece by piece", ErrSequence, h.Sender, h.Seq)
	}
	st.partial = append(st.partial, c.payload...)
	if st.open {
		return Message{}, n, nil
	}
	m = Message{Sender: h.Sender, Seq: h.Seq, Data: st.partial, Owned: true, Size: len(st.partial)}
	st.partial = nil
	return m, n, nil
}

// Piece is one chunk's part of a message, as [Decoder.NextPiece] returns
// it: Data is bytes [Offset, Offset+len(Data)) of a message of Total bytes.
type Piece struct {
	Sender Sender
	Seq    uint32
	Offset int
	Total  int
	// Data points into the buffer given to NextPiece; nil when the chunk
	// decoded was not a piece of a message.
	Data []byte
}

// Last reports whether p ends its message.
func (p Piece) Last() bool { return p.Offset+len(p.Data) == p.Total }

// NextPiece is [Decoder.Next] without putting messages together: it
// returns every chunk's payload as it comes, after the same checks, for a
// caller that can use a message piece by piece and so spare a copy. The
// pieces of each message come in order; a message is whole when a piece
// with Last arrives.
func (d *Decoder) NextPiece(b []byte) (p Piece, n int, err error) {
	c, n, err := d.chunk(b)
	if err != nil || !c.ok {
		return Piece{}, n, err
	}
	c.st.partial, c.st.dropping = nil, false
	return Piece{Sender: c.h.Sender, Seq: c.h.Seq, Offset: int(c.h.Offset), Total: int(c.h.Total), Data: c.payload}, n, nil
}

// accepted is a chunk that passed every check, with its sender's state
// already updated.
type accepted struct {
	ok      bool
	h       Header
	payload []byte
	st      *senderState
}

// chunk decodes and checks the chunk at the start of b and updates its
// sender's state; see Next for n and err. A chunk a caller must use comes
// back with ok set.
func (d *Decoder) chunk(b []byte) (c accepted, n int, err error) {
	if len(b) < HeaderSize {
		return c, 0, nil
	}
	h, err := ParseHeader(b)
	if err != nil {
		return c, resync(b), err
	}
	size := HeaderSize + int(h.Length)
	if size > d.maxChunk {
		return c, resync(b), fmt.Errorf("frame: %w: chunk of %d bytes, at most %d allowed", ErrCorrupt, size, d.maxChunk)
	}
	if len(b) < size {
		return c, 0, nil
	}
	if !checksumOK(b[:size]) {
		return c, resync(b), fmt.Errorf("frame: %w: checksum mismatch in chunk from sender %v message %d", ErrCorrupt, h.Sender, h.Seq)
	}
	st := d.state(h.Sender)
	c = accepted{ok: true, h: h, payload: b[HeaderSize:size:size], st: st}

	if h.Offset != 0 {
		if st.skipping && st.skipSeq == h.Seq {
			return accepted{}, size, nil
		}
		if !st.open {
			st.skipping, st.skipSeq = true, h.Seq
			return accepted{}, size, fmt.Errorf("frame: %w: sender %v message %d: chunk at offset %d of a message never started", ErrSequence, h.Sender, h.Seq, h.Offset)
		}
		if h.Seq != st.seq || h.Total != st.total || h.Offset != st.got {
			err := fmt.Errorf("frame: %w: sender %v: chunk of message %d at offset %d (of %d), expected message %d at offset %d (of %d)",
				ErrCorrupt, h.Sender, h.Seq, h.Offset, h.Total, st.seq, st.got, st.total)
			st.open, st.partial, st.dropping = false, nil, false
			st.skipping, st.skipSeq = true, h.Seq
			return accepted{}, size, err
		}
		st.got += h.Length
		st.open = st.got < st.total
		return c, size, nil
	}

	st.skipping = false
	if st.open {
		err := &TruncatedError{Sender: h.Sender, Seq: st.seq, Got: int(st.got), Total: int(st.total)}
		st.open, st.partial, st.dropping = false, nil, false
		return accepted{}, 0, err
	}
	if st.synced && st.next != h.Seq {
		want := st.next
		st.next = h.Seq
		return accepted{}, 0, fmt.Errorf("frame: %w: sender %v sent message %d, expected %d", ErrSequence, h.Sender, h.Seq, want)
	}
	// The first message seen from a sender may have any number: this
	// endpoint may not be the first to read the channel.
	st.next, st.synced = h.Seq+1, true
	if int64(h.Total) > int64(d.maxMessage) {
		st.skipping, st.skipSeq = true, h.Seq
		return accepted{}, size, fmt.Errorf("frame: %w: sender %v message %d has %d bytes, at most %d allowed", ErrTooLarge, h.Sender, h.Seq, h.Total, d.maxMessage)
	}
	st.open = h.Length < h.Total
	st.seq, st.total, st.got = h.Seq, h.Total, h.Length
	return c, size, nil
}

func (d *Decoder) state(s Sender) *senderState {
	if d.last != nil && d.lastID == s {
		return d.last
	}
	st, ok := d.senders[s]
	if !ok {
		st = &senderState{}
		d.senders[s] = st
	}
	d.lastID, d.last = s, st
	return st
}

// resync returns how many bytes to skip so that b starts at the next place
// that could be a chunk: the next magic number after the first byte.
func resync(b []byte) int {
	i := bytes.Index(b[1:], []byte{magic0, magic1})
	if i < 0 {
		// Keep a trailing 'P': it may be the first half of a magic.
		if b[len(b)-1] == magic0 {
			return len(b) - 1
		}
		return len(b)
	}
	return i + 1
}

// Pending returns the number of messages begun and not yet complete.
func (d *Decoder) Pending() int {
	n := 0
	for _, st := range d.senders {
		if st.open {
			n++
		}
	}
	return n
}

// Abandon drops the unfinished messages of every sender for which gone
// returns true (of every sender when gone is nil) and returns a
// [TruncatedError] for each, joined, or nil when there was none.
func (d *Decoder) Abandon(gone func(Sender) bool) error {
	var errs []error
	for id, st := range d.senders {
		if !st.open || (gone != nil && !gone(id)) {
			continue
		}
		errs = append(errs, &TruncatedError{Sender: id, Seq: st.seq, Got: int(st.got), Total: int(st.total)})
		st.open, st.partial, st.dropping = false, nil, false
	}
	return errors.Join(errs...)
}

// LineDecoder splits a byte stream into newline-ended lines of at most max
// bytes (newline not counted). A longer line is reported as [ErrTooLarge]
// and skipped up to its newline. The zero value is not usable; see
// [NewLineDecoder].
type LineDecoder struct {
	max      int
	skipping bool
}

// NewLineDecoder returns a LineDecoder for lines of at most max bytes.
func NewLineDecoder(max int) *LineDecoder { return &LineDecoder{max: max} }

// Next returns the line at the start of b, without its newline, and how
// many bytes it used; n == 0 means b holds no whole line yet. At eof (no
// writer left), a last line without a newline is a line too.
func (d *LineDecoder) Next(b []byte, eof bool) (m Message, n int, err error) {
	i := bytes.IndexByte(b, '\n')
	if d.skipping {
		if i < 0 {
			return Message{}, len(b), nil
		}
		d.skipping = false
		return Message{}, i + 1, nil
	}
	switch {
	case i > d.max || (i < 0 && len(b) > d.max):
		if i < 0 {
			d.skipping = !eof
			return Message{}, len(b), fmt.Errorf("frame: %w: line longer than %d bytes", ErrTooLarge, d.max)
		}
		return Message{}, i + 1, fmt.Errorf("frame: %w: line of %d bytes, at most %d allowed", ErrTooLarge, i, d.max)
	case i >= 0:
		return Message{Data: b[:i:i], Size: i}, i + 1, nil
	case eof && len(b) > 0:
		return Message{Data: b[:len(b):len(b)], Size: len(b)}, len(b), nil
	}
	return Message{}, 0, nil
}

// State is what a [Decoder] knows of its stream: each sender's next
// sequence number and its unfinished message. A Decoder in another
// process given it ([Decoder.Import]) goes on where this one stopped:
// the endpoints of a channel that receive in turn share one stream.
type State struct {
	Senders []SenderState `json:"senders,omitempty"`
}

// SenderState is one sender's part of a [State]. Partial, the unfinished
// message put together so far, travels apart from the JSON.
type SenderState struct {
	Sender     Sender `json:"sender"`
	Next       uint32 `json:"next"`
	Synced     bool   `json:"synced,omitempty"`
	Open       bool   `json:"open,omitempty"`
	Seq        uint32 `json:"seq,omitempty"`
	Total      uint32 `json:"total,omitempty"`
	Got        uint32 `json:"got,omitempty"`
	Assembling bool   `json:"assembling,omitempty"` // Partial holds the message so far
	Dropping   bool   `json:"dropping,omitempty"`
	Skipping   bool   `json:"skipping,omitempty"`
	SkipSeq    uint32 `json:"skip_seq,omitempty"`
	Partial    []byte `json:"-"`
}

// Export returns the Decoder's state and forgets it: the Decoder is as
// new.
func (d *Decoder) Export() State {
	var s State
	for id, st := range d.senders {
		s.Senders = append(s.Senders, SenderState{
			Sender: id, Next: st.next, Synced: st.synced, Open: st.open,
			Seq: st.seq, Total: st.total, Got: st.got,
			Assembling: st.partial != nil, Partial: st.partial,
			Dropping: st.dropping, Skipping: st.skipping, SkipSeq: st.skipSeq,
		})
	}
	d.senders = make(map[Sender]*senderState)
	d.lastID, d.last = 0, nil
	return s
}

// Import replaces the Decoder's state with s, which another Decoder
// exported. It checks what it can: an unfinished message must fit in the
// Decoder's bounds.
func (d *Decoder) Import(s State) error {
	senders := make(map[Sender]*senderState, len(s.Senders))
	for _, ss := range s.Senders {
		if ss.Total > uint32(min(d.maxMessage, 1<<31)) || ss.Got > ss.Total || (ss.Assembling && len(ss.Partial) != int(ss.Got)) {
			return fmt.Errorf("frame: %w: the state of sender %v does not fit (message %d, %d of %d bytes)", ErrCorrupt, ss.Sender, ss.Seq, ss.Got, ss.Total)
		}
		st := &senderState{next: ss.Next, synced: ss.Synced, open: ss.Open, seq: ss.Seq, total: ss.Total, got: ss.Got,
			dropping: ss.Dropping, skipping: ss.Skipping, skipSeq: ss.SkipSeq}
		if ss.Assembling {
			st.partial = append(make([]byte, 0, ss.Total), ss.Partial...)
		}
		senders[ss.Sender] = st
	}
	d.senders = senders
	d.lastID, d.last = 0, nil
	return nil
}

// Empty reports whether the state holds nothing a fresh Decoder lacks.
func (s State) Empty() bool { return len(s.Senders) == 0 }

// Skipping reports whether the LineDecoder is dropping the rest of a line
// too long; SetSkipping gives another LineDecoder that state.
func (d *LineDecoder) Skipping() bool { return d.skipping }

// SetSkipping sets what Skipping reports.
func (d *LineDecoder) SetSkipping(on bool) { d.skipping = on }
