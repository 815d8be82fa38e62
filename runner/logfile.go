package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/pmrun/pmrun/runner/internal/outfile"
)

// LineBatcher collects whole lines and writes them in batches: one write
// per flush, so a reader (or a crash) never sees half a line, and a run of
// thousands of quick steps does not pay a write per event. It flushes
// when the batch is large, after interval, and on Flush and Close. A large
// batch is written by a goroutine of its own while new lines collect in a
// second buffer, so the steps that log do not wait for the disk; one batch
// at a time is in flight, which keeps the lines in order.
type LineBatcher struct {
	mu       sync.Mutex
	idle     sync.Cond // broadcast when a background write ends
	w        io.Writer
	buf      []byte
	spare    []byte // the buffer of the last background write, for reuse
	writing  bool   // a batch is being written in the background
	interval time.Duration
	timer    *time.Timer
	err      error
}

const batchLimit = 64 << 10

// NewLineBatcher returns a LineBatcher over w; interval 0 writes every
// line at once.
func NewLineBatcher(w io.Writer, interval time.Duration) *LineBatcher {
	b := &LineBatcher{w: w, interval: interval}
	b.idle.L = &b.mu
	return b
}

// Write adds p, one or more lines, to the batch.
func (b *LineBatcher) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	return len(p), b.appended()
}

// appended starts what lines added to buf call for: a write at once, a
// write behind, or the timer; mu is held. An [EventLog] encodes its events
// straight into buf and calls it.
func (b *LineBatcher) appended() error {
	if b.interval == 0 {
		return b.flushLocked()
	}
	if len(b.buf) >= batchLimit {
		// A writer faster than the disk waits once a few batches are
		// pending, so memory stays bounded.
		for b.writing && len(b.buf) >= 4*batchLimit {
			b.idle.Wait()
		}
		if !b.writing {
			b.writeBehind()
		}
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(b.interval, func() { _ = b.Flush() })
	}
	return nil
}

// writeBehind hands the complete lines of the batch to a goroutine that
// writes them; mu is held and no write is in flight.
func (b *LineBatcher) writeBehind() {
	end := bytes.LastIndexByte(b.buf, '\n') + 1
	if end == 0 || b.err != nil {
		return
	}
	batch := b.buf[:end]
	b.buf = append(b.spare[:0], b.buf[end:]...)
	b.spare = nil
	b.writing = true
	go func() {
		err := b.write(batch)
		b.mu.Lock()
		if err != nil && b.err == nil {
			b.err = err
		}
		b.spare = batch[:0]
		b.writing = false
		b.idle.Broadcast()
		b.mu.Unlock()
	}()
}

func (b *LineBatcher) write(p []byte) error {
	n, err := b.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return err
}

// Flush writes every complete line collected so far.
func (b *LineBatcher) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

// flushLocked waits for a background write, then writes the complete
// lines of the batch; mu is held.
func (b *LineBatcher) flushLocked() error {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	for b.writing {
		b.idle.Wait()
	}
	end := bytes.LastIndexByte(b.buf, '\n') + 1
	if end == 0 || b.err != nil {
		return b.err
	}
	if err := b.write(b.buf[:end]); err != nil {
		b.err = err
		return err
	}
	b.buf = append(b.buf[:0], b.buf[end:]...)
	return nil
}

// Close flushes what is left, a last unterminated line included, and
// closes the underlying writer if it is a closer.
func (b *LineBatcher) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.buf) > 0 && b.buf[len(b.buf)-1] != '\n' {
		b.buf = append(b.buf, '\n')
	}
	err := b.flushLocked()
	if c, ok := b.w.(io.Closer); ok && b.w != io.Writer(os.Stdout) && b.w != io.Writer(os.Stderr) {
		err = errors.Join(err, c.Close())
	}
	return err
}

// OpenLog opens the JSON-lines log file for appending, creating it with
// mode 0600 (the log can hold process output and messages), by the rules
// of package outfile: no link another user planted in a shared folder is
// followed, and a FIFO nothing reads is an error at once, not a wait.
// Errors name path.
func OpenLog(path string) (*os.File, error) {
	f, err := outfile.OpenAppend(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return f, nil
}
