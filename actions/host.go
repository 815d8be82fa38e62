package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/internal/channel"
	"github.com/pmrun/pmrun/actions/internal/guard"
	"github.com/pmrun/pmrun/actions/internal/place"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// HostConfig configures a [Host].
type HostConfig struct {
	RunID    string
	Scenario string
	Seed     uint64
	// Grace is how long cleanup waits after SIGTERM before SIGKILL.
	Grace time.Duration
	// Log receives the events of objects that outlive a step (a process's
	// output, an agent's thread ending).
	Log hclog.Logger
	// Verbose puts message payloads in events.
	Verbose bool
	// Channels are created by [Host.Open], before the first step.
	Channels []ChannelConfig
	// File is the scenario file, for positions and a command line that
	// runs it again.
	File string
	// Rerun are the arguments of pmrun run that run the scenario again as
	// this run: its file, the --var values that changed its vars, and
	// --seed unless the file sets it. Empty: the file alone.
	Rerun []string
	// Sections are the loaded values of the file's top-level sections
	// (see [Section]), by key.
	Sections map[string]any
	// SectionOptions are what the command line gives the steps of a
	// section, by the section's key ([ProgramOptions] under
	// [ProgramsKey]), carried as they are: the section's code reads its
	// own.
	SectionOptions map[string]any
}

// Host is the set of operating-system objects one scenario run owns:
// processes, agents, threads, channels and the private directory they live
// in. Everything it holds is released by [Host.Close], whatever happened.
// (The machine's processes, which the run does not own, are
// [SystemProcesses].)
type Host struct {
	cfg HostConfig
	log hclog.Logger
	// local is the runner's own place: its threads and channel ends.
	local *place.Local

	mu       sync.Mutex
	dir      string
	undoDir  func() // takes dir off the guard's list once removed
	closers  []func(context.Context) error
	closed   bool
	procs    *proc.Table
	agents   map[string]*agentProc
	threads  threadTable
	channels map[string]*channel.Channel
	turns    map[string]*receiveTurn // each channel's, made at its first receive
}

// NewHost returns an empty Host for one scenario run.
func NewHost(cfg HostConfig) *Host {
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 2 * time.Second
	}
	h := &Host{cfg: cfg, log: cfg.Log}
	log := h.log
	h.local = place.NewLocal(RunnerName, h.channel, func(event, msg string, kv ...any) {
		log.Info(msg, append([]any{"event", event, "process", RunnerName}, kv...)...)
	})
	return h
}

// StartGuard starts now the guard that cleans up after a pmrun killed by
// SIGKILL, which every run needs, instead of when the first run opens.
// The guard is a new process: started before the runs, its exec and
// runtime start-up overlap pmrun's own instead of the first steps.
func StartGuard() {
	guard.Get()
}

// Open creates what the scenario declares before its first step runs: its
// channels, the implicit default one included.
func (h *Host) Open(ctx context.Context) error {
	return h.openChannels()
}

// Seed is the run's seed.
func (h *Host) Seed() uint64 { return h.cfg.Seed }

// File is the scenario file the run comes from.
func (h *Host) File() string { return h.cfg.File }

// Rerun are the arguments of pmrun run that run the scenario again as
// this run did (see [HostConfig.Rerun]); nil when the run has no file.
func (h *Host) Rerun() []string {
	if len(h.cfg.Rerun) > 0 || h.cfg.File == "" {
		return h.cfg.Rerun
	}
	return []string{h.cfg.File}
}

// Section returns the loaded value of the file's section key (see
// [Section]), nil when the file has none.
func (h *Host) Section(key string) any { return h.cfg.Sections[key] }

// SectionOptions returns what the command line gave the steps of the
// section key, nil if nothing.
func (h *Host) SectionOptions(key string) any { return h.cfg.SectionOptions[key] }

// Dir returns the run's private directory (mode 0700, under
// $XDG_RUNTIME_DIR or the temp dir), creating it on first use; Close
// removes it.
func (h *Host) Dir() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dirLocked()
}

func (h *Host) dirLocked() (string, error) {
	if h.dir != "" {
		return h.dir, nil
	}
	base := os.Getenv("XDG_RUNTIME_DIR")
	if fi, err := os.Stat(base); base == "" || err != nil || !fi.IsDir() {
		base = os.TempDir()
	}
	// The guard removes the folder if pmrun dies by SIGKILL; started
	// first, so that the folder goes on its list the moment it exists.
	g, gerr := guard.Get()
	dir, err := os.MkdirTemp(base, "pmrun-"+h.cfg.RunID+"-")
	if err != nil {
		return "", fmt.Errorf("private run directory: %w", err)
	}
	h.dir, h.undoDir = dir, func() {}
	if gerr == nil {
		forget, log := g.RemoveOnDeath(dir), h.log
		// Someone killed the guard: the run says so, and goes on with
		// the one that took its place.
		unwatch := g.Watch(func(r guard.Restart) {
			if r.Err != nil {
				log.Warn("the guard was killed and none could take its place: a SIGKILL of pmrun would now leave processes behind",
					"event", evGuardRestarted, "old_pid", r.Old, "error", r.Err.Error())
				return
			}
			log.Warn("the guard was killed: another took its place", "event", evGuardRestarted, "old_pid", r.Old, "pid", r.New)
		})
		h.undoDir = func() { unwatch(); forget() }
	}
	return dir, nil
}

// OnClose registers cleanup to run at Close, last registered first.
func (h *Host) OnClose(f func(context.Context) error) {
	h.mu.Lock()
	h.closers = append(h.closers, f)
	h.mu.Unlock()
}

// Close releases everything the run still holds, in order: threads are
// cancelled and joined, processes and agents terminated (SIGTERM, then
// SIGKILL after the grace period) and reaped, channels closed, and the
// private directory removed. It returns every cleanup error, joined.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	closers := h.closers
	h.closers = nil
	h.closed = true
	h.mu.Unlock()

	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i](ctx))
	}
	errs = append(errs, h.closeThreads(ctx))
	errs = append(errs, h.closeProcesses(ctx))
	errs = append(errs, h.closeChannels())

	h.mu.Lock()
	dir, undo := h.dir, h.undoDir
	h.dir = ""
	h.mu.Unlock()
	if dir != "" {
		errs = append(errs, os.RemoveAll(filepath.Clean(dir)))
		undo()
	}
	return errors.Join(errs...)
}

// Alive reports whether a process or thread of this run with that name is
// still running.
func (h *Host) Alive(name string) bool {
	return h.processAlive(name) || h.threadAlive(name)
}
