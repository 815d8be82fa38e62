package program

// What a model checker needs beyond [State]'s methods: states kept in
// memory of its own, and steps that build nothing a display would want.
// A search of millions of states takes millions of steps; these keep each
// one free of allocation.

// Words is how many words a state of p has: the length of [State.Words]
// and of the slice [Program.View] takes.
func (p *Program) Words() int { return p.words }

// View returns a state whose words are w (of length [Program.Words]),
// without copying: a step of the state changes w. A search keeps its
// states in memory of its own and views each one as it steps it. w must
// hold a state of p (the words of a state of p, or a copy of them).
func (p *Program) View(w []int64) State {
	if len(w) != p.words {
		panic("program: View of a slice of the wrong length")
	}
	return State{p: p, w: w}
}

// Words returns the state's words, in its program's layout: shared
// variables first (in declaration order, the order of [State.Values]),
// then semaphores, mutexes, queues and each thread's part. The slice is
// the state's own: a caller may copy it, hash it or compare it, and must
// not change it except through steps.
func (s *State) Words() []int64 { return s.w }

// Advance takes thread t's step as [State.Step] does, with every check,
// and returns the check it broke (nil if none); it builds no [StepInfo]
// (no text of a log step, no list of the threads woken). t must be
// enabled ([State.IsEnabled]).
func (s *State) Advance(t int) *Failure {
	var info StepInfo
	info.Var = -1
	s.step(t, s.instr(t), &info, true)
	return info.Failure
}

// HashWords is [State.Hash] of a state's words, for a caller that keeps
// states as words: the same function, so the same value.
func HashWords(w []int64) uint64 { return hashWords(w) }
