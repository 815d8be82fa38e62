package manual

import (
	"fmt"
	"strings"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// What the player sees: the rules once, then before every choice the
// shared state and each thread's next step; after each step, what it did;
// at the end, the verdict, the run as a table and the schedule.

func (pl *player) intro() {
	names := pl.p.Threads()
	var keys []string
	for t, name := range names {
		keys = append(keys, threadLetter(t)+" = "+name)
	}
	threads := "threads"
	if len(names) == 1 {
		threads = "thread"
	}
	pl.say("You are the scheduler of program %s (%s): %d %s, %s.", pl.p.Name(), pl.at(pl.p.Def().Pos), len(names), threads, strings.Join(keys, ", "))
	if pl.keys {
		pl.say("Press a thread's key to let it take its next step, no Enter needed; hold it down to repeat.")
		pl.say("- or u undoes a step, . or q stops, ? shows this again.")
	} else {
		pl.say("Each key lets that thread take its next step; a line may hold several, and a count repeats")
		pl.say("one (a3b = a a a b). - or u undoes a step, . or q stops, ? shows this again.")
	}
	pl.say("You win by breaking the program: two threads inside a critical region, a deadlock,")
	pl.say("or a failed assert, invariant or expect.")
}

// state shows the state before a choice.
func (pl *player) state() {
	s := pl.g.State()
	d := pl.p.Def()
	pl.say("")
	pl.say("step %d", pl.g.Taken()+1)
	if vals := s.Final(); len(d.Vars) > 0 {
		var parts []string
		for _, v := range d.Vars {
			parts = append(parts, fmt.Sprintf("%s = %v", v.Name, vals[v.Name]))
		}
		pl.say("  shared       %s", strings.Join(parts, "   "))
	}
	if len(d.Semaphores) > 0 {
		var parts []string
		for _, m := range d.Semaphores {
			v, _ := s.Semaphore(m.Name)
			parts = append(parts, fmt.Sprintf("%s = %d", m.Name, v))
		}
		pl.say("  semaphores   %s", strings.Join(parts, "   "))
	}
	names := pl.p.Threads()
	if len(d.Mutexes) > 0 {
		var parts []string
		for _, m := range d.Mutexes {
			who := "free"
			if h := s.Holder(m.Name); h >= 0 {
				who = "held by " + names[h]
			}
			parts = append(parts, m.Name+" "+who)
		}
		pl.say("  mutexes      %s", strings.Join(parts, "   "))
	}
	if inside := insideRegions(s, names); inside != "" {
		pl.say("  inside       %s", inside)
	}
	w := 0
	for _, name := range names {
		w = max(w, len(name))
	}
	for t, name := range names {
		st := s.Status(t)
		var what string
		switch {
		case st.Finished:
			what = "finished"
		default:
			a, _ := s.Next(t)
			what = fmt.Sprintf("next   %d: %s", a.Pos.Line, a.Text)
			if st.Blocked {
				what = fmt.Sprintf("blocked %d: %s   (waits for %s)", a.Pos.Line, a.Text, st.Waiting)
			}
		}
		pl.say("  %s  %-*s  %s", threadLetter(t), w, name, what)
	}
}

// insideRegions says who is inside each critical region: "critical: A".
func insideRegions(s *program.State, names []string) string {
	var order []string
	who := map[string][]string{}
	for t, name := range names {
		for _, r := range s.Status(t).Regions {
			if _, seen := who[r]; !seen {
				order = append(order, r)
			}
			who[r] = append(who[r], name)
		}
	}
	var parts []string
	for _, r := range order {
		parts = append(parts, r+": "+strings.Join(who[r], ", "))
	}
	return strings.Join(parts, "   ")
}

// stepped shows a step just taken.
func (pl *player) stepped(t int, info program.StepInfo) {
	line := fmt.Sprintf("  %s %s: %d: %s", threadLetter(t), pl.p.Threads()[t], info.Pos.Line, info.Text)
	if info.Var >= 0 && info.Old != info.New {
		v := pl.p.Def().Vars[info.Var]
		line += fmt.Sprintf("   (%s: %s → %s)", v.Name, value(info.Old, v.Bool), value(info.New, v.Bool))
	}
	if info.Log != "" {
		line += "   log: " + info.Log
	}
	pl.say("%s", line)
}

// value is a shared variable's value as the program reads it.
func value(v int64, isBool bool) string {
	if isBool {
		return fmt.Sprint(v != 0)
	}
	return fmt.Sprint(v)
}

// outro says how the game ended and how to play it again.
func (pl *player) outro(out engine.Outcome) {
	pl.say("")
	switch {
	case out.Failure != nil:
		pl.say("You broke it! %s at %s: %s", out.Verdict, pl.at(out.Failure.Pos), out.Failure.Msg)
		if out.Explanation != "" && !strings.Contains(out.Failure.Msg, out.Explanation) {
			pl.say("%s", out.Explanation)
		}
	case out.Complete:
		pl.say("Every thread finished and every check held: the program survived this schedule.")
	default:
		steps := "steps"
		if out.Steps == 1 {
			steps = "step"
		}
		pl.say("Stopped after %d %s, before the run ended.", out.Steps, steps)
	}
	if out.Interleaving != nil && len(out.Interleaving.Rows) > 0 {
		pl.say("")
		pl.write(out.Interleaving.Format())
	}
	sched, whole := schedule.Printable(out.ScheduleText)
	pl.say("The game as a schedule (%d steps, %d switches): %s", out.Steps, out.Switches, sched)
	switch {
	case pl.replay == nil || out.Steps == 0:
	case whole:
		if cmd := pl.replay(out.ScheduleText); cmd != "" {
			pl.say("Replay it on real threads: %s", cmd)
		}
	default: // the step's result and the log hold it whole
		if cmd := pl.replay("@FILE"); cmd != "" {
			pl.say("Replay it on real threads: write the schedule (the step's schedule, in the log too) to a file and run %s", cmd)
		}
	}
}

func (pl *player) help() {
	pl.intro()
}

// at is a position in the scenario file: FILE:LINE:COL.
func (pl *player) at(p program.Pos) string {
	if pl.file == "" {
		return p.String()
	}
	return pl.file + ":" + p.String()
}
