package channel

import (
	"context"
	"errors"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/frame"
)

// ReceiveState is what an endpoint knows of its channel's stream beyond
// the kernel's buffer: the bytes it has read and not yet returned, each
// sender's sequence and unfinished message, and whether the writers have
// gone. Endpoints in several processes that receive from one channel
// take turns, each taking the state from the one before it
// ([Channel.TakeReceiveState], [Channel.PutReceiveState]): an endpoint
// reads ahead, and the bytes it read belong to whoever receives next,
// whose sequence checks must go on from where the last receiver stopped.
// Buffered and the decoder's partial messages travel beside the JSON.
type ReceiveState struct {
	Buffered     []byte      `json:"-"`
	EOF          bool        `json:"eof,omitempty"`
	AtEOF        bool        `json:"at_eof,omitempty"`
	Idle         bool        `json:"idle,omitempty"`
	LineSkipping bool        `json:"line_skipping,omitempty"`
	Decoder      frame.State `json:"decoder"`
}

// Empty reports whether s holds nothing a fresh endpoint lacks.
func (s ReceiveState) Empty() bool {
	return len(s.Buffered) == 0 && !s.EOF && !s.AtEOF && !s.Idle && !s.LineSkipping && s.Decoder.Empty()
}

// TakeReceiveState returns this endpoint's receive state and leaves it
// as new, once a receive in progress here has ended.
func (c *Channel) TakeReceiveState(ctx context.Context) (ReceiveState, error) {
	if err := acquire(ctx, c.recvSem); err != nil {
		return ReceiveState{}, c.err("receive", err)
	}
	defer release(c.recvSem)
	r := &c.recv
	s := ReceiveState{EOF: r.eof, AtEOF: r.atEOF, Idle: r.idle}
	if r.wpos > r.rpos {
		s.Buffered = append([]byte(nil), r.buf[r.rpos:r.wpos]...)
	}
	if r.framed != nil {
		s.Decoder = r.framed.Export()
	} else if ld, ok := r.dec.(*frame.LineDecoder); ok {
		s.LineSkipping = ld.Skipping()
		ld.SetSkipping(false)
	}
	r.rpos, r.wpos = 0, 0
	r.eof, r.atEOF, r.idle = false, false, false
	return s, nil
}

// PutReceiveState gives this endpoint the receive state another endpoint
// of the channel took, for it to receive next. The endpoint's own state
// must be as new: two states cannot be merged.
func (c *Channel) PutReceiveState(ctx context.Context, s ReceiveState) error {
	if s.Empty() {
		return nil
	}
	if err := acquire(ctx, c.recvSem); err != nil {
		return c.err("receive", err)
	}
	defer release(c.recvSem)
	r := &c.recv
	mine := ReceiveState{EOF: r.eof, AtEOF: r.atEOF, Idle: r.idle}
	if r.wpos > r.rpos {
		mine.Buffered = r.buf[r.rpos:r.wpos]
	}
	if r.framed != nil && r.framed.Pending() > 0 || !mine.Empty() {
		return c.err("receive", errors.New("a receive state was handed to an endpoint that holds one"))
	}
	if r.framed != nil {
		if err := r.framed.Import(s.Decoder); err != nil {
			return c.err("receive", err)
		}
	} else if ld, ok := r.dec.(*frame.LineDecoder); ok {
		ld.SetSkipping(s.LineSkipping)
	} else if !s.Decoder.Empty() {
		return c.err("receive", fmt.Errorf("%w: a framed receive state for a lines channel", ErrInvalid))
	}
	if n := len(s.Buffered); n > 0 {
		if len(r.buf) < n+r.minRoom {
			r.buf = make([]byte, max(readBuf, n+r.minRoom))
		}
		r.rpos, r.wpos = 0, copy(r.buf, s.Buffered)
	}
	r.eof, r.atEOF, r.idle = s.EOF, s.AtEOF, s.Idle
	return nil
}
