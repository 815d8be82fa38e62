package manual

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal: the side a person types into and
// the side pmrun reads, a terminal.
func openPTY(t *testing.T) (typist, term *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return m, s
}

func TestKeyInputNeedsATerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	if _, ok := NewKeyInput(r); ok {
		t.Fatal("a pipe was taken for a terminal")
	}
}

// Each key is a line of its own as soon as it is typed, with no Enter;
// Enter, spaces and arrow keys play nothing; a thread past Z is read
// whole; Ctrl-D ends the input; the terminal stays in key mode between
// keys (a key typed meanwhile is neither echoed nor edited) and is back
// in canonical mode, echoing, at the game's end.
func TestKeyInputReadsKeysAsTyped(t *testing.T) {
	typist, term := openPTY(t)
	in, ok := NewKeyInput(term)
	if !ok {
		t.Fatal("a pseudo-terminal was not taken for a terminal")
	}
	before, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if before.Lflag&unix.ICANON == 0 {
		t.Fatal("the pseudo-terminal does not start in canonical mode")
	}
	ctx := t.Context()
	// No Enter after "a": in canonical mode the read would wait for one.
	if _, err := typist.WriteString("a"); err != nil {
		t.Fatal(err)
	}
	if got, err := in.Line(ctx); got != "a" || err != nil {
		t.Fatalf("Line = %q, %v; want a", got, err)
	}
	during, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if during.Lflag&(unix.ICANON|unix.ECHO) != 0 || during.Lflag&unix.ISIG == 0 {
		t.Fatalf("between keys: lflag %#x, want ICANON and ECHO off, ISIG on", during.Lflag)
	}
	if _, err := typist.WriteString("\r \x1b[A\x1bOBb-_52_é?"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"b", "-", "_52_", "é", "?"} {
		if got, err := in.Line(ctx); got != want || err != nil {
			t.Fatalf("Line = %q, %v; want %q", got, err, want)
		}
	}
	if _, err := typist.WriteString("\x04"); err != nil {
		t.Fatal(err)
	}
	if _, err := in.Line(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("Ctrl-D: err = %v, want io.EOF", err)
	}
	endGame(in)
	after, err := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatal(err)
	}
	if after.Lflag != before.Lflag || after.Cc != before.Cc {
		t.Fatalf("terminal not restored: lflag %#x, want %#x", after.Lflag, before.Lflag)
	}
}

// A wait for a key ends with the step's context.
func TestKeyInputGivesUpWithContext(t *testing.T) {
	_, term := openPTY(t)
	in, _ := NewKeyInput(term)
	before, _ := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	stop := errors.New("step stopped")
	ctx, cancel := context.WithCancelCause(t.Context())
	time.AfterFunc(50*time.Millisecond, func() { cancel(stop) })
	if _, err := in.Line(ctx); !errors.Is(err, stop) {
		t.Fatalf("err = %v, want the context's cause", err)
	}
	endGame(in)
	after, _ := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS)
	if after.Lflag != before.Lflag {
		t.Fatalf("terminal not restored: lflag %#x, want %#x", after.Lflag, before.Lflag)
	}
}

// A game on a terminal says that keys play as pressed, and shows each key
// after its prompt.
func TestGameOnATerminal(t *testing.T) {
	typist, term := openPTY(t)
	in, _ := NewKeyInput(term)
	p := prog(t, "flaglock")
	if _, err := typist.WriteString("aq"); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if _, err := playGame(t, t.Context(), p, in, &out, Options{Echo: true}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"no Enter needed", "a or b > a\n", "a or b > q\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the game does not show %q:\n%s", want, out.String())
		}
	}
	if after, _ := unix.IoctlGetTermios(int(term.Fd()), unix.TCGETS); after.Lflag&unix.ICANON == 0 {
		t.Error("the game ended with the terminal still in key mode")
	}
}
