package actions

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"time"

	"github.com/pmrun/pmrun/actions/internal/proc"
)

func init() {
	Register(&Spec{
		Name:    "spawn",
		Summary: "Start a process: a command (no shell), a shell line, or a pmrun agent.",
		Params: []Param{
			{Name: "name", Kind: String, Required: true, Doc: "the process's name in this run, for wait, terminate and in:"},
			{Name: "cmd", Kind: Strings, Doc: "the program and its arguments, run without a shell, e.g. [sleep, \"30\"]"},
			{Name: "shell", Kind: String, Doc: "a command line run by /bin/sh -c"},
			{Name: "agent", Kind: Bool, Doc: "start a pmrun agent, which can host threads, channel ends and prodcons workers"},
			{Name: "env", Kind: StringMap, Doc: "variables added to the environment"},
			{Name: "dir", Kind: String, Doc: "the working directory"},
			{Name: "stdin", Kind: String, Doc: "text written to the process's standard input, which is then closed"},
		},
		OneOf:   [][]string{{"cmd", "shell", "agent"}},
		Results: fieldsOf[spawnResult](),
		Check: func(s Static) []error {
			if s.Has("agent") && !s.Bool("agent") {
				return []error{Paramf("agent", "agent: false starts nothing: use cmd or shell, or agent: true")}
			}
			if s.Has("cmd") && len(s.Strings("cmd")) == 0 {
				return []error{Paramf("cmd", "cmd is empty: give the program and its arguments")}
			}
			if s.Set("agent") && (s.Set("stdin") || s.Set("dir")) {
				return []error{Paramf("agent", "an agent takes no stdin or dir")}
			}
			return nil
		},
		Declare: func(s Static) []Decl {
			if !s.Has("name") {
				return []Decl{{Kind: ProcessRef}, {Kind: AgentRef}}
			}
			name := s.String("name")
			decls := []Decl{{Kind: ProcessRef, Name: name}}
			if s.Bool("agent") || s.Dynamic("agent") {
				decls = append(decls, Decl{Kind: AgentRef, Name: name})
			}
			return decls
		},
		New: newSpawn,
	})
}

// spawnResult is a started process.
type spawnResult struct {
	Name    string    `result:"name" doc:"the process's name"`
	PID     int       `result:"pid" doc:"its process id"`
	PGID    int       `result:"pgid" doc:"its process group id (it leads its own group)"`
	Started time.Time `result:"started" doc:"when it started"`
}

type spawnStep struct {
	spec  proc.Spec
	agent bool
}

func newSpawn(a Args) (Action, error) {
	s := &spawnStep{agent: a.Bool("agent"), spec: proc.Spec{
		Name:  a.String("name"),
		Argv:  a.Strings("cmd"),
		Shell: a.String("shell"),
		Env:   a.StringMap("env"),
		Dir:   a.String("dir"),
		Stdin: a.String("stdin"),
	}}
	if s.spec.Name == "" {
		return nil, Paramf("name", "a process needs a name")
	}
	if !s.agent && len(s.spec.Argv) == 0 && s.spec.Shell == "" {
		return nil, Paramf("cmd", "nothing to run: give cmd, shell or agent: true")
	}
	if s.spec.Dir != "" {
		if fi, err := os.Stat(s.spec.Dir); err != nil || !fi.IsDir() {
			if err == nil {
				err = errors.New("not a directory")
			} else if errors.Is(err, fs.ErrNotExist) {
				err = errors.New("no such directory")
			}
			return nil, Paramf("dir", "%s: %v", s.spec.Dir, err)
		}
	}
	return s, nil
}

func (s *spawnStep) Run(ctx context.Context, env *Env) (Result, error) {
	var p *proc.Process
	var err error
	if s.agent {
		p, err = env.Host.startAgent(ctx, s.spec.Name, s.spec.Env)
	} else {
		argv := s.spec.Argv
		if len(argv) == 0 {
			argv = []string{"/bin/sh", "-c", s.spec.Shell}
		}
		p, err = env.Host.startProcess(s.spec, argv)
	}
	if err != nil {
		return nil, err
	}
	return resultOf(spawnResult{Name: p.Name(), PID: p.PID(), PGID: p.PGID(), Started: p.Started()}), nil
}
