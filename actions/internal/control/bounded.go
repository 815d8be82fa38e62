package control

import (
	"context"
	"fmt"
	"slices"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// Bounded is the scheduler of iterative preemption bounding: every run
// with no preemption, then every run with one, two, … (Musuvathi and
// Qadeer's CHESS, PLDI 2007).
const Bounded = "bounded"

// bounded makes every run with at most Options.Preemptions preemptions,
// those with fewer first (see the package documentation): stateless, each
// run from the start, so that it runs on any kind of thread.
type bounded struct{}

func (bounded) Name() string { return Bounded }
func (bounded) Doc() string {
	return "every run with no preemption, then every run with one, two, … up to preemptions (a preemption: a switch away from a thread that could go on): finds the bugs that need few preemptions, in long programs too (bound: how far it got)"
}

func (bounded) Check(_ *program.Program, opts Options) []OptionError { return controlledOnly(opts) }

func (bounded) Run(ctx context.Context, sys *System, opts Options) (engine.Outcome, error) {
	how := engine.How{Scheduler: Bounded, Kind: engine.KindSearch, Unit: "run", Asked: opts.Runs, Bounded: true}
	return search(ctx, sys, opts, how, searchBounded)
}

// maxPending bounds the runs a round keeps for the next one (about 32
// bytes each): past it, the next round is cut short and says so.
const maxPending = 1 << 22

// item is a run a round starts from: the steps base[:n], then thread t's
// (t < 0: none; the first round's one item is the empty run).
type item struct {
	base []uint8
	n    int32
	t    int16
}

// point is a step of the run under way where the search can go another
// way at no cost: the alternatives it has yet to take there.
type point struct {
	at   int
	alts []uint8
}

// preemption is a step where the run under way could preempt its thread
// for thread t: a run of the next round.
type preemption struct {
	at int
	t  uint8
}

// boundedSearch is one search: rounds of runs, round b making every run
// with exactly b preemptions. A round starts from its items (the first
// from the empty run; each later one from the preemptions the round
// before passed by) and makes, from each, every run that takes no
// further preemption, depth first: after each run, the next takes the
// deepest step where an alternative at no cost is left (a thread that
// could not go on, a spin) and goes that way.
type boundedSearch struct {
	th   engine.Threads
	opts Options

	round         int
	items, next   []item
	item          int
	overflow      bool // the next round has more runs than maxPending
	made          int  // the preemptions the first round passed by, for shards
	stack         []point
	prev          []uint8 // the steps of the last run
	plan          []uint8 // the steps the run under way replays first
	ch            *boundedChooser
	started       bool
	failedRound   bool // the search stopped after the round that found a failure
	capped        bool // the search stopped at its runs limit
	done          bool // every round asked for was made
	more          bool // a run of the last round could have preempted: runs with more were left out
	runs, ended   int
	cut, failures int
	first, last   *found
}

func searchBounded(ctx context.Context, th engine.Threads, opts Options) (searchResult, error) {
	s := &boundedSearch{th: th, opts: opts, items: []item{{t: -1}}}
	s.ch = &boundedChooser{s: s, seen: map[uint64]struct{}{}}
	stop, release := budget(opts.Budget)
	defer release()
	d := &runDriver{th: th, maxSteps: opts.MaxSteps, trace: opts.Trace, onRun: opts.OnRun, stop: stop}
	d.plan = s.nextRun
	d.end = s.endRun
	err := th.Drive(ctx, d, opts.Watchdog)
	if err == nil {
		err = d.err
	}
	return s.result(err == nil && (s.done || !stop.Load())), err
}

// result is what the search found; whole says it was not stopped (by
// ctx, an error or its time budget).
func (s *boundedSearch) result(whole bool) searchResult {
	res := searchResult{first: s.first, last: s.last, runs: s.runs, failures: s.failures, bound: s.round - 1}
	if s.done && !s.capped {
		res.bound = s.round
	}
	res.complete = whole && s.done && !s.capped && !s.overflow && !s.failedRound && s.ended > 0
	var notes []string
	if s.first != nil {
		notes = append(notes, fmt.Sprintf("the failure needs %s: every run with fewer passed", preemptions(s.round)))
	}
	if s.cut > 0 {
		notes = append(notes, fmt.Sprintf("%s went round in a loop and %s cut", plural(s.cut, "run"), map[bool]string{true: "was", false: "were"}[s.cut == 1]))
	}
	switch {
	case s.failedRound:
		notes = append(notes, fmt.Sprintf("the search stopped after the runs with %s, which found a failure", preemptions(s.round)))
	case !whole || s.capped:
		why := "was stopped"
		if whole {
			why = fmt.Sprintf("stopped at its runs limit (%d)", s.opts.Runs)
		} else if s.runs > 0 {
			why = "ran out of time"
		}
		notes = append(notes, fmt.Sprintf("the search %s after %d runs, among those with %s: %s; raise runs, or lower preemptions", why, s.runs, preemptions(s.round), s.madeAll()))
	case s.overflow:
		notes = append(notes, fmt.Sprintf("the runs with %s were too many to keep (over %d): only the first were made; lower preemptions", preemptions(s.round), maxPending))
	case s.more && s.first == nil && s.ended > 0:
		notes = append(notes, fmt.Sprintf("every run with at most %s passed, and runs with more were not made: not a proof (raise preemptions; for a program, scheduler: exhaustive searches every state)", preemptions(s.round)))
	case s.ended == 0 && s.runs > 0:
		notes = append(notes, fmt.Sprintf("no run ended: every one went round in a loop, so bounded can say nothing of this program with up to %s (a livelock? exhaustive finds one)", preemptions(s.opts.Preemptions)))
	}
	note := ""
	for i, n := range notes {
		if i > 0 {
			note += "; "
		}
		note += n
	}
	if !res.complete && s.first == nil {
		res.stopped = note
	} else {
		res.note = note
	}
	return res
}

// madeAll says which runs the search made in full.
func (s *boundedSearch) madeAll() string {
	if s.round == 0 {
		return "not even every run with none was made"
	}
	return "every run with at most " + preemptions(s.round-1) + " was made"
}

func preemptions(n int) string {
	if n == 0 {
		return "no preemption"
	}
	return plural(n, "preemption")
}

// plural is "1 run", "2 runs".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// nextRun plans the next run: back in the run before to its deepest
// alternative at no cost, else from the round's next item, else from the
// next round's first.
func (s *boundedSearch) nextRun() (int, chooser, bool) {
	plan, ok := s.nextPlan()
	if !ok {
		return 0, nil, false
	}
	if s.opts.Runs > 0 && s.runs >= s.opts.Runs {
		s.capped = true
		return 0, nil, false
	}
	s.plan = plan
	c := s.ch
	c.plan, c.n, c.last, c.hash = plan, 0, -1, nil
	c.spin, c.preempt = c.spin[:0], c.preempt[:0]
	clear(c.seen)
	return s.runs, c, true
}

// nextPlan is the steps the next run replays first; false when the
// search is done.
func (s *boundedSearch) nextPlan() ([]uint8, bool) {
	for !s.done {
		if s.started {
			if plan, ok := s.backtrack(); ok {
				return plan, true
			}
		}
		if s.item < len(s.items) {
			it := s.items[s.item]
			s.items[s.item] = item{}
			s.item++
			plan := append(s.plan[:0], it.base[:it.n]...)
			if it.t >= 0 {
				plan = append(plan, uint8(it.t))
			}
			s.stack, s.started = s.stack[:0], true
			return plan, true
		}
		// The round is done.
		switch {
		case s.failures > 0 && s.round < s.opts.Preemptions:
			s.failedRound, s.done = true, true
		case s.round >= s.opts.Preemptions || len(s.next) == 0:
			s.done = true
			if len(s.next) == 0 {
				s.round = s.opts.Preemptions // no run has more preemptions
			}
		default:
			s.round++
			s.items, s.next, s.item, s.started = s.next, nil, 0, false
		}
	}
	return nil, false
}

// backtrack is the run that goes the other way at the deepest step of the
// last run where an alternative is left.
func (s *boundedSearch) backtrack() ([]uint8, bool) {
	for len(s.stack) > 0 {
		top := &s.stack[len(s.stack)-1]
		if len(top.alts) == 0 {
			s.stack = s.stack[:len(s.stack)-1]
			continue
		}
		t := top.alts[0]
		top.alts = top.alts[1:]
		return append(append(s.plan[:0], s.prev[:top.at]...), t), true
	}
	return nil, false
}

// endRun takes in how a run ended, and keeps the preemptions it passed by
// for the next round.
func (s *boundedSearch) endRun(e runEnd) {
	s.runs++
	switch {
	case e.cut:
		s.cut++
	case e.failure != nil:
		s.ended++
		s.failures++
		if s.first == nil {
			s.first = keep(e)
		}
	default:
		s.ended++
		s.last = keep(e)
	}
	s.prev = s.prev[:0]
	for _, t := range e.steps {
		s.prev = append(s.prev, uint8(t))
	}
	if len(s.ch.preempt) > 0 && s.round >= s.opts.Preemptions {
		s.more = true // a run with one more preemption is left out
	}
	if len(s.ch.preempt) == 0 || s.round >= s.opts.Preemptions {
		return
	}
	base := slices.Clone(s.prev)
	for _, p := range s.ch.preempt {
		if s.round == 0 && !s.opts.Shard.whole() {
			s.made++
			if (s.made-1)%s.opts.Shard.Count != s.opts.Shard.Index {
				continue // another shard's
			}
		}
		if len(s.next) >= maxPending {
			s.overflow = true
			return
		}
		s.next = append(s.next, item{base: base, n: int32(p.at), t: int16(p.t)})
	}
}

// boundedChooser makes one run of bounded: it replays the run's plan,
// then keeps to the thread that took the last step while it can go on
// (noting each other thread it could preempt it for, a run of the next
// round) and, where a switch costs nothing — at the start, when the
// thread cannot go on, after a spin — takes the first thread that can
// (noting the others, alternatives of this round).
//
// A spin is a step that brings the run back to a state it was in (when
// its states can be hashed): a thread waiting in a loop. The threads that
// spun since the run last reached a new state are passed over when
// another can go on, and when none can, the run only goes round: it is
// cut there (no verdict), since every way out of the loop is a run of its
// own (a switch this round or the next took elsewhere).
type boundedChooser struct {
	s       *boundedSearch
	plan    []uint8
	n       int // the steps taken so far
	last    int
	hash    engine.Hasher
	seen    map[uint64]struct{}
	spin    []int // the threads that spun since the last new state
	preempt []preemption
	alts    []int
}

func (c *boundedChooser) choose(r engine.Run, enabled []int) (int, error) {
	step := c.n
	free := c.last < 0
	if step == 0 {
		c.hash, _ = r.(engine.Hasher)
	}
	if c.hash != nil {
		h := c.hash.Hash()
		if _, ok := c.seen[h]; ok && c.last >= 0 {
			if !slices.Contains(c.spin, c.last) {
				c.spin = append(c.spin, c.last)
			}
			free = true
		} else {
			c.seen[h] = struct{}{}
			c.spin = c.spin[:0]
		}
	}
	var t int
	switch {
	case step < len(c.plan):
		t = int(c.plan[step])
		if !r.IsEnabled(t) {
			return -1, fmt.Errorf("control: bounded: step %d of a run it replays is thread %d's, which cannot go on: the threads did not repeat their earlier run", step+1, t)
		}
	case !free && r.IsEnabled(c.last):
		t = c.last
		for _, u := range enabled {
			if u != t {
				c.preempt = append(c.preempt, preemption{at: step, t: uint8(u)})
			}
		}
	default:
		c.alts = c.alts[:0]
		for _, u := range enabled {
			if !slices.Contains(c.spin, u) {
				c.alts = append(c.alts, u)
			}
		}
		if len(c.alts) == 0 {
			return -1, nil
		}
		t = c.alts[0]
		if len(c.alts) > 1 {
			alts := make([]uint8, len(c.alts)-1)
			for i, u := range c.alts[1:] {
				alts[i] = uint8(u)
			}
			c.s.stack = append(c.s.stack, point{at: step, alts: alts})
		}
	}
	c.last = t
	c.n++
	return t, nil
}
