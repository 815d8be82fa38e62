package play

import (
	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/picture"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// state is what the page shows, as JSON: the program's threads with their
// code and where each is, the shared objects now, the run so far (drawn
// by view's script), and how the game stands.
type state struct {
	Program  string        `json:"program"`
	File     string        `json:"file"`
	Programs []programInfo `json:"programs"`
	Threads  []threadState `json:"threads"`
	Shared   []sharedState `json:"shared"`
	Regions  []regionState `json:"regions"`
	// Run is the run so far, laid out as the report lays one out (its
	// steps with the values after each; once over, the broken rule, a
	// deadlock's graph, the replay command).
	Run *view.Run `json:"run"`
	// Over: no step can be taken; Won: the program broke.
	Over bool `json:"over"`
	Won  bool `json:"won"`
	// Schedule is the steps so far as a schedule.
	Schedule string `json:"schedule"`
	// Plan is the schedule opened, if any.
	Plan    *planState `json:"plan,omitempty"`
	Message string     `json:"message,omitempty"`
	// Remaining is the time left before the time limit, in milliseconds;
	// -1 without one.
	Remaining int64 `json:"remaining"`
}

type programInfo struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Line        int    `json:"line"`
}

// threadState is one thread: its code and where it is.
type threadState struct {
	view.Thread
	// State is ready (it can take a step), blocked or finished.
	State string `json:"state"`
	// Line and Op are its next step; Waits what a blocked thread waits
	// for.
	Line    int      `json:"line,omitempty"`
	Op      string   `json:"op,omitempty"`
	Waits   string   `json:"waits,omitempty"`
	Regions []string `json:"regions,omitempty"`
}

type sharedState struct {
	view.Shared
	Value string `json:"value"`
}

type regionState struct {
	Name   string   `json:"name"`
	Inside []string `json:"inside"`
}

type planState struct {
	Schedule string `json:"schedule"`
	Steps    []int  `json:"steps"`
}

// state is the game as it stands. The caller holds mu.
func (s *session) state() *state {
	st := &state{Program: s.p.Name(), File: s.file, Message: s.message, Remaining: -1, Shared: []sharedState{}}
	for _, name := range s.set.Names() {
		if p, err := s.set.Program(name); err == nil {
			st.Programs = append(st.Programs, programInfo{Name: name, Description: p.Def().Description, Line: p.Def().Pos.Line})
		}
	}
	now := s.g.State()
	over, failure := s.g.Over()
	st.Over, st.Won = over, over && failure != nil
	for t, th := range s.threads {
		ts := threadState{Thread: th, State: "ready"}
		status := now.Status(t)
		switch {
		case status.Finished:
			ts.State = "finished"
		default:
			a, _ := now.Next(t)
			ts.Line, ts.Op, ts.Regions = a.Pos.Line, a.Text, status.Regions
			if status.Blocked {
				ts.State, ts.Waits = "blocked", status.Waiting
			}
		}
		st.Threads = append(st.Threads, ts)
	}
	steps := s.g.Steps()
	sched := s.g.Schedule()
	st.Schedule = sched.String()
	var f *program.Failure
	if over {
		f = failure
	}
	run, err := picture.Of(s.p, steps, s.source, s.file, f)
	if err != nil {
		// It cannot happen: the steps were taken on this program.
		run = &view.Run{Program: s.p.Name(), Threads: s.threads, Note: err.Error()}
	}
	run.Kind = "manual"
	if !over {
		run.Verdict, run.Failure, run.Rule, run.Deadlock, run.Explanation = string(program.Pass), "", "", nil, ""
	}
	if len(steps) > 0 {
		run.Schedule = st.Schedule
		if st.Won {
			run.Replay = picture.ReplayCommand(s.rerun, st.Schedule)
		}
	}
	st.Run = run
	values := picture.Values(now)
	for i, sh := range run.Shared {
		st.Shared = append(st.Shared, sharedState{Shared: sh, Value: values[i]})
	}
	st.Regions = regionsOf(s.p, now)
	if s.plan != nil {
		st.Plan = &planState{Schedule: s.planTxt, Steps: s.plan}
	}
	return st
}

// regionsOf says who is inside each critical region, in the program's
// order; regions nobody is inside are listed too.
func regionsOf(p *program.Program, now *program.State) []regionState {
	names := p.Threads()
	out := []regionState{} // a list for the page even when there is none
	index := map[string]int{}
	add := func(name string) int {
		if i, ok := index[name]; ok {
			return i
		}
		index[name] = len(out)
		out = append(out, regionState{Name: name, Inside: []string{}})
		return len(out) - 1
	}
	for _, td := range p.Def().Threads {
		walk(td.Body, func(op *program.Op) {
			if op.Kind == program.OpCritical {
				name := op.Object
				if name == "" {
					name = "critical" // the bare critical: block's region
				}
				add(name)
			}
		})
	}
	for t, name := range names {
		for _, r := range now.Status(t).Regions {
			i := add(r)
			out[i].Inside = append(out[i].Inside, name)
		}
	}
	return out
}

// walk calls f for each operation of ops and of the blocks inside them.
func walk(ops []*program.Op, f func(op *program.Op)) {
	for _, op := range ops {
		f(op)
		walk(op.Then, f)
		walk(op.Else, f)
		walk(op.Do, f)
	}
}
