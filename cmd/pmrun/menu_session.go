package main

// The menu session: its state, the prompt and the loop that reads choices.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"
)

// menu is one interactive session.
type menu struct {
	out           io.Writer
	outMu         sync.Mutex // prodcons trace lines come from worker threads
	echo          bool       // show the answers read, when stdin is not a terminal
	in            *lineReader
	sess          *runner.Session
	logFile       string // "" with --no-log
	logBatch      *runner.LineBatcher
	record        string
	recordRegular bool // the recording is rewritten after each step

	procs    map[string]bool // process names used
	threads  map[string]bool // thread names used: true while running
	received int             // receive steps so far, for their ids
	clean    bool            // no send or receive failed: a replay sees the messages the session saw
	tracing  atomic.Bool     // show prodcons item events
}

func (m *menu) say(format string, args ...any) {
	m.outMu.Lock()
	fmt.Fprintf(m.out, format+"\n", args...)
	m.outMu.Unlock()
}

func (m *menu) banner() {
	where := "events go to " + m.logFile
	if m.logFile == "" {
		where = "no log file (--no-log)"
	}
	m.say("pmrun menu: the process manager's options on pmrun's actions; %s.", where)
	m.say("Type a number and Enter; Ctrl-D or 9 exits.")
}

func (m *menu) loop(ctx context.Context) error {
	for {
		m.say("\nOptions:")
		for i, o := range menuOptions {
			m.say("%d. %s", i+1, o)
		}
		choice, err := m.prompt(ctx, "Select an option: ")
		if err != nil {
			return err
		}
		switch strings.TrimSpace(choice) {
		case "1":
			err = m.createProcess(ctx)
		case "2":
			err = m.createThread(ctx)
		case "3":
			err = m.terminateThread(ctx)
		case "4":
			err = m.monitor(ctx)
		case "5":
			err = m.send(ctx)
		case "6":
			err = m.receive(ctx)
		case "7":
			m.clearLog()
		case "8":
			err = m.prodcons(ctx)
		case "9":
			m.say("Exited successfully")
			return errQuit
		case "10":
			err = m.beScheduler(ctx)
		case "":
			m.say("No option chosen. Type a number from 1 to 10.")
		default:
			m.say("Invalid option %q. Try again: type a number from 1 to 10.", strings.TrimSpace(choice))
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}
}

// prompt shows text and reads one line. The end of input is errQuit.
func (m *menu) prompt(ctx context.Context, text string) (string, error) {
	m.outMu.Lock()
	fmt.Fprint(m.out, text)
	m.outMu.Unlock()
	select {
	case line, ok := <-m.in.lines:
		if !ok {
			m.say("")
			if err := m.in.err; err != nil && !errors.Is(err, io.EOF) {
				m.say("Cannot read the input (%v): exiting.", err)
			} else {
				m.say("End of input: exiting.")
			}
			return "", errQuit
		}
		if m.echo {
			m.say("%s", line)
		}
		return line, nil
	case <-ctx.Done():
		m.say("")
		return "", context.Cause(ctx)
	}
}

// step runs one step through the session; it prints why a step was not
// run or failed, with what, and reports whether it succeeded.
func (m *menu) step(ctx context.Context, what string, step *yaml.Node) (*lang.StepResult, bool) {
	text, err := yaml.Marshal(step)
	if err != nil {
		m.say("Could not %s: %v", what, err)
		return nil, false
	}
	r, err := m.sess.Step(ctx, string(text))
	var le lang.LoadErrors
	switch {
	case errors.As(err, &le):
		for _, e := range le {
			m.say("Could not %s: %s", what, e.Msg)
		}
		return nil, false
	case err != nil:
		m.say("Could not %s: %v", what, err)
		return nil, false
	case ctx.Err() != nil:
		return r, false
	}
	m.saveRecord(ctx)
	if r.Status != lang.StatusOK {
		m.say("Could not %s: %v", what, r.Err)
		return r, false
	}
	return r, true
}

// lineReader reads lines from the input on its own goroutine, so that a
// prompt can give up on Ctrl-C.
type lineReader struct {
	lines chan string
	err   error // why lines was closed; read after it is
}

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string)}
	go func() {
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				lr.lines <- strings.TrimRight(line, "\r\n")
			}
			if err != nil {
				lr.err = err
				close(lr.lines)
				return
			}
		}
	}()
	return lr
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
