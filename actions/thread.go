package actions

import (
	"context"
	"strings"
	"time"

	"github.com/pmrun/pmrun/actions/internal/place"
)

func init() {
	register(&Spec{
		Name:    "thread",
		Summary: "Start a real OS thread, named in the kernel (ps -L, top -H), in the runner or an agent.",
		Params: []Param{
			{Name: "name", Kind: String, Required: true, Doc: "the thread's name in this run, for terminate, wait and alive(); the kernel shows its first 15 bytes"},
			{Name: "in", Kind: String, Ref: AgentRef, Default: RunnerName, Doc: "the process it runs in: runner, or an agent (a spawn with agent: true)"},
			{Name: "run", Kind: String, Default: place.RunIdle, Enum: []string{place.RunIdle, place.RunSleep, place.RunSpin},
				Doc: "idle: block at a cancellation point until terminated; sleep: sleep for `for`; spin: burn CPU for `for`, checking for cancellation"},
			{Name: "for", Kind: Duration, Doc: "how long sleep and spin run before the thread finishes by itself; 0 or absent: until terminated"},
		},
		Results: fieldsOf[threadResult](),
		Check: func(s Static) []error {
			var errs []error
			if s.Has("name") {
				if err := checkThreadName(s.String("name")); err != nil {
					errs = append(errs, err)
				}
			}
			if s.Has("for") && s.Duration("for") > 0 && !s.Dynamic("run") && s.String("run") == place.RunIdle {
				errs = append(errs, Paramf("for", "an idle thread runs until terminated: use run: sleep or run: spin with for"))
			}
			if s.Has("for") && s.Duration("for") < 0 {
				errs = append(errs, Paramf("for", "a negative duration"))
			}
			return errs
		},
		Declare: func(s Static) []Decl {
			if !s.Has("name") {
				return []Decl{{Kind: ThreadRef}}
			}
			return []Decl{{Kind: ThreadRef, Name: s.String("name")}}
		},
		New: newThread,
	})
}

// threadResult is a started thread, the thread step's result.
type threadResult struct {
	Name string `result:"name" doc:"the thread's name"`
	TID  int    `result:"tid" doc:"its kernel thread id (gettid), as in /proc/PID/task/TID"`
	PID  int    `result:"pid" doc:"the id of the process it runs in"`
	In   string `result:"in" doc:"runner or the agent's name"`
}

// threadEndResult is a joined thread, the result of wait and terminate of
// a thread. Its fields are documented for both a thread and a process
// (see exitResult), which wait and terminate share.
type threadEndResult struct {
	Name    string        `result:"name" doc:"the process's or the thread's name"`
	TID     int           `result:"tid" doc:"thread: its kernel thread id"`
	PID     int           `result:"pid" doc:"thread: the id of the process it ran in"`
	In      string        `result:"in" doc:"thread: runner or the agent it ran in"`
	State   string        `result:"state" doc:"thread: finished, cancelled or failed"`
	Runtime time.Duration `result:"runtime" doc:"from its start to its exit or end"`
	Latency time.Duration `result:"latency" doc:"thread: from the cancellation request to its end (0 when it was not cancelled)"`
	Error   string        `result:"thread_error" doc:"thread: what its body failed with (\"\" unless state is failed)"`
}

// checkThreadName rejects names no thread can have.
func checkThreadName(name string) error {
	switch {
	case name == "":
		return Paramf("name", "a thread needs a name")
	case strings.IndexByte(name, 0) >= 0:
		return Paramf("name", "a thread name cannot contain a NUL byte")
	}
	return nil
}

type threadStep struct {
	spec place.ThreadSpec
	in   string
}

func newThread(a Args) (Action, error) {
	t := &threadStep{spec: place.ThreadSpec{Name: a.String("name"), Run: a.String("run"), For: a.Duration("for")}, in: a.String("in")}
	if err := checkThreadName(t.spec.Name); err != nil {
		return nil, err
	}
	if t.spec.For < 0 {
		return nil, Paramf("for", "a negative duration")
	}
	if t.spec.Run == place.RunIdle && t.spec.For > 0 {
		return nil, Paramf("for", "an idle thread runs until terminated: use run: sleep or run: spin with for")
	}
	if t.in == "" {
		t.in = RunnerName
	}
	return t, nil
}

func (t *threadStep) Run(ctx context.Context, env *Env) (Result, error) {
	return hostOf(env).startThread(ctx, env, t.spec, t.in)
}
