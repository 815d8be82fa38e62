package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/barrier"
)

func init() {
	register(&Spec{
		Name: "barrier",
		Summary: "Workers in rounds that meet at a barrier of futex semaphores, one OS thread a worker; checks that no one leaves a barrier before all have arrived. " +
			"kind one_turnstile is the classic mistake: a worker laps the others, then the barrier jams (ok: false, not a failure).",
		Params: []Param{
			{Name: "workers", Kind: Int, Default: 4, Min: intp(2), Max: intp(barrier.MaxWorkers), Doc: "how many workers"},
			{Name: "rounds", Kind: Int, Default: 10, Min: intp(1), Max: intp(barrier.MaxRounds), Doc: "rounds each worker runs"},
			{Name: "kind", Kind: String, Default: string(barrier.TwoPhase),
				Enum: []string{string(barrier.TwoPhase), string(barrier.OneTurnstile), string(barrier.None)},
				Doc:  "two_phase: the reusable barrier (two turnstiles); one_turnstile: one turnstile for both ways, the mistake that lets a worker lap; none: no barrier"},
			{Name: "work_time", Kind: Duration, Default: time.Millisecond, Doc: "each round's work"},
			{Name: "jitter", Kind: Duration, Default: time.Millisecond, Doc: "a random extra on each round's work, drawn from the run's seed, so that workers arrive in different orders"},
			{Name: "stall", Kind: Duration, Doc: "how long no worker may start a round, arrive at a barrier or leave one before the run is called stuck and stopped; longer than a round's work (default 100ms plus ten rounds' work)"},
			{Name: "trace", Kind: Bool, Default: false, Doc: "log barrier_work, barrier_arrive and barrier_leave events (worker, round; early on a departure before all had arrived) for the timeline"},
		},
		Results: fieldsOf[barrierResult](),
		Check: func(s Static) []error {
			if s.Has("stall") && s.Duration("stall") > 0 && !s.Dynamic("work_time") && !s.Dynamic("jitter") {
				if work := s.Duration("work_time") + s.Duration("jitter"); s.Duration("stall") <= work {
					return []error{Paramf("stall", "%v is no longer than a round's work (work_time plus jitter, %v): a worker at work would look stuck", s.Duration("stall"), work)}
				}
			}
			return nil
		},
		Events: barrierEvents,
		New:    newBarrier,
	})
}

// barrierResult is what a barrier run found.
type barrierResult struct {
	OK       bool          `result:"ok" doc:"every round run, and no one left a barrier before all had arrived"`
	Rounds   int           `result:"rounds" doc:"rounds every worker finished"`
	Early    int           `result:"early" doc:"departures from a barrier before every worker had arrived at it"`
	Stalled  bool          `result:"stalled" doc:"the workers stopped getting anywhere for stall and were stopped"`
	MaxWait  time.Duration `result:"max_wait" doc:"the longest a worker waited at a barrier"`
	MeanWait time.Duration `result:"mean_wait" doc:"the mean wait at a barrier"`
	Last     []int         `result:"last" doc:"for each worker, the rounds it arrived last: the one the others waited for"`
	Runtime  time.Duration `result:"runtime" doc:"from the moment all started to the end"`
	Threads  []string      `result:"threads" doc:"the workers' thread names: worker-0, worker-1, …"`
}

type barrierStep struct {
	cfg   barrier.Config
	trace bool
}

func newBarrier(a Args) (Action, error) {
	return &barrierStep{
		trace: a.Bool("trace"),
		cfg: barrier.Config{
			Workers: a.Int("workers"), Rounds: a.Int("rounds"), Kind: barrier.Kind(a.String("kind")),
			WorkTime: a.Duration("work_time"), Jitter: a.Duration("jitter"), Stall: a.Duration("stall"),
		},
	}, nil
}

func (b *barrierStep) Run(ctx context.Context, env *Env) (Result, error) {
	cfg := b.cfg
	cfg.Seed = env.Seed()
	if b.trace {
		cfg.OnEvent = func(e barrier.Event) {
			msg := map[string]string{barrier.EventWork: "working", barrier.EventArrive: "at the barrier", barrier.EventLeave: "through the barrier"}[e.Kind]
			kv := []any{"worker", barrier.WorkerName(e.Worker), "round", e.Round}
			if e.Early {
				kv = append(kv, "early", true)
			}
			env.Event(e.Kind, msg, kv...)
		}
	}
	res, err := barrier.Run(ctx, cfg)
	out := resultOf(barrierResult{
		OK: res.OK, Rounds: res.Rounds, Early: res.Early, Stalled: res.Stalled,
		MaxWait: res.MaxWait, MeanWait: res.MeanWait, Last: res.Last, Runtime: res.Runtime,
		Threads: cfg.Threads(),
	})
	if err != nil {
		return out, err
	}
	switch {
	case cfg.Kind != barrier.TwoPhase:
	case res.Early > 0:
		return out, fmt.Errorf("barrier: %d departures from the two-phase barrier before every worker had arrived", res.Early)
	case res.Stalled:
		return out, fmt.Errorf("barrier: the two-phase barrier stalled: no worker started a round, arrived or left for %v, after %d rounds",
			cfg.StallLimit(), res.Rounds)
	}
	return out, nil
}

// barrierEvents draw each worker on a row of its own: a span while it
// works on a round, one while it waits at the round's barrier; a
// departure before everyone had arrived is a failure mark.
var barrierEvents = []*Event{
	{Name: barrier.EventWork, Row: barrierRow, Starts: []Start{{Style: roundWork, Label: Text("round {round}")}}},
	{
		Name: barrier.EventArrive, Row: barrierRow,
		Ends:   []End{{Style: roundWork, Status: Text("done")}},
		Starts: []Start{{Style: barrierWait, Label: Text("waits at barrier {round}")}},
	},
	{
		Name: barrier.EventLeave, Row: barrierRow,
		Mark:  &Mark{If: IsTrue("early"), Failed: Always, Label: Text("left barrier {round} before everyone had arrived")},
		Ends:  []End{{Style: barrierWait, Status: leftBarrier}},
		Count: &Count{Noun: "barriers passed"},
	},
}

var (
	barrierRow  = Row{Kind: WorkerRow, Key: []string{"worker"}, Label: Text("{worker}")}
	roundWork   = &Style{Name: "work", Color: "#4c9f70", Legend: "working on a round"}
	barrierWait = &Style{Name: "wait", Color: "#c9c9c9", Legend: "waiting at the barrier"}
)

func leftBarrier(o Occurrence) string {
	if o.Fields.Bool("early") {
		return "left early"
	}
	return "through"
}
