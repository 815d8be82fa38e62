package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/internal/dining"
)

func init() {
	register(&Spec{
		Name: "dining",
		Summary: "The dining philosophers: one OS thread a philosopher, one futex mutex a fork. A naive table can deadlock; " +
			"pmrun finds the circular wait in the wait-for graph, explains it and cancels the philosophers (ok: false, deadlock: true, not a failure).",
		Params: []Param{
			{Name: "philosophers", Kind: Int, Default: 5, Min: intp(dining.MinPhilosophers), Max: intp(dining.MaxPhilosophers), Doc: "how many sit at the table, with as many forks"},
			{Name: "meals", Kind: Int, Default: 3, Min: intp(1), Max: intp(dining.MaxMeals), Doc: "meals each philosopher eats"},
			{Name: "order", Kind: String, Default: string(dining.Naive), Enum: []string{string(dining.Naive), string(dining.Ordered), string(dining.Waiter)},
				Doc: "naive: left fork, then right (can deadlock); ordered: the lower-numbered fork first; waiter: at most N-1 seated at once. A deadlock under ordered or waiter fails the step"},
			{Name: "think_time", Kind: Duration, Doc: "thinking before each meal"},
			{Name: "eat_time", Kind: Duration, Default: time.Millisecond, Doc: "how long a meal takes, both forks in hand"},
			{Name: "pause", Kind: Duration, Default: time.Millisecond, Doc: "between picking up the first fork and reaching for the second: widens the window in which a naive table deadlocks"},
			{Name: "jitter", Kind: Duration, Doc: "a random extra delay up to this much on each think and meal, drawn from the run's seed"},
			{Name: "detect", Kind: Duration, Default: 100 * time.Millisecond, Doc: "how long a circular wait must stand, with no fork taken and no meal begun, to be called a deadlock"},
			{Name: "trace", Kind: Bool, Default: false, Doc: "log fork_taken, fork_wait, fork_released and meal events (worker, fork, held_by, meal) for the timeline"},
		},
		Results: fieldsOf[diningResult](),
		Check: func(s Static) []error {
			if s.Has("detect") && s.Duration("detect") == 0 {
				return []error{Paramf("detect", "must be more than 0")}
			}
			return nil
		},
		Events: diningEvents,
		New:    newDining,
	})
}

// diningResult is how a table ended.
type diningResult struct {
	OK             bool          `result:"ok" doc:"every philosopher ate every meal"`
	Deadlock       bool          `result:"deadlock" doc:"a circular wait stood for detect; the philosophers were cancelled"`
	Cycle          []string      `result:"cycle" doc:"the circular wait, a line a philosopher: \"phil-0 holds fork 0 and waits for fork 1, held by phil-1\""`
	Explanation    string        `result:"explanation" doc:"why it deadlocked (or that it did not), and what prevents it"`
	Meals          int           `result:"meals" doc:"meals eaten in all"`
	PerPhilosopher []int         `result:"per_philosopher" doc:"meals each philosopher ate, by index"`
	Waits          int           `result:"waits" doc:"times a philosopher found a fork taken and waited for it"`
	Runtime        time.Duration `result:"runtime" doc:"from the moment all sat down to the end"`
	Threads        []string      `result:"threads" doc:"the philosophers' thread names: phil-0, phil-1, …"`
}

type diningStep struct {
	cfg   dining.Config
	trace bool
}

func newDining(a Args) (Action, error) {
	return &diningStep{
		trace: a.Bool("trace"),
		cfg: dining.Config{
			Philosophers: a.Int("philosophers"),
			Meals:        a.Int("meals"),
			Order:        dining.Order(a.String("order")),
			ThinkTime:    a.Duration("think_time"),
			EatTime:      a.Duration("eat_time"),
			Pause:        a.Duration("pause"),
			Jitter:       a.Duration("jitter"),
			Detect:       a.Duration("detect"),
		},
	}, nil
}

func (d *diningStep) Run(ctx context.Context, env *Env) (Result, error) {
	cfg := d.cfg
	cfg.Seed = env.Seed()
	if d.trace {
		cfg.OnEvent = func(e dining.Event) { diningEvent(env, e) }
	}
	// Logged as soon as the deadlock is found, before the philosophers
	// are stopped and put their forks down.
	cfg.OnDeadlock = func(c []dining.Link) {
		env.EventLevel(hclog.Warn, evDeadlock, "deadlock detected", "order", string(cfg.Order),
			"cycle", describe(c), "explanation", dining.ExplainDeadlock(c, cfg.Philosophers))
	}
	res, err := dining.Run(ctx, cfg)
	out := resultOf(diningResult{
		OK: res.OK, Deadlock: res.Deadlock, Cycle: describe(res.Cycle), Explanation: res.Explain(),
		Meals: res.Meals, PerPhilosopher: res.PerPhilosopher, Waits: res.Waits, Runtime: res.Runtime,
		Threads: cfg.Threads(),
	})
	if err != nil {
		return out, err
	}
	if res.Deadlock && cfg.Order != dining.Naive {
		return out, fmt.Errorf("dining: deadlock under order: %s: %s", cfg.Order, res.Explain())
	}
	return out, nil
}

// describe says each link of a cycle in words.
func describe(cycle []dining.Link) []string {
	out := make([]string, len(cycle))
	for i, l := range cycle {
		out[i] = l.Describe()
	}
	return out
}

func diningEvent(env *Env, e dining.Event) {
	who := dining.Name(e.Philosopher)
	switch e.Kind {
	case dining.ForkTaken:
		env.Event(e.Kind, "fork taken", "worker", who, "fork", e.Fork)
	case dining.ForkReleased:
		env.Event(e.Kind, "fork released", "worker", who, "fork", e.Fork)
	case dining.ForkWait:
		holder := ""
		if e.HeldBy >= 0 {
			holder = dining.Name(e.HeldBy)
		}
		env.Event(e.Kind, "waiting for a fork", "worker", who, "fork", e.Fork, "held_by", holder)
	case dining.MealStarted:
		env.Event(e.Kind, "eating", "worker", who, "meal", e.Meal)
	}
}

// diningEvents draw each philosopher on a row of its own: a span while it
// waits for a fork and one while it eats, a mark for each fork taken or
// put down; a deadlock is a failure mark on the steps' row
// (deadlock_detected, which the program action logs too: core_events.go).
var diningEvents = []*Event{
	{Name: dining.ForkWait, Row: philosopherRow, Starts: []Start{{Style: forkWait, Label: forkWaitLabel}}},
	{
		Name: dining.ForkTaken, Row: philosopherRow,
		Mark: &Mark{Label: Text("took fork {fork}"), Color: outColor, Legend: "fork taken"},
		Ends: []End{{Style: forkWait, Status: Text("got it")}},
	},
	{
		Name: dining.MealStarted, Row: philosopherRow,
		Ends:   []End{{Style: forkWait, Status: Text("got it")}},
		Starts: []Start{{Style: eating, Label: Text("eats (meal {meal})")}},
		Count:  &Count{Noun: "meals"},
	},
	{
		Name: dining.ForkReleased, Row: philosopherRow,
		Mark: &Mark{Label: Text("put down fork {fork}"), Color: inColor, Legend: "fork put down"},
		Ends: []End{{Style: eating, Status: Text("done")}, {Style: forkWait, Status: Text("gave up")}},
	},
}

var (
	philosopherRow = Row{Kind: WorkerRow, Key: []string{"worker"}, Label: Text("philosopher {worker}")}
	forkWait       = &Style{Name: "wait", Color: "#c9c9c9", Legend: "waiting for a fork"}
	eating         = &Style{Name: "meal", Color: "#4c9f70", Legend: "eating"}
)

func forkWaitLabel(o Occurrence) string {
	label := "waits for fork " + o.Fields.Str("fork")
	if h := o.Fields.Str("held_by"); h != "" {
		label += ", held by " + h
	}
	return label
}
