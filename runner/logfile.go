package runner

import (
	"bytes"
	"errors"
	"io"
	"os"
	"sync"
	"time"
)

// LineBatcher collects whole lines and writes them in batches: one write
// per flush, so a reader (or a crash) never sees half a line, and a run of
// thousands of quick steps does not pay a write per event. It flushes
// when the batch is large, after interval, and on Flush and Close.
type LineBatcher struct {
	mu       sync.Mutex
	w        io.Writer
	buf      []byte
	interval time.Duration
	timer    *time.Timer
	err      error
}

const batchLimit = 64 << 10

// NewLineBatcher returns a LineBatcher over w; interval 0 writes every
// line at once.
func NewLineBatcher(w io.Writer, interval time.Duration) *LineBatcher {
	return &LineBatcher{w: w, interval: interval}
}

// Write adds p, one or more lines, to the batch.
func (b *LineBatcher) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return 0, b.err
	}
	b.buf = append(b.buf, p...)
	switch {
	case b.interval == 0 || len(b.buf) >= batchLimit:
		b.flushLocked()
	case b.timer == nil:
		b.timer = time.AfterFunc(b.interval, func() { _ = b.Flush() })
	}
	return len(p), nil
}

// Flush writes every complete line collected so far.
func (b *LineBatcher) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.flushLocked()
}

func (b *LineBatcher) flushLocked() error {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
	end := bytes.LastIndexByte(b.buf, '\n') + 1
	if end == 0 || b.err != nil {
		return b.err
	}
	n, err := b.w.Write(b.buf[:end])
	if err == nil && n < end {
		err = io.ErrShortWrite
	}
	if err != nil {
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
// mode 0600: the log can hold process output and messages.
func OpenLog(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
}
