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

// Stats counts the messages, and their payload bytes, that a batch
// operation moved. For [Channel.ReceiveStress] it also says how many
// senders took part and whether every message checked out.
type Stats struct {
	Messages int
	Bytes    int64
	Senders  int
	Verified bool
}

// sendState belongs to the goroutine holding the channel's send semaphore.
type sendState struct {
	sender frame.Sender
	enc    *frame.Encoder
	w      *end // where flush writes; set for each operation

	// The write in progress, for writeFn, which is made once so that a
	// write allocates nothing.
	p       [][]byte
	done    int
	werr    error
	writeFn func(fd uintptr) bool
}

func (s *sendState) init(c *Channel) {
	s.sender = frame.NewSender(os.Getpid(), senderCount.Add(1))
	if c.opt.Framing == Lines {
		s.enc = frame.NewLineEncoder(c.limits().Chunk, s.flush)
	} else {
		s.enc = frame.NewEncoder(s.sender, c.limits(), s.flush)
	}
	s.writeFn = s.write
}

// flush writes the concatenation of p. A write of at most PIPE_BUF bytes to
// a pipe, or a datagram, goes whole or not at all; a longer one, a burst of
// full chunks, may go in parts between chunks (see frame.Limits), waiting
// for room in between.
func (s *sendState) flush(p [][]byte) (int, error) {
	s.p, s.done, s.werr = p, 0, nil
	err := s.w.rc.Write(s.writeFn)
	n := s.done
	s.p = nil
	if err == nil {
		err = s.werr
	}
	return n, err
}

// write writes as much of s.p as the descriptor takes, dropping what is
// written from s.p; false means wait until it is writable.
func (s *sendState) write(fd uintptr) bool {
	for len(s.p) > 0 {
		var n int
		var err error
		if len(s.p) == 1 {
			n, err = unix.Write(int(fd), s.p[0])
		} else {
			n, err = unix.Writev(int(fd), s.p)
		}
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false
		case err != nil:
			s.werr = err
			return true
		case n == 0:
			s.werr = io.ErrShortWrite
			return true
		}
		s.done += n
		for n > 0 {
			k := min(n, len(s.p[0]))
			s.p[0] = s.p[0][k:]
			n -= k
			if len(s.p[0]) == 0 {
				s.p = s.p[1:]
			}
		}
	}
	return true
}

// Send sends msg as one message. It blocks while the channel is full,
// until ctx is done. The error wraps [frame.ErrTooLarge] for a message
// over the channel's maximum (or, on lines channels, one that cannot be
// written whole), [ErrReceiverGone] when no one can read the channel any
// more, [ErrNoReader] for a FIFO no one has open, and context.Cause(ctx)
// when ctx ended the wait.
func (c *Channel) Send(ctx context.Context, msg []byte) error {
	if len(msg) > c.opt.MaxMessage {
		return c.err("send", fmt.Errorf("%w: %d bytes, at most %d allowed", frame.ErrTooLarge, len(msg), c.opt.MaxMessage))
	}
	_, err := c.sending(ctx, func(enc *frame.Encoder) error { return enc.Encode(nil, msg) })
	return err
}

// SendStress sends count generated messages of size bytes each: numbered
// from 0 and patterned so that [Channel.ReceiveStress] can check that each
// arrived whole, once and in order. Small messages share writes. size is
// at least 8 on framed channels (the number) and 34 on lines channels
// (sender and number in hex, as text). The Stats count what was written.
func (c *Channel) SendStress(ctx context.Context, count, size int) (Stats, error) {
	if err := checkStress(c.opt, count, size); err != nil {
		return Stats{}, c.err("send", err)
	}
	if maxLine := c.limits().Chunk; c.opt.Framing == Lines && size+1 > maxLine {
		return Stats{}, c.err("send", fmt.Errorf("%w: a line of %d bytes plus newline, a write keeps at most %d whole", frame.ErrTooLarge, size, maxLine))
	}
	p := newPattern(c.opt.Framing, size)
	return c.sending(ctx, func(enc *frame.Encoder) error {
		var head [linesHead]byte
		for i := range count {
			h, body := p.message(head[:0], c.send.sender, uint64(i))
			if err := enc.Encode(h, body); err != nil {
				return err
			}
		}
		return nil
	})
}

// sending runs fn with the encoder while holding the send side, with the
// write end ready and ctx watched, then writes what fn left buffered. It
// returns what reached the channel.
func (c *Channel) sending(ctx context.Context, fn func(*frame.Encoder) error) (Stats, error) {
	if err := ctx.Err(); err != nil {
		return Stats{}, c.err("send", context.Cause(ctx))
	}
	if err := acquire(ctx, c.sendSem); err != nil {
		return Stats{}, c.err("send", err)
	}
	defer release(c.sendSem)
	w, err := c.writer()
	if err != nil {
		return Stats{}, c.err("send", err)
	}
	enc := c.send.enc
	c.send.w = w
	msgs0, bytes0 := enc.Sent()
	stop := watch(ctx, w.f.SetWriteDeadline)
	err = fn(enc)
	if err == nil {
		err = enc.Flush()
	} else {
		enc.Discard()
	}
	stop()
	msgs, bytes := enc.Sent()
	stats := Stats{Messages: msgs - msgs0, Bytes: bytes - bytes0}
	if err != nil {
		return stats, c.err("send", c.ioError(ctx, w, err))
	}
	return stats, nil
}

// ioError turns what a read or write through e returned into the error a
// caller can match.
func (c *Channel) ioError(ctx context.Context, e *end, err error) error {
	var errno unix.Errno
	switch {
	case errors.As(err, &errno) && (errno == unix.EPIPE || errno == unix.ECONNREFUSED):
		return &errnoError{ErrReceiverGone, errno}
	case errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil:
		return context.Cause(ctx)
	case !c.holds(e):
		// Closed under us by Close, CloseRead or CloseWrite.
		return fmt.Errorf("%w: %w", os.ErrClosed, err)
	}
	return err
}

// holds reports whether e is still one of the endpoint's open ends.
func (c *Channel) holds(e *end) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.closed && (c.r == e || c.w == e)
}

// acquire takes the semaphore sem unless ctx ends first.
func acquire(ctx context.Context, sem chan struct{}) error {
	select {
	case sem <- struct{}{}:
		return nil
	default:
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

func release(sem chan struct{}) { <-sem }

// longAgo is a deadline that has passed: setting it wakes a waiting read
// or write at once.
var longAgo = time.Unix(1, 0)

// watch makes ctx's end interrupt I/O waiting under the deadline setter
// set; stop undoes it and must be called before the I/O is used again.
func watch(ctx context.Context, set func(time.Time) error) (stop func()) {
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	stopAfter := context.AfterFunc(ctx, func() {
		_ = set(longAgo)
		close(fired)
	})
	return func() {
		if !stopAfter() {
			<-fired
			_ = set(time.Time{})
		}
	}
}
