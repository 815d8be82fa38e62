// Package schedule is the text form of an interleaving of a program's
// threads: which thread took each visible step. A schedule is one short line
// that a person can paste into a shell and a CI log can carry, versioned and
// naming the program and a hash of its text, so that replaying it on an
// edited program is refused instead of replaying something else:
//
//	pmrun1:flaglock:9f86d081884c7d65:a4b6a2
//
// reads "version 1; program flaglock whose text hashes to 9f86…; thread 0
// took 4 steps, then thread 1 took 6, then thread 0 took 2". Threads are
// their positions in the program's declaration order: a–z for 0–25, A–Z for
// 26–51, and _N_ beyond. A count of 1 is left out. Only letters, digits, ':'
// and '_' appear, so the line needs no quoting in any shell.
package schedule

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Version is the version of the text form this package writes and reads.
const Version = 1

const prefix = "pmrun"

// Schedule is an interleaving of one program's threads.
type Schedule struct {
	Program string // the program's name under programs:
	Hash    string // the program's text hash when the schedule was made
	Steps   []int  // the thread that took each visible step, in order
}

// String writes the schedule's one-line text form.
func (s Schedule) String() string {
	var b strings.Builder
	b.Grow(len(prefix) + len(s.Program) + len(s.Hash) + 8 + len(s.Steps))
	fmt.Fprintf(&b, "%s%d:%s:%s:", prefix, Version, s.Program, s.Hash)
	for i := 0; i < len(s.Steps); {
		t, n := s.Steps[i], 1
		for i+n < len(s.Steps) && s.Steps[i+n] == t {
			n++
		}
		writeThread(&b, t)
		if n > 1 {
			b.WriteString(strconv.Itoa(n))
		}
		i += n
	}
	return b.String()
}

func writeThread(b *strings.Builder, t int) {
	switch {
	case t < 26:
		b.WriteByte(byte('a' + t))
	case t < 52:
		b.WriteByte(byte('A' + t - 26))
	default:
		fmt.Fprintf(b, "_%d_", t)
	}
}

// Letter is thread t's letter in a schedule (a–z, A–Z, then _N_): the
// key that stands for it in a game too.
func Letter(t int) string {
	var b strings.Builder
	writeThread(&b, t)
	return b.String()
}

// MaxPrinted is the longest schedule text a console line shows whole: a
// run of thousands of steps has one of megabytes, which no one reads and
// no terminal should be sent. [Printable] says so instead.
const MaxPrinted = 1024

// Printable is text, a schedule's text form, as a console line shows it:
// whole up to MaxPrinted bytes (and true), else its program and hash
// with its length, "pmrun1:spin:beefa71a9d6dc0ca:… (1502012 bytes, too
// long to print)" (and false).
func Printable(text string) (string, bool) {
	if len(text) <= MaxPrinted {
		return text, true
	}
	head := text
	if i := strings.LastIndexByte(text[:min(len(text), 256)], ':'); i >= 0 {
		head = text[:i+1]
	} else {
		head = text[:64]
	}
	return fmt.Sprintf("%s… (%d bytes, too long to print)", head, len(text)), false
}

// Parse reads a schedule's text form. Its errors say what is wrong and
// where, for a line a person pasted.
func Parse(text string) (Schedule, error) {
	text = strings.TrimSpace(text)
	rest, ok := strings.CutPrefix(text, prefix)
	if !ok {
		return Schedule{}, fmt.Errorf("schedule %q: not a pmrun schedule (it starts with %s%d:)", abbrev(text), prefix, Version)
	}
	fields := strings.SplitN(rest, ":", 4)
	if len(fields) != 4 {
		return Schedule{}, fmt.Errorf("schedule %q: want %s%d:PROGRAM:HASH:STEPS", abbrev(text), prefix, Version)
	}
	v, err := strconv.Atoi(fields[0])
	switch {
	case err != nil || v < 1:
		return Schedule{}, fmt.Errorf("schedule %q: bad version %q", abbrev(text), fields[0])
	case v > Version:
		return Schedule{}, fmt.Errorf("schedule version %d is newer than this pmrun reads (%d): replay it with the pmrun that printed it", v, Version)
	}
	s := Schedule{Program: fields[1], Hash: fields[2]}
	if s.Program == "" || s.Hash == "" {
		return Schedule{}, fmt.Errorf("schedule %q: the program's name or hash is missing", abbrev(text))
	}
	s.Steps, err = parseSteps(fields[3])
	if err != nil {
		return Schedule{}, fmt.Errorf("schedule for %s: %w", s.Program, err)
	}
	return s, nil
}

func parseSteps(text string) ([]int, error) {
	var steps []int
	for i := 0; i < len(text); {
		at := i
		var t int
		switch c := text[i]; {
		case c >= 'a' && c <= 'z':
			t, i = int(c-'a'), i+1
		case c >= 'A' && c <= 'Z':
			t, i = int(c-'A')+26, i+1
		case c == '_':
			end := strings.IndexByte(text[i+1:], '_')
			if end < 0 {
				return nil, fmt.Errorf("step text %q: _ at %d is not closed", abbrev(text), at+1)
			}
			n, err := strconv.Atoi(text[i+1 : i+1+end])
			if err != nil || n < 52 {
				return nil, fmt.Errorf("step text %q: bad thread %q at %d", abbrev(text), text[i:i+2+end], at+1)
			}
			t, i = n, i+2+end
		default:
			return nil, fmt.Errorf("step text %q: unexpected %q at %d (threads are letters, each followed by how many steps it took)", abbrev(text), c, at+1)
		}
		j := i
		for j < len(text) && text[j] >= '0' && text[j] <= '9' {
			j++
		}
		n := 1
		if j > i {
			var err error
			if n, err = strconv.Atoi(text[i:j]); err != nil || n < 1 || n > 1<<30 {
				return nil, fmt.Errorf("step text %q: bad count %q at %d", abbrev(text), text[i:j], i+1)
			}
		}
		if len(steps)+n > maxSteps {
			return nil, fmt.Errorf("more than %d steps", maxSteps)
		}
		for range n {
			steps = append(steps, t)
		}
		i = j
	}
	return steps, nil
}

// maxSteps bounds what Parse expands, whatever a pasted line says.
const maxSteps = 1 << 24

// MismatchError is a schedule replayed on a program it was not made for.
type MismatchError struct {
	Schedule      Schedule
	Program, Hash string // the program the replay was asked of
}

func (e *MismatchError) Error() string {
	if e.Schedule.Program != e.Program {
		return fmt.Sprintf("the schedule is for program %s, not %s", e.Schedule.Program, e.Program)
	}
	return fmt.Sprintf("program %s was edited since the schedule was made (its text hash was %s, now %s): the schedule would not replay the same interleaving; find the failure again and replay the new schedule",
		e.Program, e.Schedule.Hash, e.Hash)
}

// ErrMismatch is what [MismatchError] matches with errors.Is.
var ErrMismatch = errors.New("schedule does not fit the program")

// Is makes errors.Is(err, ErrMismatch) true.
func (e *MismatchError) Is(target error) bool { return target == ErrMismatch }

// Check says whether the schedule was made for the program called name
// whose text hashes to hash.
func (s Schedule) Check(name, hash string) error {
	if s.Program != name || s.Hash != hash {
		return &MismatchError{Schedule: s, Program: name, Hash: hash}
	}
	return nil
}

// Switches counts the context switches of steps: the places where the next
// step is another thread's.
func Switches(steps []int) int {
	n := 0
	for i := 1; i < len(steps); i++ {
		if steps[i] != steps[i-1] {
			n++
		}
	}
	return n
}

func abbrev(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
