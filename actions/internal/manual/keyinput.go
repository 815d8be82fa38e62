package manual

import (
	"context"
	"errors"
	"io"
	"os"
	"unicode/utf8"

	"golang.org/x/sys/unix"
)

// keyInput reads the player's keys from a terminal as they are pressed,
// with no Enter: each key is a line of its own. A count has no place here
// (the key has been played before a digit could follow it); holding a
// key down repeats it instead.
//
// From its first key to the end of the game ([Play] calls done) the
// terminal is out of canonical mode and does not echo: the game writes
// each key after its prompt, and a key typed while a step is being shown
// waits for the next read instead of being echoed in the middle of it or
// taken by the line discipline (^D, erase). ISIG stays on, so Ctrl-C
// still interrupts the run, and a read times out every tenth of a second
// (VMIN 0, VTIME 1) to see the step's context end.
type keyInput struct {
	fd    int
	saved *unix.Termios // the terminal as it was, while in key mode
}

// NewKeyInput reads single key presses from f, and reports false when f
// is not a terminal (a pipe or a file: read lines with [NewInput]).
func NewKeyInput(f *os.File) (Input, bool) {
	fd := int(f.Fd())
	if _, err := unix.IoctlGetTermios(fd, unix.TCGETS); err != nil {
		return nil, false
	}
	return &keyInput{fd: fd}, true
}

// singleKeys reports whether in plays a key at a time.
func singleKeys(in Input) bool {
	_, ok := in.(*keyInput)
	return ok
}

// errTimedOut is a read that found no key within VTIME.
var errTimedOut = errors.New("no key yet")

func (in *keyInput) Line(ctx context.Context) (string, error) {
	if in.saved == nil {
		old, err := unix.IoctlGetTermios(in.fd, unix.TCGETS)
		if err != nil {
			return "", err
		}
		keys := *old
		keys.Lflag &^= unix.ICANON | unix.ECHO
		keys.Cc[unix.VMIN], keys.Cc[unix.VTIME] = 0, 1
		if err := unix.IoctlSetTermios(in.fd, unix.TCSETS, &keys); err != nil {
			return "", err
		}
		in.saved = old
	}
	for {
		if err := ctx.Err(); err != nil {
			return "", context.Cause(ctx)
		}
		key, err := in.key()
		switch {
		case errors.Is(err, errTimedOut):
			continue
		case err != nil:
			return "", err
		case key != "":
			return key, nil
		}
	}
}

// done puts the terminal back as it was before the first key.
func (in *keyInput) done() {
	if in.saved != nil {
		unix.IoctlSetTermios(in.fd, unix.TCSETS, in.saved)
		in.saved = nil
	}
}

// endGame ends what in holds for a game: a terminal's key mode.
func endGame(in Input) {
	if k, ok := in.(*keyInput); ok {
		k.done()
	}
}

// key reads one key press: "" for one that plays nothing (Enter, a space,
// an arrow key), io.EOF for Ctrl-D.
func (in *keyInput) key() (string, error) {
	b, err := in.byte()
	if err != nil {
		return "", err
	}
	switch {
	case b == 4: // Ctrl-D, the end of input as a terminal in canonical mode would give it
		return "", io.EOF
	case b == '\r' || b == '\n' || b == ' ' || b == '\t':
		return "", nil
	case b == 0x1b: // an escape sequence: an arrow or function key
		in.skipEscape()
		return "", nil
	case b == '_': // a thread past Z: _52_
		key := []byte{b}
		for len(key) < 12 {
			c, err := in.byte()
			if errors.Is(err, errTimedOut) {
				continue
			}
			if err != nil {
				return "", err
			}
			key = append(key, c)
			if c == '_' || c < '0' || c > '9' {
				break
			}
		}
		return string(key), nil
	case b >= utf8.RuneSelf: // the rest of a character, to name it whole
		key := []byte{b}
		for !utf8.FullRune(key) && len(key) < utf8.UTFMax {
			c, err := in.byte()
			if err != nil {
				break
			}
			key = append(key, c)
		}
		return string(key), nil
	}
	return string(rune(b)), nil
}

// skipEscape drops the rest of an escape sequence, which arrives at once.
func (in *keyInput) skipEscape() {
	c, err := in.byte()
	if err != nil || (c != '[' && c != 'O') {
		return
	}
	for range 16 {
		c, err := in.byte()
		if err != nil || (c >= 0x40 && c <= 0x7e) {
			return
		}
	}
}

// byte reads one byte, or errTimedOut after VTIME with none.
func (in *keyInput) byte() (byte, error) {
	var buf [1]byte
	for {
		n, err := unix.Read(in.fd, buf[:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n == 0:
			return 0, errTimedOut
		}
		return buf[0], nil
	}
}
