package actions

import (
	"context"
	"os"
)

func init() {
	register(&Spec{
		Name:    "list",
		Summary: "List this run's processes, the host's processes, or the threads of the runner or an agent.",
		Params: []Param{
			{Name: "processes", Kind: String, Enum: []string{"own", "all"}, Doc: "own: the processes this run started, with their state; all: every process on the host"},
			{Name: "threads", Kind: String, Ref: AgentRef, Doc: "runner or an agent: the real thread list of that process, from /proc/PID/task"},
		},
		OneOf:   [][]string{{"processes", "threads"}},
		Results: fieldsOf[listResult](),
		New: func(a Args) (Action, error) {
			return &listStep{processes: a.String("processes"), threads: a.String("threads")}, nil
		},
	})
}

// listResult is what list found.
type listResult struct {
	Items []any `result:"items" doc:"processes: {name, pid, pgid, ppid, status, exit_code, signal, started} (own) or {pid, ppid, name, status, cpu_percent, rss, threads, cmdline} (all); threads: {tid, name, comm, state, pmrun} (name: the pmrun thread's full name, else the kernel's; comm: the 15 bytes the kernel keeps)"`
	Count int   `result:"count" doc:"how many items"`
	Names []any `result:"names" doc:"the names of the items"`
}

type listStep struct {
	processes, threads string
}

func (l *listStep) Run(ctx context.Context, env *Env) (Result, error) {
	var items []map[string]any
	var err error
	switch {
	case l.threads != "":
		items, err = hostOf(env).listThreads(ctx, l.threads)
	case l.processes == "all":
		items, err = listSystemProcesses(ctx)
	default:
		items = hostOf(env).listOwn()
	}
	if err != nil {
		return nil, err
	}
	names := make([]any, len(items))
	list := make([]any, len(items))
	for i, it := range items {
		names[i] = it["name"]
		list[i] = it
	}
	return resultOf(listResult{Items: list, Count: len(items), Names: names}), nil
}

// listOwn describes the processes this run started, in start order.
func (h *Host) listOwn() []map[string]any {
	h.mu.Lock()
	t := h.procs
	h.mu.Unlock()
	if t == nil {
		return nil
	}
	var out []map[string]any
	for _, p := range t.List() {
		out = append(out, map[string]any{
			"name": p.Name, "pid": p.PID, "pgid": p.PGID, "ppid": os.Getpid(),
			"status": string(p.State), "exit_code": p.ExitCode, "signal": p.Signal, "started": p.Started,
		})
	}
	return out
}
