package contract

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape writes what a terminal would act on rather than show as Go
// escapes: control characters (C0 but for tab, DEL, C1 such as CSI), other
// runes that are not printable (bidirectional overrides, zero-width
// marks) and bytes that are not UTF-8 — \x1b, \u202e, \xff. Text a
// scenario or a program controls (a child's output, a program's code and
// its log, a message that quotes them) goes through it on its way to a
// terminal, so that it cannot move the cursor, clear the screen, retitle
// the window or forge a line of pmrun's own. It keeps line breaks out of
// its reach: it escapes them too, so a caller that shows several lines
// escapes each.
func Escape(s string) string {
	i := 0
	for i < len(s) && s[i] >= 0x20 && s[i] < 0x7f {
		i++ // printable ASCII: the usual case, copied as it is
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t' || r == ' ' || (r > 0x7f && unicode.IsPrint(r)) || (r > 0x20 && r < 0x7f):
			b.WriteString(s[i : i+size])
		case r < 0x80:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			fmt.Fprintf(&b, `\U%08x`, r)
		}
		i += size
	}
	return b.String()
}
