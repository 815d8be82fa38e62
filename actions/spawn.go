package actions

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pmrun/pmrun/actions/internal/proc"
)

func init() {
	register(&Spec{
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
			return spawnProblems(s.Args)
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
	if errs := spawnProblems(a); len(errs) > 0 {
		return nil, errs[0]
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

// spawnProblems are the mistakes in the parameters a spawn has (Check
// finds them at load in its literal ones, New in all when the step runs):
// an empty name, shell or program, and what no process can be given — a
// NUL byte in an argument, the environment or the folder, an environment
// variable without a name or with = in it.
func spawnProblems(a Args) []error {
	var errs []error
	nul := func(param, what, v string) {
		if strings.IndexByte(v, 0) >= 0 {
			errs = append(errs, Paramf(param, "%s holds a NUL byte, which no process's arguments, environment or folder can carry", what))
		}
	}
	if a.Has("name") && a.String("name") == "" {
		errs = append(errs, Paramf("name", "name is empty: a process needs a name"))
	}
	if a.Has("shell") {
		if a.String("shell") == "" {
			errs = append(errs, Paramf("shell", "shell is empty: give a command line for /bin/sh -c"))
		}
		nul("shell", "the command line", a.String("shell"))
	}
	if argv := a.Strings("cmd"); len(argv) > 0 {
		if argv[0] == "" {
			errs = append(errs, Paramf("cmd", "the program, cmd's first item, is empty"))
		}
		for i, arg := range argv {
			nul("cmd", fmt.Sprintf("item %d", i+1), arg)
		}
	}
	env := a.StringMap("env")
	for _, k := range slices.Sorted(maps.Keys(env)) {
		v := env[k]
		if k == "" || strings.ContainsRune(k, '=') {
			errs = append(errs, Paramf("env", "%q cannot name an environment variable: a name is not empty and has no =", k))
		}
		nul("env", "variable "+strconv.Quote(k), k+v)
	}
	if a.Has("dir") {
		nul("dir", "the folder", a.String("dir"))
	}
	return errs
}

func (s *spawnStep) Run(ctx context.Context, env *Env) (Result, error) {
	var p *proc.Process
	var err error
	if s.agent {
		p, err = hostOf(env).startAgent(ctx, s.spec.Name, s.spec.Env)
	} else {
		argv := s.spec.Argv
		if len(argv) == 0 {
			argv = []string{"/bin/sh", "-c", s.spec.Shell}
		}
		p, err = hostOf(env).startProcess(s.spec, argv)
	}
	if err != nil {
		return nil, err
	}
	return resultOf(spawnResult{Name: p.Name(), PID: p.PID(), PGID: p.PGID(), Started: p.Started()}), nil
}
