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

// suggest returns the candidate nearest to s, if it is near enough to be a
// likely typo.
func suggest(s string, candidates []string) string {
	// A slip of case, or a name without its prefix (KILL for SIGKILL), is
	// a near miss however many letters it lacks.
	var suffixed []string
	for _, c := range candidates {
		if strings.EqualFold(c, s) {
			return c
		}
		if len(s) >= 3 && len(c) > len(s) && strings.EqualFold(c[len(c)-len(s):], s) {
			suffixed = append(suffixed, c)
		}
	}
	if len(suffixed) == 1 {
		return suffixed[0]
	}
	limit := max(1, min(3, len([]rune(s))/3))
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// DidYouMean formats a suggestion of the candidate nearest to s for an
// error message (`, did you mean "spawn"?`), or returns "" when none is near.
func DidYouMean(s string, candidates []string) string {
	if c := suggest(s, candidates); c != "" {
		return fmt.Sprintf(", did you mean %q?", c)
	}
	return ""
}

// editDistance is the Damerau-Levenshtein (optimal string alignment)
// distance, so that a swapped pair of letters ("spwan") counts as one edit.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
