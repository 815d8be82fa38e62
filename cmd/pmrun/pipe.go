package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/pmrun/pmrun/runner"
)

// exitConsoleClosed is the exit code of a run stopped because its
// console's reader went away: what a shell shows for a program that
// SIGPIPE killed, but after finally and cleanup have run.
const exitConsoleClosed = 128 + int(syscall.SIGPIPE)

// errConsoleClosed is the cause of a run stopped because nobody reads its
// console any more (pmrun scenario.yaml | head -1). It is an interruption:
// finally steps and cleanup run, and the log's last event says why.
var errConsoleClosed = fmt.Errorf("%w: the console's reader went away (stdout: broken pipe)", runner.ErrInterrupted)

// consoleWriter is the console's stdout. Its first EPIPE closes gone, so
// that the run can stop cleanly, where the default would have been death
// by SIGPIPE with nothing cleaned up.
type consoleWriter struct {
	w    io.Writer
	once sync.Once
	gone chan struct{}
}

func newConsoleWriter(w io.Writer) *consoleWriter {
	return &consoleWriter{w: w, gone: make(chan struct{})}
}

func (c *consoleWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if errors.Is(err, syscall.EPIPE) {
		c.once.Do(func() { close(c.gone) })
	}
	return n, err
}

// checkedOutput is pmrun's standard output. It keeps the first write
// error other than EPIPE (a full disk, an I/O error), which the command's
// exit code then reports ([exitOutput]): otherwise what was written would
// be lost without a word. EPIPE is the reader going away: a run stops for
// it ([consoleWriter]), other commands die of SIGPIPE as Unix programs do.
type checkedOutput struct {
	w   io.Writer
	mu  sync.Mutex
	err error
}

func (o *checkedOutput) Write(p []byte) (int, error) {
	n, err := o.w.Write(p)
	if err != nil && !errors.Is(err, syscall.EPIPE) {
		o.mu.Lock()
		if o.err == nil {
			o.err = err
		}
		o.mu.Unlock()
	}
	return n, err
}

// Err is the first write error other than EPIPE.
func (o *checkedOutput) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// outputLost returns the error a command ends with when its standard
// output failed with werr (see [checkedOutput]): an output failure, exit
// 3, unless err is an interruption or a usage error, whose code stands.
// err's message, if any, is said first.
func outputLost(err, werr error, stderr io.Writer) error {
	lost := fmt.Errorf("stdout: %v: what pmrun wrote there is incomplete", werr)
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) && coded.ExitCode() != exitFailed {
		fmt.Fprintln(stderr, "pmrun: "+lost.Error())
		return err
	}
	if err != nil && err.Error() != "" {
		fmt.Fprintln(stderr, "pmrun: "+err.Error())
	}
	return &exitError{code: exitOutput, err: lost}
}

// fileOf returns the file that w writes to, through pmrun's own writers,
// for the questions only a file answers (is it a terminal, how wide).
func fileOf(w io.Writer) (*os.File, bool) {
	for {
		switch v := w.(type) {
		case *os.File:
			return v, true
		case *consoleWriter:
			w = v.w
		case *checkedOutput:
			w = v.w
		default:
			return nil, false
		}
	}
}

// stopWhenConsoleGone returns ctx cancelled with [errConsoleClosed] once
// the console's reader has gone. Until stop, a write to a closed pipe
// returns EPIPE instead of killing pmrun with SIGPIPE: the signal is
// caught (not ignored, which children would inherit) and dropped.
func stopWhenConsoleGone(ctx context.Context, console *consoleWriter) (context.Context, func()) {
	sigpipe := make(chan os.Signal, 1)
	signal.Notify(sigpipe, syscall.SIGPIPE)
	ctx, cancel := context.WithCancelCause(ctx)
	go func() {
		for {
			select {
			case <-console.gone:
				cancel(errConsoleClosed)
				return
			case <-sigpipe: // a closed pipe of any kind: its write says which
			case <-ctx.Done():
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigpipe)
		cancel(nil)
	}
}

// flushFirst writes to w what is written to it, after the lines batch
// holds, so that text written straight to the console (a manual
// scheduler's game, its prompts without a line end) keeps its place among
// the console's lines.
type flushFirst struct {
	batch *runner.LineBatcher
	w     io.Writer
}

func (f *flushFirst) Write(p []byte) (int, error) {
	if err := f.batch.Flush(); err != nil {
		return 0, err
	}
	return f.w.Write(p)
}
