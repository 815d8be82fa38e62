package actions

import (
	"context"
	"fmt"
	"time"
)

func init() {
	register(&Spec{
		Name:    "wait",
		Summary: "Wait for a process to exit, a thread to end, or a background step to finish.",
		Params: []Param{
			{Name: "process", Kind: String, Ref: ProcessRef, Doc: "the process to wait for"},
			{Name: "thread", Kind: String, Ref: ThreadRef, Doc: "the thread to join"},
			{Name: "step", Kind: String, Ref: StepRef, Doc: "the id of a step run with background: true"},
			{Name: "timeout", Kind: Duration, Doc: "give up after this long; the process or thread keeps running"},
		},
		OneOf:   [][]string{{"process", "thread", "step"}},
		Results: mergeFields(fieldsOf[joinedStep](), fieldsOf[threadEndResult](), fieldsOf[exitResult]()),
		New: func(a Args) (Action, error) {
			return &waitStep{process: a.String("process"), thread: a.String("thread"),
				step: a.String("step"), timeout: a.Duration("timeout")}, nil
		},
	})
}

// joinedStep is a background step's result, as wait {step} gives it.
type joinedStep struct {
	Result map[string]any `result:"result" doc:"step: the background step's result (also in steps.ID)"`
}

type waitStep struct {
	process, thread, step string
	timeout               time.Duration
}

func (w *waitStep) Run(ctx context.Context, env *Env) (Result, error) {
	if w.timeout > 0 {
		what := "step " + w.step
		switch {
		case w.process != "":
			what = "process " + w.process
		case w.thread != "":
			what = "thread " + w.thread
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, w.timeout, fmt.Errorf("wait: %s still running after %s", what, w.timeout))
		defer cancel()
	}
	switch {
	case w.process != "":
		p, err := hostOf(env).process(w.process)
		if err != nil {
			return nil, err
		}
		exit, err := p.Wait(ctx)
		if err != nil {
			return nil, err
		}
		return exitOf(p.Name(), exit), nil
	case w.thread != "":
		return hostOf(env).waitThread(ctx, w.thread)
	}
	res, err := env.Join(ctx, env.Step, w.step)
	return resultOf(joinedStep{Result: res}), err
}
