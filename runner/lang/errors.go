package lang

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a scenario file; Line and Col are 1-based.
type Pos struct {
	File      string
	Line, Col int
}

func (p Pos) String() string { return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col) }

// Error is a problem in a scenario file, found while loading it or while
// running the step at Pos.
type Error struct {
	Pos
	Msg string
}

func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// LoadErrors are every problem found in one or more scenario files; nothing
// was run.
type LoadErrors []*Error

func (l LoadErrors) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// ExitCode is 2: the scenario is invalid.
func (LoadErrors) ExitCode() int { return 2 }

func (l LoadErrors) sorted() LoadErrors {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
	return l
}

// ParamError is a step's parameter whose value, known only when the step
// ran (a template's result), is of the wrong type or out of its range: a
// mistake in the scenario or in its --var values, which running the step
// again does not mend, so retry does not. Its exit code is 2, as for a
// mistake found at load.
type ParamError struct{ Err error }

func (e *ParamError) Error() string { return e.Err.Error() }

// Unwrap returns the parameter's error.
func (e *ParamError) Unwrap() error { return e.Err }

// ExitCode is 2: the scenario, or its --var values, is wrong.
func (e *ParamError) ExitCode() int { return 2 }

// StepError is a step's failure, placed at the step in its file.
type StepError struct {
	Pos    Pos
	Label  string
	Err    error
	Status string
}

func (e *StepError) Error() string {
	return fmt.Sprintf("%s: step %q: %v", e.Pos, e.Label, e.Err)
}

// Unwrap returns the step's own error.
func (e *StepError) Unwrap() error { return e.Err }
