package manual

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// Input is where the player's keys come from, a line at a time.
type Input interface {
	// Line returns the next line, without its end, or io.EOF after the
	// last; it gives up when ctx ends, with ctx's cause.
	Line(ctx context.Context) (string, error)
}

// readerInput reads lines from a reader on a goroutine of its own, so that
// a wait for the player gives up when the step's context ends.
type readerInput struct {
	r     io.Reader
	start sync.Once
	lines chan string
	err   error // why lines was closed; read after it is
}

// NewInput reads the lines of r. It starts reading at its first Line (a
// program that never plays never reads its input: a read of a terminal
// by a process in the background would stop it), then keeps reading
// until the end of r; make one Input per reader, since two would take
// each other's lines.
func NewInput(r io.Reader) Input {
	return &readerInput{r: r, lines: make(chan string)}
}

func (in *readerInput) read() {
	br := bufio.NewReader(in.r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			in.lines <- strings.TrimRight(line, "\r\n")
		}
		if err != nil {
			in.err = err
			close(in.lines)
			return
		}
	}
}

func (in *readerInput) Line(ctx context.Context) (string, error) {
	in.start.Do(func() { go in.read() })
	select {
	case line, ok := <-in.lines:
		if !ok {
			return "", in.err
		}
		return line, nil
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// LinesInput is an Input over lines already read: scripted games, and
// programs (such as pmrun's menu) that read their input themselves and
// hand the game what it needs.
type LinesInput func(ctx context.Context) (string, error)

// Line calls f.
func (f LinesInput) Line(ctx context.Context) (string, error) { return f(ctx) }

// command is what a key asks for.
type command uint8

const (
	cmdStep command = iota
	cmdUndo
	cmdQuit
	cmdHelp
)

// key is one key of a line: a thread to step (Count times), an undo
// (Count times), quit or help.
type key struct {
	cmd    command
	thread int
	count  int
	text   string // as typed, for messages
}

// threadLetter is the key of thread t, as in schedules: a–z, then A–Z.
func threadLetter(t int) string {
	switch {
	case t < 26:
		return string(rune('a' + t))
	case t < 52:
		return string(rune('A' + t - 26))
	}
	return fmt.Sprintf("_%d_", t)
}

// parseKeys reads a line of keys for a program of n threads: a thread's
// letter, optionally with a count (a3 is a a a), as in a schedule; - or u
// undoes (u only where it is no thread's letter), . or q stops, ? or h is
// help. Spaces and commas separate keys and are otherwise ignored. A key
// it cannot read is an error naming it, and nothing of the line is taken.
func parseKeys(line string, n int) ([]key, error) {
	var keys []key
	rs := []rune(line)
	for i := 0; i < len(rs); {
		r := rs[i]
		i++
		if r == ' ' || r == '\t' || r == ',' {
			continue
		}
		start := i - 1
		k := key{count: 1}
		t := -1
		switch {
		case r >= 'a' && r <= 'z':
			t = int(r - 'a')
		case r >= 'A' && r <= 'Z':
			t = 26 + int(r-'A')
		case r == '_':
			j := i
			for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
				j++
			}
			if j == i || j >= len(rs) || rs[j] != '_' {
				return nil, fmt.Errorf("%q: a thread past Z is written _N_, such as _52_", string(rs[start:min(j+1, len(rs))]))
			}
			t, _ = strconv.Atoi(string(rs[i:j]))
			i = j + 1
		}
		switch {
		case t >= 0 && t < n:
			k.cmd, k.thread = cmdStep, t
		case r == '-' || r == 'u':
			k.cmd = cmdUndo
		case r == '.' || r == 'q':
			k.cmd = cmdQuit
		case r == '?' || r == 'h':
			k.cmd = cmdHelp
		case t >= 0:
			return nil, fmt.Errorf("%q: no such thread; the threads are %s", string(rs[start:i]), letterRange(n))
		default:
			return nil, fmt.Errorf("%q: not a key; the threads are %s, - or u undoes, . or q stops, ? helps", string(r), letterRange(n))
		}
		j := i
		for j < len(rs) && rs[j] >= '0' && rs[j] <= '9' {
			j++
		}
		if j > i {
			c, err := strconv.Atoi(string(rs[i:j]))
			if err != nil || c < 1 || c > 100000 {
				return nil, fmt.Errorf("%q: a count is a number from 1 to 100000", string(rs[start:j]))
			}
			if k.cmd == cmdQuit || k.cmd == cmdHelp {
				return nil, fmt.Errorf("%q: only a thread or an undo takes a count", string(rs[start:j]))
			}
			k.count = c
			i = j
		}
		k.text = string(rs[start:i])
		keys = append(keys, k)
	}
	return keys, nil
}

// letterRange names the keys of n threads: "a", "a or b", "a to e".
func letterRange(n int) string {
	switch n {
	case 1:
		return "a"
	case 2:
		return "a or b"
	}
	return threadLetter(0) + " to " + threadLetter(n-1)
}
