package control

import (
	"github.com/pmrun/pmrun/actions/internal/program"
)

// MaxUndoBytes bounds the states a [Game] keeps for [Game.Undo]. It keeps
// the state after every few steps, not after each (a game of millions of
// steps, keys repeated by a count, would keep gigabytes): an undo starts
// from the nearest state kept and takes the steps after it again on the
// model. When the states kept pass the bound, every other one goes and
// the states are kept twice as far apart, so a game of any length keeps
// within it and an undo takes at most that many steps again.
const MaxUndoBytes = 4 << 20

// history is the states of a game that undo goes back to.
type history struct {
	marks []mark // in order of n, the first at 0
	every int    // a mark after every this many steps
	bytes int    // of the marks' states
}

// mark is the state after n steps.
type mark struct {
	n int
	s *program.State
}

func newHistory(start *program.State) *history {
	h := &history{every: 1}
	h.add(0, start)
	return h
}

// stepped hears that the game took its nth step, to state s (which the
// game goes on stepping: the history keeps a copy when it keeps one).
func (h *history) stepped(n int, s *program.State) {
	if n%h.every == 0 {
		h.add(n, s.Clone())
	}
}

func (h *history) add(n int, s *program.State) {
	h.marks = append(h.marks, mark{n: n, s: s})
	h.bytes += s.Bytes()
	for h.bytes > MaxUndoBytes && len(h.marks) > 2 {
		h.thin()
	}
}

// thin drops every mark whose step is not a multiple of twice the
// spacing, doubling it.
func (h *history) thin() {
	h.every *= 2
	kept := h.marks[:0]
	h.bytes = 0
	for _, m := range h.marks {
		if m.n%h.every == 0 {
			kept = append(kept, m)
			h.bytes += m.s.Bytes()
		}
	}
	clear(h.marks[len(kept):])
	h.marks = kept
}

// at returns the state after the first n of steps, from the nearest mark
// at or before it, and forgets the marks after n. The steps are taken
// again on the model, as the game took them on the threads (a step is
// deterministic); the error is a step that no longer fits, which would
// be a bug.
func (h *history) at(n int, steps []int) (*program.State, error) {
	i := len(h.marks) - 1
	for i > 0 && h.marks[i].n > n {
		h.bytes -= h.marks[i].s.Bytes()
		i--
	}
	clear(h.marks[i+1:])
	h.marks = h.marks[:i+1]
	m := h.marks[i]
	s := m.s.Clone()
	for _, t := range steps[m.n:n] {
		if _, err := s.Step(t); err != nil {
			return nil, err
		}
	}
	return s, nil
}
