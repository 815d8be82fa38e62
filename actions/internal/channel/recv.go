package channel

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/frame"
)

// recvState belongs to the goroutine holding the channel's receive
// semaphore. buf[rpos:wpos] is what was read and not yet decoded; it stays
// across calls, so nothing read is lost between them.
type recvState struct {
	c          *Channel
	buf        []byte
	rpos, wpos int
	dec        interface {
		Next(b []byte, eof bool) (frame.Message, int, error)
	}
	framed  *frame.Decoder // dec, on framed channels
	minRoom int            // free bytes a read needs
	eof     bool           // a pipe's writers are all gone, for good
	idle    bool           // a FIFO has no writer at the moment
	atEOF   bool           // writers went away: what is buffered is all they sent

	deadline time.Time // of the current operation; zero for none
	setTo    time.Time // the read deadline last set on the descriptor

	// The result of nextStep, made once so that a receive allocates
	// nothing for it.
	msg      frame.Message
	nextStep func(b []byte, eof bool) (done bool, n int, err error)
}

// livenessPoll is how often a receive waiting with an unfinished message
// pending checks whether its sender has exited: a sender that died mid-
// message is reported soon, not when a long timeout runs out.
const livenessPoll = 100 * time.Millisecond

func (r *recvState) init(c *Channel) {
	r.c = c
	r.minRoom = frame.PipeBuf
	if c.opt.Kind == Socket {
		// A whole datagram, plus the newline a lines datagram may lack.
		r.minRoom = socketChunk + 1
	}
	if c.opt.Framing == Lines {
		r.dec = frame.NewLineDecoder(c.opt.MaxMessage)
	} else {
		r.framed = frame.NewDecoder(c.opt.MaxMessage, c.limits().Chunk)
		r.dec = r.framed
	}
	r.nextStep = func(b []byte, eof bool) (bool, int, error) {
		m, n, err := r.dec.Next(b, eof)
		r.msg = m
		return m.Done(), n, err
	}
}

// Receive returns the next message. timeout 0 does not wait: with no whole
// message waiting it fails at once with [ErrEmpty]. A positive timeout
// waits that long and then fails with [ErrTimeout]; a negative one waits
// until ctx is done. Messages come in the order each sender sent them.
//
// Errors do not lose data and do not stop the channel; call again to go
// on. When a sender stopped in the middle of a message and has exited (or,
// on a pipe or FIFO, every writer closed it), the error wraps
// [frame.ErrTruncated]. Bad data wraps [frame.ErrCorrupt] or
// [frame.ErrSequence]. On a pipe whose writers are all gone the error wraps
// io.EOF.
func (c *Channel) Receive(ctx context.Context, timeout time.Duration) ([]byte, error) {
	var msg []byte
	err := c.receiving(ctx, timeout, func(ctx context.Context, e *end, nonblock bool) error {
		r := &c.recv
		err := r.run(ctx, e, nonblock, r.nextStep)
		if err == nil {
			msg = own(r.msg)
		}
		return err
	})
	return msg, err
}

// ReceiveN returns up to n messages. With timeout 0 it takes those already
// waiting, failing with [ErrEmpty] only if there are none; otherwise it
// waits for n messages, at most timeout (forever if negative), and returns
// those it got with [ErrTimeout] if fewer. An error other than running out
// of time returns the messages before it.
func (c *Channel) ReceiveN(ctx context.Context, n int, timeout time.Duration) ([][]byte, error) {
	var msgs [][]byte
	err := c.receiving(ctx, timeout, func(ctx context.Context, e *end, nonblock bool) error {
		r := &c.recv
		for len(msgs) < n {
			if err := r.run(ctx, e, nonblock, r.nextStep); err != nil {
				if errors.Is(err, ErrEmpty) && len(msgs) > 0 {
					return nil
				}
				return err
			}
			msgs = append(msgs, own(r.msg))
		}
		return nil
	})
	return msgs, err
}

// Keep bounds the messages a receive keeps (see [Channel.ReceiveKeep]):
// at most Messages of them and Bytes of payload, but always the first.
type Keep struct {
	Messages int
	Bytes    int64
}

// ReceiveKeep is [Channel.ReceiveN] for a receiver that does not keep
// every message: it keeps the first messages that arrive, as many as fit
// in keep (the first one always, whole), and counts the rest in st
// without keeping them. Messages not kept are checked like any other but
// neither copied nor put together: memory stays bounded by keep, whatever
// n is. st counts every message received, kept or not.
func (c *Channel) ReceiveKeep(ctx context.Context, n int, timeout time.Duration, keep Keep) (kept [][]byte, st Stats, err error) {
	var keptBytes int64
	full := false
	fits := func(size int) bool {
		switch {
		case full:
		case len(kept) == 0:
			return true
		case len(kept) >= keep.Messages || keptBytes+int64(size) > keep.Bytes:
			// Messages kept are the first ones: once one does not fit,
			// none after it is kept either.
			full = true
		default:
			return true
		}
		return false
	}
	err = c.receiving(ctx, timeout, func(ctx context.Context, e *end, nonblock bool) error {
		r := &c.recv
		if r.framed != nil {
			r.framed.SetKeep(fits)
			defer r.framed.SetKeep(nil)
		}
		for st.Messages < n {
			if err := r.run(ctx, e, nonblock, r.nextStep); err != nil {
				if errors.Is(err, ErrEmpty) && st.Messages > 0 {
					return nil
				}
				return err
			}
			st.Messages++
			st.Bytes += int64(r.msg.Size)
			if r.msg.Data != nil && fits(r.msg.Size) {
				kept = append(kept, own(r.msg))
				keptBytes += int64(r.msg.Size)
			}
		}
		return nil
	})
	return kept, st, err
}

// ReceiveStress receives count messages sent by [Channel.SendStress], from
// any number of senders, and checks each: Stats.Verified is true only if
// all count arrived, each whole, once, and in its sender's order. timeout
// bounds the whole batch as in [Channel.ReceiveN]. A failed check is an
// error wrapping [ErrVerify] naming the first problem. On a framed channel
// messages are checked chunk by chunk as they are read, never copied.
func (c *Channel) ReceiveStress(ctx context.Context, count int, timeout time.Duration) (Stats, error) {
	if count < 0 {
		return Stats{}, c.err("receive", fmt.Errorf("%w: stress count %d is negative", ErrInvalid, count))
	}
	v := newVerifier(c.opt.Framing)
	var st Stats
	err := c.receiving(ctx, timeout, func(ctx context.Context, e *end, nonblock bool) error {
		r := &c.recv
		if r.framed == nil {
			for st.Messages < count {
				if err := r.run(ctx, e, nonblock, r.nextStep); err != nil {
					return err
				}
				v.check(0, r.msg.Data)
				st.Messages++
				st.Bytes += int64(len(r.msg.Data))
			}
			return nil
		}
		step := func(b []byte, _ bool) (bool, int, error) {
			p, n, err := r.framed.NextPiece(b)
			if err != nil || p.Data == nil || !v.piece(p) {
				return false, n, err
			}
			st.Messages++
			st.Bytes += int64(p.Total)
			return true, n, nil
		}
		for st.Messages < count {
			if err := r.run(ctx, e, nonblock, step); err != nil {
				return err
			}
		}
		return nil
	})
	st.Senders = len(v.senders)
	if err == nil {
		err = c.err("receive", v.err())
	}
	st.Verified = err == nil && st.Messages == count
	return st, err
}

// own returns the message's data in memory of its own.
func own(m frame.Message) []byte {
	if m.Owned {
		return m.Data
	}
	return append(make([]byte, 0, len(m.Data)), m.Data...)
}

// receiving runs fn holding the receive side, with the read end e ready,
// the timeout set and ctx watched; fn reads through c.recv.run.
func (c *Channel) receiving(ctx context.Context, timeout time.Duration, fn func(ctx context.Context, e *end, nonblock bool) error) error {
	if err := ctx.Err(); err != nil {
		return c.err("receive", context.Cause(ctx))
	}
	if err := acquire(ctx, c.recvSem); err != nil {
		return c.err("receive", err)
	}
	defer release(c.recvSem)
	e, err := c.reader()
	if err != nil {
		return c.err("receive", err)
	}
	r := &c.recv
	r.deadline = time.Time{}
	if timeout > 0 {
		r.deadline = time.Now().Add(timeout)
	}
	stop := watch(ctx, e.f.SetReadDeadline)
	err = fn(ctx, e, timeout == 0)
	stop()
	if !r.setTo.IsZero() {
		_ = e.f.SetReadDeadline(time.Time{})
		r.setTo = time.Time{}
	}
	return c.err("receive", err)
}

// run feeds what is buffered to step until step is done, reading when
// the buffer holds nothing step can use. nonblock makes it fail with
// ErrEmpty instead of waiting. step reports whether it is done and how
// many bytes it used, as the decoders do; what it returns points into the
// buffer and is valid until the next run.
func (r *recvState) run(ctx context.Context, e *end, nonblock bool, step func(b []byte, eof bool) (done bool, n int, err error)) error {
	for {
		if r.rpos < r.wpos || r.atEOF {
			done, n, err := step(r.buf[r.rpos:r.wpos], r.atEOF)
			r.rpos += n
			if err != nil {
				return err
			}
			if done {
				return nil
			}
			if n > 0 {
				continue
			}
		}
		if r.atEOF {
			r.atEOF = false
			if err := r.writersGone(); err != nil {
				return err
			}
		}
		if r.eof {
			return fmt.Errorf("every writer closed the pipe: %w", io.EOF)
		}
		err := r.fill(ctx, e, nonblock)
		switch {
		case err == nil:
		case errors.Is(err, ErrEmpty) || isDeadline(err) && ctx.Err() == nil:
			// A message whose sender has exited will never be
			// finished, and that is the news to give.
			if r.framed != nil {
				if terr := r.framed.Abandon(r.cutOff); terr != nil {
					return terr
				}
			}
			if errors.Is(err, ErrEmpty) {
				return err
			}
			if !r.deadline.IsZero() && !time.Now().Before(r.deadline) {
				return ErrTimeout
			}
			// Only a liveness check was due: wait on.
		default:
			return r.c.ioError(ctx, e, err)
		}
	}
}

// cutOff reports whether sender s stopped in the middle of a message for
// good: it has exited, and nothing waits unread in the channel. A sender
// that wrote its last chunk and exited after this receive's read gave up
// is not cut off: its chunk is still to read. The order matters: what an
// exited sender wrote is in the channel before the look at it.
func (r *recvState) cutOff(s frame.Sender) bool {
	if !senderGone(s) {
		return false
	}
	n, ok := r.c.Unread()
	return !ok || n == 0
}

// setDeadline sets the read deadline a blocking read needs: the
// operation's, or sooner while a message is unfinished, to check on its
// sender.
func (r *recvState) setDeadline(ctx context.Context, e *end) error {
	want := r.deadline
	if r.framed != nil && r.framed.Pending() > 0 {
		now := time.Now()
		if poll := now.Add(livenessPoll); want.IsZero() || poll.Before(want) {
			// Keep a poll deadline still ahead rather than move it
			// on every read.
			if r.setTo.After(now) && !r.setTo.After(poll) {
				return nil
			}
			want = poll
		}
	}
	if want.Equal(r.setTo) {
		return nil
	}
	if err := e.f.SetReadDeadline(want); err != nil {
		return err
	}
	r.setTo = want
	// A cancellation that set its own deadline just before may have been
	// overwritten: look again.
	if ctx.Err() != nil {
		return os.ErrDeadlineExceeded
	}
	return nil
}

func isDeadline(err error) bool { return errors.Is(err, os.ErrDeadlineExceeded) }

// writersGone is called when the last writer closed the pipe or FIFO with
// nothing whole left buffered: every unfinished message is truncated.
func (r *recvState) writersGone() error {
	if r.framed == nil {
		return nil
	}
	var errs []error
	if stray := r.wpos - r.rpos; stray > 0 {
		errs = append(errs, fmt.Errorf("frame: %w: %d bytes of an unfinished chunk when the writers closed", frame.ErrCorrupt, stray))
		r.rpos = r.wpos
	}
	errs = append(errs, r.framed.Abandon(nil))
	return errors.Join(errs...)
}

// fill reads once into the buffer, waiting for data unless nonblock. At
// the end of the writers it sets atEOF and returns nil.
func (r *recvState) fill(ctx context.Context, e *end, nonblock bool) error {
	r.makeRoom()
	if !nonblock {
		if err := r.setDeadline(ctx, e); err != nil {
			return err
		}
	}
	socket := r.c.opt.Kind == Socket
	fifo := r.c.opt.Kind == FIFO
	p := r.buf[r.wpos:]
	if socket {
		p = p[:len(p)-1] // room for a newline
	}
	var n int
	var rerr error
	empty, zero := false, false
	err := e.rc.Read(func(fd uintptr) bool {
		for {
			if socket {
				// MSG_DONTWAIT: the socket's description is shared
				// with children and may have been made blocking.
				n, _, rerr = unix.Recvfrom(int(fd), p, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			} else {
				n, rerr = unix.Read(int(fd), p)
			}
			if rerr != unix.EINTR {
				break
			}
		}
		switch {
		case rerr == unix.EAGAIN, rerr == nil && n == 0 && fifo && r.idle:
			// Nothing to read; on an idle FIFO, wait for a writer.
			empty = nonblock
			return nonblock
		case rerr == nil && n == 0 && !socket:
			zero = true
		}
		return true
	})
	switch {
	case err != nil:
		return err
	case empty:
		return ErrEmpty
	case rerr != nil:
		return rerr
	case zero:
		r.atEOF = true
		if fifo {
			// New writers may come.
			r.idle = true
		} else {
			r.eof = true
		}
		return nil
	case socket && n > len(p):
		return fmt.Errorf("%w: datagram of %d bytes, at most %d accepted", frame.ErrTooLarge, n, len(p))
	}
	r.idle = false
	r.wpos += n
	if socket && r.c.opt.Framing == Lines && n > 0 && r.buf[r.wpos-1] != '\n' {
		// A datagram ends its last line.
		r.buf[r.wpos] = '\n'
		r.wpos++
	}
	return nil
}

// makeRoom makes sure at least minRoom bytes are free after wpos, moving
// the undecoded bytes to the front or growing the buffer (only a long
// line needs that, and never past what the decoder accepts).
func (r *recvState) makeRoom() {
	if r.buf == nil {
		r.buf = make([]byte, readBuf)
	}
	if r.rpos == r.wpos {
		r.rpos, r.wpos = 0, 0
	}
	if len(r.buf)-r.wpos >= r.minRoom && r.rpos < len(r.buf)/2 {
		return
	}
	n := copy(r.buf, r.buf[r.rpos:r.wpos])
	r.rpos, r.wpos = 0, n
	if len(r.buf)-r.wpos < r.minRoom {
		bigger := make([]byte, max(2*len(r.buf), r.wpos+r.minRoom))
		copy(bigger, r.buf[:r.wpos])
		r.buf = bigger
	}
}
