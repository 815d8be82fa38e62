package actions

import (
	"context"
	"time"
)

func init() {
	register(&Spec{
		Name:    "terminate",
		Summary: "Stop a process (its whole group: a signal, then SIGKILL after a grace period) or cancel a thread.",
		Params: []Param{
			{Name: "process", Kind: String, Ref: ProcessRef, Doc: "the process to stop"},
			{Name: "thread", Kind: String, Ref: ThreadRef, Doc: "the thread to cancel (deferred, like pthread_cancel) and join"},
			{Name: "signal", Kind: String, Default: "SIGTERM", Enum: signalNames(), Doc: "the signal sent first to the process group"},
			{Name: "grace", Kind: Duration, Default: 2 * time.Second, Doc: "how long to wait before SIGKILL"},
		},
		OneOf:   [][]string{{"process", "thread"}},
		Results: mergeFields(fieldsOf[threadEndResult](), fieldsOf[exitResult]()),
		Check: func(s Static) []error {
			if s.Set("thread") && (s.Set("signal") || s.Set("grace")) {
				return []error{Paramf("signal", "signal and grace apply to processes; a thread is cancelled")}
			}
			return nil
		},
		New: func(a Args) (Action, error) {
			return &terminateStep{process: a.String("process"), thread: a.String("thread"),
				signal: a.String("signal"), grace: a.Duration("grace")}, nil
		},
	})
}

type terminateStep struct {
	process, thread string
	signal          string
	grace           time.Duration
}

func (t *terminateStep) Run(ctx context.Context, env *Env) (Result, error) {
	if t.thread != "" {
		return hostOf(env).cancelThread(ctx, t.thread)
	}
	p, err := hostOf(env).process(t.process)
	if err != nil {
		return nil, err
	}
	exit, err := p.Terminate(ctx, signals[t.signal], t.grace)
	if err != nil {
		return nil, err
	}
	return exitOf(p.Name(), exit), nil
}
