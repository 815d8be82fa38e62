package actions

import (
	"context"
	"fmt"
	"syscall"
	"time"

	"github.com/pmrun/pmrun/actions/internal/proc"
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
			log.Info("output", "event", evProcessOutput, "process", name, "stream", stream, "line", string(line), "truncated", true)
			return
		}
		log.Info("output", "event", evProcessOutput, "process", name, "stream", stream, "line", string(line))
	}
	spec.OnStart = func(p *proc.Process) {
		log.Info("process started", "event", evProcessStart, "process", p.Name(), "pid", p.PID(), "pgid", p.PGID(), "cmd", argv)
	}
	spec.OnExit = func(p *proc.Process, exit proc.Exit) {
		log.Info("process exited", "event", evProcessExit, "process", name, "pid", p.PID(),
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

// exitResult is a process's end, the result of wait and terminate of a
// process. Its fields are documented for both a process and a thread (see
// threadEndResult), which wait and terminate share.
type exitResult struct {
	Name      string        `result:"name" doc:"the process's or the thread's name"`
	ExitCode  int           `result:"exit_code" doc:"process: the exit status, or -1 when a signal killed it"`
	Signal    string        `result:"signal" doc:"process: the signal that killed it (\"SIGKILL\"), or \"\""`
	Success   bool          `result:"success" doc:"process: exit code 0"`
	Stdout    string        `result:"stdout" doc:"process: the last 64 KiB of its standard output"`
	Stderr    string        `result:"stderr" doc:"process: the last 64 KiB of its standard error"`
	Runtime   time.Duration `result:"runtime" doc:"from its start to its exit or end"`
	CPUUser   time.Duration `result:"cpu_user" doc:"process: user CPU time (rusage, children included)"`
	CPUSystem time.Duration `result:"cpu_system" doc:"process: system CPU time (rusage, children included)"`
	MaxRSS    int64         `result:"max_rss" doc:"process: peak resident set size in bytes"`
}

// exitOf is a process's end as a step result.
func exitOf(name string, e proc.Exit) Result {
	return resultOf(exitResult{Name: name, ExitCode: e.ExitCode, Signal: e.Signal, Success: e.Success,
		Stdout: e.Stdout, Stderr: e.Stderr, Runtime: e.Runtime, CPUUser: e.CPUUser, CPUSystem: e.CPUSystem, MaxRSS: e.MaxRSS})
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
