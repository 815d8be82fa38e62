package actions

import (
	"context"
	"strings"
)

func init() {
	Register(&Spec{
		Name:    "thread",
		Summary: "Start a real OS thread, named in the kernel (ps -L, top -H), in the runner or an agent.",
		Params: []Param{
			{Name: "name", Kind: String, Required: true, Doc: "the thread's name in this run, for terminate, wait and alive(); the kernel shows its first 15 bytes"},
			{Name: "in", Kind: String, Ref: AgentRef, Default: runnerName, Doc: "the process it runs in: runner, or an agent (a spawn with agent: true)"},
			{Name: "run", Kind: String, Default: runIdle, Enum: []string{runIdle, runSleep, runSpin},
				Doc: "idle: block at a cancellation point until terminated; sleep: sleep for `for`; spin: burn CPU for `for`, checking for cancellation"},
			{Name: "for", Kind: Duration, Doc: "how long sleep and spin run before the thread finishes by itself; 0 or absent: until terminated"},
		},
		Results: []Field{
			{Name: "name", Type: "string", Doc: "the thread's name"},
			{Name: "tid", Type: "int", Doc: "its kernel thread id (gettid), as in /proc/PID/task/TID"},
			{Name: "pid", Type: "int", Doc: "the id of the process it runs in"},
			{Name: "in", Type: "string", Doc: "runner or the agent's name"},
		},
		Check: func(s Static) []error {
			var errs []error
			if s.Has("name") {
				if err := checkThreadName(s.String("name")); err != nil {
					errs = append(errs, err)
				}
			}
			if s.Has("for") && s.Duration("for") > 0 && !s.Dynamic("run") && s.String("run") == runIdle {
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

type thread struct {
	spec threadSpec
	in   string
}

func newThread(a Args) (Action, error) {
	t := &thread{spec: threadSpec{Name: a.String("name"), Run: a.String("run"), For: a.Duration("for")}, in: a.String("in")}
	if err := checkThreadName(t.spec.Name); err != nil {
		return nil, err
	}
	if t.spec.For < 0 {
		return nil, Paramf("for", "a negative duration")
	}
	if t.spec.Run == runIdle && t.spec.For > 0 {
		return nil, Paramf("for", "an idle thread runs until terminated: use run: sleep or run: spin with for")
	}
	if t.in == "" {
		t.in = runnerName
	}
	return t, nil
}

func (t *thread) Run(ctx context.Context, env *Env) (Result, error) {
	return env.Host.startThread(ctx, env, t.spec, t.in)
}
