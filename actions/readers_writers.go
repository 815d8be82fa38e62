package actions

import (
	"context"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/rw"
)

func init() {
	register(&Spec{
		Name: "readers_writers",
		Summary: "The readers-writers problem: readers share a room, a writer needs it alone; one OS thread a worker, futex semaphores for the locks. " +
			"Times every wait, to show who starves whom under each policy. policy none breaks the rule on purpose (ok: false, not a failure).",
		Params: []Param{
			{Name: "readers", Kind: Int, Default: 4, Min: intp(0), Max: intp(rw.MaxWorkers), Doc: "how many readers"},
			{Name: "writers", Kind: Int, Default: 2, Min: intp(0), Max: intp(rw.MaxWorkers), Doc: "how many writers"},
			{Name: "reads", Kind: Int, Default: 20, Min: intp(0), Max: intp(rw.MaxOps), Doc: "visits each reader makes"},
			{Name: "writes", Kind: Int, Default: 5, Min: intp(0), Max: intp(rw.MaxOps), Doc: "visits each writer makes"},
			{Name: "policy", Kind: String, Default: string(rw.Fair),
				Enum: []string{string(rw.ReadersFirst), string(rw.WritersFirst), string(rw.Fair), string(rw.None)},
				Doc:  "readers_first: readers come in while readers are in (writers can starve); writers_first: a waiting writer holds new readers back (readers can starve); fair: one turnstile for all, in arrival order; none: no lock"},
			{Name: "read_time", Kind: Duration, Default: 3 * time.Millisecond, Doc: "how long a reader stays in"},
			{Name: "write_time", Kind: Duration, Default: time.Millisecond, Doc: "how long a writer stays in"},
			{Name: "think_time", Kind: Duration, Doc: "between two visits of a worker"},
			{Name: "jitter", Kind: Duration, Doc: "a random extra delay up to this much on each think, read and write, drawn from the run's seed"},
			{Name: "trace", Kind: Bool, Default: false, Doc: "log rw_wait, rw_enter and rw_leave events (worker, role, readers; broke_rule on an entry that broke the rule) for the timeline"},
		},
		Results: fieldsOf[readersWritersResult](),
		Check: func(s Static) []error {
			if s.Has("readers") && s.Has("writers") && s.Int("readers")+s.Int("writers") == 0 {
				return []error{Paramf("readers", "no readers and no writers: nobody to run")}
			}
			return nil
		},
		Events: readersWritersEvents,
		New:    newReadersWriters,
	})
}

// readersWritersResult is what a readers-writers run found.
type readersWritersResult struct {
	OK             bool          `result:"ok" doc:"every visit made and the rule always held"`
	Reads          int           `result:"reads" doc:"reader visits made"`
	Writes         int           `result:"writes" doc:"writer visits made"`
	Violations     int           `result:"violations" doc:"entries that broke the rule: a writer with anyone else in, a reader with a writer"`
	MaxReaders     int           `result:"max_readers" doc:"the most readers in the room at once"`
	ReaderMaxWait  time.Duration `result:"reader_max_wait" doc:"the longest a reader waited to come in"`
	ReaderMeanWait time.Duration `result:"reader_mean_wait" doc:"a reader's mean wait"`
	WriterMaxWait  time.Duration `result:"writer_max_wait" doc:"the longest a writer waited to come in"`
	WriterMeanWait time.Duration `result:"writer_mean_wait" doc:"a writer's mean wait"`
	Runtime        time.Duration `result:"runtime" doc:"from the moment all were let in to the end"`
	Threads        []string      `result:"threads" doc:"the workers' thread names: reader-0, …, writer-0, …"`
}

type readersWritersStep struct {
	cfg   rw.Config
	trace bool
}

func newReadersWriters(a Args) (Action, error) {
	return &readersWritersStep{
		trace: a.Bool("trace"),
		cfg: rw.Config{
			Readers: a.Int("readers"), Writers: a.Int("writers"),
			Reads: a.Int("reads"), Writes: a.Int("writes"),
			Policy:   rw.Policy(a.String("policy")),
			ReadTime: a.Duration("read_time"), WriteTime: a.Duration("write_time"),
			ThinkTime: a.Duration("think_time"), Jitter: a.Duration("jitter"),
		},
	}, nil
}

func (a *readersWritersStep) Run(ctx context.Context, env *Env) (Result, error) {
	cfg := a.cfg
	cfg.Seed = env.Seed()
	if a.trace {
		cfg.OnEvent = func(e rw.Event) {
			role := "reader"
			if e.Writer {
				role = "writer"
			}
			switch e.Kind {
			case rw.EventWait:
				env.Event(e.Kind, "waiting to come in", "worker", e.Worker, "role", role)
			case rw.EventEnter:
				kv := []any{"worker", e.Worker, "role", role, "readers", e.Readers}
				if e.Broke {
					kv = append(kv, "broke_rule", true)
				}
				env.Event(e.Kind, "in", kv...)
			case rw.EventLeave:
				env.Event(e.Kind, "out", "worker", e.Worker, "role", role)
			}
		}
	}
	res, err := rw.Run(ctx, cfg)
	out := resultOf(readersWritersResult{
		OK: res.OK, Reads: res.Reads, Writes: res.Writes, Violations: res.Violations, MaxReaders: res.MaxReaders,
		ReaderMaxWait: res.ReaderMaxWait, ReaderMeanWait: res.ReaderMeanWait,
		WriterMaxWait: res.WriterMaxWait, WriterMeanWait: res.WriterMeanWait,
		Runtime: res.Runtime, Threads: cfg.Threads(),
	})
	if err != nil {
		return out, err
	}
	if res.Violations > 0 && cfg.Policy != rw.None {
		return out, fmt.Errorf("readers_writers: the rule was broken %d times under policy %s", res.Violations, cfg.Policy)
	}
	return out, nil
}

// readersWritersEvents draw each worker on a row of its own: a span while
// it waits to come in, one while it reads or writes; an entry that broke
// the rule is a failure mark.
var readersWritersEvents = []*Event{
	{Name: rw.EventWait, Row: roomRow, Starts: []Start{{Style: roomWait, Label: Text("waits to come in")}}},
	{
		Name: rw.EventEnter, Row: roomRow,
		Mark: &Mark{If: IsTrue("broke_rule"), Failed: Always, Label: brokeRuleLabel},
		Ends: []End{{Style: roomWait, Status: Text("in")}},
		Starts: []Start{
			{If: Equals("role", "writer"), Style: writing, Label: writerLabel},
			{Style: reading, Label: readerLabel},
		},
		Count: &Count{Noun: "visits"},
	},
	{Name: rw.EventLeave, Row: roomRow, Ends: []End{{Style: reading, Status: Text("out")}, {Style: writing, Status: Text("out")}}},
}

var (
	roomRow  = Row{Kind: WorkerRow, Key: []string{"worker"}, Label: Text("{worker}")}
	roomWait = &Style{Name: "wait", Color: "#c9c9c9", Legend: "waiting to come in"}
	reading  = &Style{Name: "read", Color: "#4c9f70", Legend: "reading"}
	writing  = &Style{Name: "write", Color: "#e08a00", Legend: "writing"}
)

func readerLabel(o Occurrence) string {
	if n, ok := o.Fields.Int("readers"); ok && n > 1 {
		return fmt.Sprintf("reads (%d readers in)", n)
	}
	return "reads"
}

func writerLabel(o Occurrence) string {
	if o.Fields.Bool("broke_rule") {
		return "writes (not alone)"
	}
	return "writes (alone)"
}

func brokeRuleLabel(o Occurrence) string {
	if o.Fields.Str("role") == "writer" {
		return "came in to write while others were in"
	}
	return "came in to read while a writer was in"
}
