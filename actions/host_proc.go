package actions

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/pmrun/pmrun/actions/internal/proc"
	"github.com/pmrun/pmrun/actions/internal/pslist"
)

// table returns the run's process table, created on first use.
func (h *Host) table() (*proc.Table, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, fmt.Errorf("run is over: %w", proc.ErrClosed)
	}
	if h.procs == nil {
		t, err := proc.NewTable(proc.Options{})
		if err != nil {
			return nil, err
		}
		h.procs = t
	}
	return h.procs, nil
}

// startProcess starts a child of the run: its output lines become
// process_output events, its end a process_exit event, and it finds the
// run's channels in PMRUN_CHANNEL_<NAME>.
func (h *Host) startProcess(spec proc.Spec, argvForLog []string) (*proc.Process, error) {
	t, err := h.table()
	if err != nil {
		return nil, err
	}
	return t.Start(h.withEvents(spec, argvForLog))
}

// withEvents adds the run's channel variables to spec's environment and
// logs its start (with argv as its command), its output and its end. The
// start is logged from the spawning thread before the child can be
// reaped or its output read, so process_start always comes first, however
// soon the child exits.
func (h *Host) withEvents(spec proc.Spec, argv []string) proc.Spec {
	env := h.channelEnv()
	for k, v := range spec.Env {
		env[k] = v
	}
	spec.Env = env
	name, log := spec.Name, h.log
	spec.OnOutput = func(stream string, line []byte, truncated bool) {
		if truncated {
			log.Info("output", "event", "process_output", "process", name, "stream", stream, "line", string(line), "truncated", true)
			return
		}
		log.Info("output", "event", "process_output", "process", name, "stream", stream, "line", string(line))
	}
	spec.OnStart = func(p *proc.Process) {
		log.Info("process started", "event", "process_start", "process", p.Name(), "pid", p.PID(), "pgid", p.PGID(), "cmd", argv)
	}
	spec.OnExit = func(p *proc.Process, exit proc.Exit) {
		log.Info("process exited", "event", "process_exit", "process", name, "pid", p.PID(),
			"exit_code", exit.ExitCode, "signal", exit.Signal, "runtime_ms", float64(exit.Runtime.Microseconds())/1000)
	}
	return spec
}

// process returns the run's process called name.
func (h *Host) process(name string) (*proc.Process, error) {
	t, err := h.table()
	if err != nil {
		return nil, err
	}
	return t.Process(name)
}

func (h *Host) processAlive(name string) bool {
	h.mu.Lock()
	t := h.procs
	h.mu.Unlock()
	return t != nil && t.Alive(name)
}

// closeProcesses stops the agents, then terminates and reaps every process
// still running, grandchildren included.
func (h *Host) closeProcesses(ctx context.Context) error {
	h.closeAgents(ctx)
	h.mu.Lock()
	t := h.procs
	h.mu.Unlock()
	if t == nil {
		return nil
	}
	// Close returns once every process has ended and its process_exit
	// event is written: the run's own end comes after them.
	return t.Close(ctx, h.cfg.Grace)
}

// exitResult is a process's end as a step result (wait, terminate).
func exitResult(name string, e proc.Exit) Result {
	return Result{
		"name":       name,
		"exit_code":  e.ExitCode,
		"signal":     e.Signal,
		"success":    e.Success,
		"stdout":     e.Stdout,
		"stderr":     e.Stderr,
		"runtime":    e.Runtime,
		"cpu_user":   e.CPUUser,
		"cpu_system": e.CPUSystem,
		"max_rss":    e.MaxRSS,
	}
}

// exitFields are the result fields of a process's end, for `pmrun actions`.
var exitFields = []Field{
	{Name: "exit_code", Type: "int", Doc: "the exit status, or -1 when a signal killed it"},
	{Name: "signal", Type: "string", Doc: `the signal that killed it ("SIGKILL"), or ""`},
	{Name: "success", Type: "bool", Doc: "exit code 0"},
	{Name: "stdout", Type: "string", Doc: "the last 64 KiB of its standard output"},
	{Name: "stderr", Type: "string", Doc: "the last 64 KiB of its standard error"},
	{Name: "runtime", Type: "duration", Doc: "from start to exit (a thread: from its start to its end)"},
	{Name: "cpu_user", Type: "duration", Doc: "user CPU time (rusage, children included)"},
	{Name: "cpu_system", Type: "duration", Doc: "system CPU time (rusage, children included)"},
	{Name: "max_rss", Type: "int", Doc: "peak resident set size in bytes"},
}

// threadEndFields are the fields of a joined thread's result (wait and
// terminate of a thread), besides runtime, which it shares with a process.
var threadEndFields = []Field{
	{Name: "name", Type: "string", Doc: "thread: its name"},
	{Name: "tid", Type: "int", Doc: "thread: its kernel thread id"},
	{Name: "state", Type: "string", Doc: "thread: finished, cancelled or failed"},
	{Name: "latency", Type: "duration", Doc: "thread: from the cancellation request to its end (0 when it was not cancelled)"},
	{Name: "thread_error", Type: "string", Doc: "thread: what its body failed with (state failed only)"},
}

// signals are the signals terminate can send, by name.
var signals = map[string]syscall.Signal{
	"SIGTERM": syscall.SIGTERM, "SIGINT": syscall.SIGINT, "SIGKILL": syscall.SIGKILL,
	"SIGHUP": syscall.SIGHUP, "SIGQUIT": syscall.SIGQUIT, "SIGUSR1": syscall.SIGUSR1,
	"SIGUSR2": syscall.SIGUSR2, "SIGSTOP": syscall.SIGSTOP, "SIGCONT": syscall.SIGCONT,
}

func signalNames() []string {
	return []string{"SIGTERM", "SIGINT", "SIGKILL", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGSTOP", "SIGCONT"}
}

// HostProcess is one process of the host, as `pmrun ps` and
// list {processes: all} show it.
type HostProcess = pslist.Proc

// HostProcessNode is a host process with its children, for `pmrun ps --tree`.
type HostProcessNode = pslist.Node

// HostProcesses lists the host's processes, sorted by pid, with CPU% over
// each one's lifetime; with interval > 0, CPU% is measured over that
// interval instead, like top.
func HostProcesses(ctx context.Context, interval time.Duration) ([]HostProcess, error) {
	if interval > 0 {
		return pslist.Sample(ctx, interval)
	}
	return pslist.List(ctx)
}

// HostProcessTree arranges processes under their parents; walk calls fn
// for each, parents first, with its depth.
func HostProcessTree(procs []HostProcess, fn func(p *HostProcessNode, depth int)) []*HostProcessNode {
	roots := pslist.Tree(procs)
	if fn != nil {
		pslist.Walk(roots, fn)
	}
	return roots
}

// listHostProcesses describes every process on the host.
func listHostProcesses(ctx context.Context) ([]map[string]any, error) {
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
