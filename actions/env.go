package actions

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
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
}

// Host is the set of operating-system objects one scenario run owns:
// processes, threads, channels and the private directory they live in.
// Everything it holds is released by [Host.Close], whatever happened.
type Host struct {
	cfg HostConfig

	mu      sync.Mutex
	dir     string
	closers []func(context.Context) error
}

// NewHost returns an empty Host for one scenario run.
func NewHost(cfg HostConfig) *Host {
	if cfg.Log == nil {
		cfg.Log = hclog.NewNullLogger()
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 2 * time.Second
	}
	return &Host{cfg: cfg}
}

// Seed is the run's seed.
func (h *Host) Seed() uint64 { return h.cfg.Seed }

// Dir returns the run's private directory (mode 0700, under
// $XDG_RUNTIME_DIR or the temp dir), creating it on first use; Close
// removes it.
func (h *Host) Dir() (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.dir != "" {
		return h.dir, nil
	}
	base := os.Getenv("XDG_RUNTIME_DIR")
	if fi, err := os.Stat(base); base == "" || err != nil || !fi.IsDir() {
		base = os.TempDir()
	}
	dir, err := os.MkdirTemp(base, "pmrun-"+h.cfg.RunID+"-")
	if err != nil {
		return "", err
	}
	h.dir = dir
	return dir, nil
}

// OnClose registers cleanup to run at Close, last registered first.
func (h *Host) OnClose(f func(context.Context) error) {
	h.mu.Lock()
	h.closers = append(h.closers, f)
	h.mu.Unlock()
}

// Close releases everything the run still holds: it terminates and reaps
// processes, cancels threads, closes channels and removes the private
// directory. It returns every cleanup error, joined.
func (h *Host) Close(ctx context.Context) error {
	h.mu.Lock()
	closers := h.closers
	h.closers = nil
	dir := h.dir
	h.dir = ""
	h.mu.Unlock()

	var errs []error
	for i := len(closers) - 1; i >= 0; i-- {
		errs = append(errs, closers[i](ctx))
	}
	if dir != "" {
		errs = append(errs, os.RemoveAll(filepath.Clean(dir)))
	}
	return errors.Join(errs...)
}

// Alive reports whether a process or thread of this run with that name is
// still running.
func (h *Host) Alive(name string) bool {
	return false
}

// Env is what an action sees of the run while it runs one step.
type Env struct {
	Host *Host
	// Log is the run's event log (hclog, JSON lines in the log file).
	Log hclog.Logger
	// Step is the 0-based index of the step, StepID its id if any.
	Step   int
	StepID string
	Action string
	// Verbose asks for more detail in events (message payloads).
	Verbose bool
	// Join waits for the background step with the given id and returns its
	// result; the runner provides it.
	Join func(ctx context.Context, id string) (Result, error)
}

// Event logs a structured event of the step at Info level.
func (e *Env) Event(event, msg string, kv ...any) {
	e.EventLevel(hclog.Info, event, msg, kv...)
}

// EventLevel logs a structured event of the step at the given level, with
// the step's index, id and action.
func (e *Env) EventLevel(level hclog.Level, event, msg string, kv ...any) {
	if e.Log == nil || level < e.Log.GetLevel() {
		return
	}
	args := make([]any, 0, len(kv)+8)
	args = append(args, "event", event, "step", e.Step, "action", e.Action)
	if e.StepID != "" {
		args = append(args, "step_id", e.StepID)
	}
	args = append(args, kv...)
	e.Log.Log(level, msg, args...)
}

// Rand returns a random source derived from the run's seed and the step, so
// that the same seed repeats the same choices whatever else runs
// concurrently.
func (e *Env) Rand() *rand.Rand {
	return rand.New(rand.NewPCG(e.Host.Seed(), uint64(e.Step)+1))
}
