package actions

import (
	"context"
	"time"

	"github.com/pmrun/pmrun/actions/internal/pslist"
)

// The machine's processes, as `pmrun ps` and list {processes: all} show
// them: every process of the system, not only this run's (which a [Host]
// holds).

// SystemProcess is one process of the machine.
type SystemProcess = pslist.Proc

// SystemProcessNode is a process of the machine with its children, for
// `pmrun ps --tree`.
type SystemProcessNode = pslist.Node

// SystemProcesses lists the machine's processes, sorted by pid, with CPU%
// over each one's lifetime; with interval > 0, CPU% is measured over that
// interval instead, like top.
func SystemProcesses(ctx context.Context, interval time.Duration) ([]SystemProcess, error) {
	if interval > 0 {
		return pslist.Sample(ctx, interval)
	}
	return pslist.List(ctx)
}

// SystemProcessTree arranges processes under their parents; fn, if set, is
// called for each, parents first, with its depth.
func SystemProcessTree(procs []SystemProcess, fn func(p *SystemProcessNode, depth int)) []*SystemProcessNode {
	roots := pslist.Tree(procs)
	if fn != nil {
		pslist.Walk(roots, fn)
	}
	return roots
}

// listSystemProcesses describes every process of the machine, as
// list {processes: all} items.
func listSystemProcesses(ctx context.Context) ([]map[string]any, error) {
	procs, err := pslist.List(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(procs))
	for i, p := range procs {
		out[i] = map[string]any{
			"pid": int(p.PID), "ppid": int(p.PPID), "name": p.Name, "status": p.Status,
			"cpu_percent": p.CPUPercent, "rss": int(p.RSS), "threads": int(p.Threads), "cmdline": p.Cmdline,
		}
	}
	return out, nil
}
