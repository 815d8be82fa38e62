package main

import (
	"io"
	"strings"

	"golang.org/x/sys/unix"
)

// consoleLook is how the console writes on its stdout: in colour, with
// plain ASCII signs, and whether stdout is a terminal that can take a live
// progress line (README "Colour and plain text").
type consoleLook struct {
	color, ascii, terminal bool
}

// signs are the marks of a check that passed and of one that failed:
// ✓ and ✗ (ok and NO in ASCII), green and red in colour.
func (l consoleLook) signs() (pass, fail string) {
	pass, fail = "✓", "✗"
	if l.ascii {
		pass, fail = "ok", "NO"
	}
	if l.color {
		pass, fail = "\x1b[32m"+pass+"\x1b[0m", "\x1b[31m"+fail+"\x1b[0m"
	}
	return pass, fail
}

// lookOf decides the console's look from --color (auto, always or
// never), what stdout is, and the environment: colour on a terminal
// unless NO_COLOR is set (and not empty) or TERM is dumb, never in a pipe
// or a file unless asked for; plain ASCII signs unless the locale
// (LC_ALL, else LC_CTYPE, else LANG) is UTF-8, and on a dumb terminal.
func lookOf(color string, stdout io.Writer, getenv func(string) string) (consoleLook, error) {
	dumb := getenv("TERM") == "dumb"
	look := consoleLook{ascii: dumb || !utf8Locale(getenv), terminal: onTerminal(stdout) && !dumb}
	switch color {
	case "auto":
		look.color = look.terminal && getenv("NO_COLOR") == ""
	case "always":
		look.color = true
	case "never":
	default:
		return look, usageErrorf("--color %q: want auto, always or never", color)
	}
	return look, nil
}

// utf8Locale reports whether the locale's character set is UTF-8: the
// first of LC_ALL, LC_CTYPE and LANG that is set decides, as in C's
// setlocale; none set is the C locale, which is ASCII.
func utf8Locale(getenv func(string) string) bool {
	for _, name := range []string{"LC_ALL", "LC_CTYPE", "LANG"} {
		if v := getenv(name); v != "" {
			v = strings.ToLower(v)
			return strings.Contains(v, "utf-8") || strings.Contains(v, "utf8")
		}
	}
	return false
}

// onTerminal reports whether w is a terminal.
func onTerminal(w io.Writer) bool {
	f, ok := fileOf(w)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// terminalWidth returns what reads w's width in columns, 80 when it
// cannot tell. A terminal may be resized while pmrun runs: it asks each
// time.
func terminalWidth(w io.Writer) func() int {
	return func() int {
		if f, ok := fileOf(w); ok {
			if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Col > 0 {
				return int(ws.Col)
			}
		}
		return 80
	}
}

// terminalHeight returns w's height in rows, 24 when it cannot tell.
func terminalHeight(w io.Writer) int {
	if f, ok := fileOf(w); ok {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil && ws.Row > 0 {
			return int(ws.Row)
		}
	}
	return 24
}
