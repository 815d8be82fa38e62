package play

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/picture"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// session is the game the page plays: one program's run, stepped by the
// player on the program's real threads (control.Game), undone, restarted,
// or following a schedule the player opened. Its methods are called by
// the server's handlers, one at a time (mu).
type session struct {
	mu     sync.Mutex
	ctx    context.Context // the server's: a step's threads stop with it
	set    *program.Set
	file   string
	source []byte
	rerun  []string // pmrun run's arguments, for the replay command
	opts   control.Options
	rng    *rand.Rand // the searches' and quizzes' seeds

	p       *program.Program
	g       *control.Game
	threads []view.Thread
	// plan is the schedule opened, whose steps forward takes in order.
	plan    []int
	planTxt string
	// message says what the last action could not do, or what it did
	// that the page should say.
	message string
	closed  bool
}

func newSession(ctx context.Context, o Options) *session {
	seed := o.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	rerun := o.Rerun
	if len(rerun) == 0 && o.File != "" {
		rerun = []string{o.File}
	}
	return &session{ctx: ctx, set: o.Set, file: o.File, source: o.Source, rerun: rerun,
		opts: control.Options{MaxSteps: o.MaxSteps}, rng: rand.New(rand.NewPCG(seed, 0))}
}

// start begins a game of the program called name: its threads start, and
// the game before it ends.
func (s *session) start(name string) error {
	p, err := s.set.Program(name)
	if err != nil {
		return err
	}
	g, err := control.NewGame(p, s.opts)
	if err != nil {
		return fmt.Errorf("program %s: %w", name, err)
	}
	if s.g != nil {
		s.g.Close()
	}
	s.p, s.g, s.threads = p, g, picture.Threads(p, s.source)
	return nil
}

// close ends the game's threads.
func (s *session) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.g == nil {
		return nil
	}
	return s.g.Close()
}

// errClosed is the answer to a request that comes as the server ends.
var errClosed = errors.New("the game has ended")

// do runs one of the player's actions and returns the state after it.
func (s *session) do(action func() error) (*state, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errClosed
	}
	s.message = ""
	if err := action(); err != nil {
		s.message = err.Error()
	}
	return s.state(), nil
}

// step has thread t take its next step, on its own OS thread. It leaves
// an opened schedule when t is not the schedule's next thread.
func (s *session) step(t int) error {
	if t < 0 || t >= len(s.threads) {
		return fmt.Errorf("there is no thread %d", t)
	}
	if over, _ := s.g.Over(); over {
		return errors.New("the run has ended: undo a step or restart")
	}
	if why := s.cannot(t); why != "" {
		return errors.New(why)
	}
	at := len(s.g.Steps())
	if _, err := s.g.Step(s.ctx, t); err != nil {
		return err
	}
	if s.plan != nil && (at >= len(s.plan) || s.plan[at] != t) {
		s.plan, s.planTxt = nil, ""
		s.message = fmt.Sprintf("%s took step %d instead of the schedule's thread: the schedule is closed, the game goes on from here", s.threads[t].Name, at+1)
	}
	return nil
}

// cannot says why thread t cannot take a step now, "" if it can.
func (s *session) cannot(t int) string {
	st := s.g.State()
	if st.IsEnabled(t) {
		return ""
	}
	name := s.threads[t].Name
	status := st.Status(t)
	if status.Finished {
		return name + " has finished"
	}
	a, _ := st.Next(t)
	return fmt.Sprintf("%s cannot go: it waits for %s (line %d: %s)", name, status.Waiting, a.Pos.Line, a.Text)
}

func (s *session) undo() error {
	if !s.g.Undo() {
		return errors.New("nothing to undo")
	}
	return nil
}

// restart starts the program's run again; an opened schedule is kept,
// from its start.
func (s *session) restart() error { return s.start(s.p.Name()) }

// choose starts a game of another program of the file.
func (s *session) choose(name string) error {
	if err := s.start(name); err != nil {
		return err
	}
	s.plan, s.planTxt = nil, ""
	return nil
}

// forward takes the opened schedule's next step.
func (s *session) forward() error {
	at := len(s.g.Steps())
	switch {
	case s.plan == nil:
		return errors.New("no schedule is open: open one first")
	case at >= len(s.plan):
		return errors.New("that was the schedule's last step")
	}
	return s.step(s.plan[at])
}

// schedulePattern finds a schedule in what the player pasted: the line
// alone, or a whole replay command.
var schedulePattern = regexp.MustCompile(`pmrun\d+:[^\s'"]+`)

// open opens a schedule (or a command line holding one): the program it
// names, from its start, ready to be stepped through.
func (s *session) open(text string) error {
	found := schedulePattern.FindString(text)
	if found == "" {
		return errors.New("no schedule there: paste a line such as pmrun1:flag_lock:83de8b808d5913ce:ba4b2, or the replay command that holds one")
	}
	sc, err := schedule.Parse(found)
	if err != nil {
		return err
	}
	p, err := s.set.Program(sc.Program)
	if err != nil {
		return fmt.Errorf("the schedule is for %w", err)
	}
	if err := sc.Check(p.Name(), p.TextHash()); err != nil {
		return err
	}
	if _, err := picture.Of(p, sc.Steps, nil, "", nil); err != nil {
		return fmt.Errorf("the schedule does not fit program %s: %w", p.Name(), err)
	}
	if err := s.start(p.Name()); err != nil {
		return err
	}
	s.plan, s.planTxt = sc.Steps, sc.String()
	return nil
}

// searches are what search tries, in order, until one finds a failure:
// every interleaving (as a lab's find step) up to searchStates states,
// then PCT and random runs, which reach deeper into a program too large
// to explore that far.
var searches = []control.Options{
	{Scheduler: control.Exhaustive, MaxStates: searchStates},
	{Scheduler: control.PCT, Runs: 1000, Depth: 3},
	{Scheduler: control.Random, Runs: 1000},
}

// searchStates bounds the exhaustive search of the page: a river
// crossing explored whole is millions of states, which took minutes.
const searchStates = 200_000

// search looks for a failure of the program and opens the schedule of
// the one it finds, shrunk.
func (s *session) search() error {
	var tried []string
	for _, opts := range searches {
		opts.Shrink, opts.MaxSteps, opts.NoInterleaving = true, s.opts.MaxSteps, true
		opts.Seed = s.rng.Uint64()
		o, err := control.Search(s.ctx, s.p, opts)
		if err != nil {
			return err
		}
		if o.Failure == nil {
			if o.How.Proof && o.Complete {
				return fmt.Errorf("no schedule breaks program %s: %d states, every interleaving", s.p.Name(), o.States)
			}
			tried = append(tried, fmt.Sprintf("%d %s runs", o.Runs, opts.Scheduler))
			continue
		}
		if err := s.open(o.Schedule.String()); err != nil {
			return err
		}
		s.message = fmt.Sprintf("A %s search found %s in run %d of %d: its schedule is open; step through it with ▶ (or →).", opts.Scheduler, o.Verdict, o.Run, o.Runs)
		return nil
	}
	return fmt.Errorf("no failure of program %s in %s", s.p.Name(), strings.Join(tried, ", "))
}

// quiz lays out a run for the player to predict the final values of, as
// OSTEP's x86.py does with -c: the opened schedule's, else a random run
// of the program, short if one can be found.
func (s *session) quiz() (*view.Run, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	steps := s.plan
	if steps == nil {
		steps = randomRun(s.p, s.rng)
	}
	r, err := picture.Of(s.p, steps, s.source, s.file, nil)
	if err != nil {
		return nil, err
	}
	r.Kind = "quiz"
	return r, nil
}

// randomRun is a run of p whose every step is chosen at random: the
// shortest of a few, so that the table fits on a page.
func randomRun(p *program.Program, rng *rand.Rand) []int {
	var best []int
	for range 20 {
		res, err := p.Run(func(_ *program.State, enabled []int) int { return enabled[rng.IntN(len(enabled))] }, program.RunOptions{MaxSteps: 400})
		if err != nil {
			continue
		}
		if best == nil || len(res.Schedule) < len(best) {
			best = res.Schedule
		}
		if len(best) <= 40 {
			break
		}
	}
	return best
}
