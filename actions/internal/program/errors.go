package program

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in the scenario file: 1-based line and column, as
// go.yaml.in/yaml/v3 reports them. File is set for a position elsewhere:
// the source line of a real program's call (a C file), where Col is 0.
type Pos struct {
	Line, Col int
	File      string
}

// String is LINE:COL, or FILE:LINE for a position in another file.
func (p Pos) String() string {
	if p.File != "" {
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	return fmt.Sprintf("%d:%d", p.Line, p.Col)
}

// Error is one problem in a `programs:` section, at its position. The
// caller, who knows the file, prefixes the file name.
type Error struct {
	Line, Col int
	Msg       string
}

// Error is LINE:COL: message.
func (e *Error) Error() string { return fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg) }

// Errors are every problem found while loading a `programs:` section,
// sorted by position; nothing of it was compiled.
type Errors []*Error

// Error is every error, one a line.
func (l Errors) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// errorList collects load errors; the same error reached twice (a body
// shared by two threads through a YAML alias) is kept once.
type errorList struct {
	errs Errors
	seen map[Error]bool
	// note ends every message added: which call of a procedure the
	// compiler was putting in place.
	note string
}

func (l *errorList) add(p Pos, format string, args ...any) {
	e := Error{Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...) + l.note}
	if l.seen == nil {
		l.seen = map[Error]bool{}
	}
	if l.seen[e] {
		return
	}
	l.seen[e] = true
	l.errs = append(l.errs, &e)
}

// result returns the errors sorted by position, or nil.
func (l *errorList) result() Errors {
	if len(l.errs) == 0 {
		return nil
	}
	sort.SliceStable(l.errs, func(i, j int) bool {
		a, b := l.errs[i], l.errs[j]
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return l.errs
}
