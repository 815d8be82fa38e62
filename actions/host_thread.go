package actions

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/place"
)

// Threads. A pmrun thread lives in a [place.Place]: the runner itself or an
// agent, each of which keeps its own threads. The runner's [threadTable]
// knows every thread of the run by name and where it lives, so that
// terminate, wait, list and alive() can find it: thread names are unique in
// a run (until a thread is joined, when its name may be used again).

// threadTable is the run's threads, by name: where each lives.
type threadTable struct {
	mu    sync.Mutex
	where map[string]*threadEntry
}

// threadEntry is a thread of the run: where it lives, and how far along.
type threadEntry struct {
	in       string // runner or the agent's name
	tid, pid int
	starting bool // reserved by a thread step that has not returned yet
	joined   bool
	gone     error // why it can no longer be reached: its agent is gone
}

// reserveThread claims name for a thread about to start in in.
func (h *Host) reserveThread(name, in string) error {
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return errors.New("the run is over: no new threads")
	}
	tt := &h.threads
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if p := tt.where[name]; p != nil && !p.joined && p.gone == nil {
		if p.starting {
			return place.Errorf(place.ErrThreadExists, "thread %q is being started in %s by another step; thread names are unique in a run", name, p.in)
		}
		return place.Errorf(place.ErrThreadExists, "thread %q already exists in %s (tid %d); thread names are unique in a run until the thread is joined (terminate or wait)", name, p.in, p.tid)
	}
	if tt.where == nil {
		tt.where = map[string]*threadEntry{}
	}
	tt.where[name] = &threadEntry{in: in, starting: true}
	return nil
}

// findThread returns the entry of the thread called name: where it lives.
func (h *Host) findThread(name string) (threadEntry, error) {
	tt := &h.threads
	tt.mu.Lock()
	defer tt.mu.Unlock()
	p := tt.where[name]
	if p == nil || p.starting {
		return threadEntry{}, place.Errorf(place.ErrNoSuchThread, "no thread named %q in this run%s", name, didYouMeanThread(tt.where))
	}
	return *p, nil
}

func didYouMeanThread(where map[string]*threadEntry) string {
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range where {
			if !yield(n) {
				return
			}
		}
	})
	if len(names) == 0 {
		return " (it has started none)"
	}
	if len(names) > 5 {
		return ""
	}
	return fmt.Sprintf(" (its threads: %v)", names)
}

// setThreadEntry updates the thread's entry, if it is still the same
// thread.
func (h *Host) setThreadEntry(name string, f func(p *threadEntry)) {
	tt := &h.threads
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if p := tt.where[name]; p != nil {
		f(p)
	}
}

// startThread starts a thread in the place called in and logs its
// thread_start event; the place logs its thread_end event when it ends.
func (h *Host) startThread(ctx context.Context, env *Env, spec place.ThreadSpec, in string) (Result, error) {
	p, err := h.place(in)
	if err != nil {
		return nil, fmt.Errorf("in: %w", err)
	}
	if err := h.reserveThread(spec.Name, in); err != nil {
		return nil, err
	}
	started, err := p.StartThread(ctx, spec)
	if errors.Is(err, place.ErrGone) {
		h.placeGone(in, err)
		err = fmt.Errorf("thread %q cannot start: %w", spec.Name, goneReason(err))
	}
	tt := &h.threads
	tt.mu.Lock()
	if err != nil {
		delete(tt.where, spec.Name)
	} else {
		tt.where[spec.Name] = &threadEntry{in: in, tid: started.TID, pid: started.PID}
	}
	tt.mu.Unlock()
	if err != nil {
		return nil, err
	}
	env.Event(evThreadStart, "thread started", "thread", spec.Name, "tid", started.TID, "pid", started.PID,
		"process", in, "run", spec.Run, "state", "running")
	return resultOf(threadResult{Name: spec.Name, TID: started.TID, PID: started.PID, In: in}), nil
}

// threadLostError: the thread's agent is gone, and the thread with it.
type threadLostError struct {
	thread string
	err    error // an agent.GoneError
}

func (e *threadLostError) Error() string {
	return fmt.Sprintf("thread %q is lost: %v, taking its threads with it", e.thread, goneReason(e.err))
}

func (e *threadLostError) Unwrap() error { return e.err }

// goneReason is what a place's error says of how its agent went.
func goneReason(err error) error {
	var gone *agent.GoneError
	if errors.As(err, &gone) {
		return gone
	}
	return err
}

// placeGone marks every thread of the place called in as unreachable:
// they died with its agent.
func (h *Host) placeGone(in string, why error) {
	tt := &h.threads
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for _, p := range tt.where {
		if p.in == in && !p.joined && p.gone == nil {
			p.gone = why
		}
	}
}

// threadAlive reports whether the thread called name is still running. A
// place that must be asked (an agent) gets aliveLimit to answer.
func (h *Host) threadAlive(name string) bool {
	te, err := h.findThread(name)
	if err != nil || te.joined || te.gone != nil {
		return false
	}
	p, err := h.place(te.in)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), aliveLimit)
	defer cancel()
	alive, err := p.ThreadAlive(ctx, name)
	if errors.Is(err, place.ErrGone) {
		h.placeGone(te.in, err)
	}
	return err == nil && alive
}

// aliveLimit bounds how long alive() waits for an agent's answer.
const aliveLimit = 2 * time.Second

// cancelThread terminates a thread: a deferred cancellation request, then a
// join.
func (h *Host) cancelThread(ctx context.Context, name string) (Result, error) {
	return h.endThread(ctx, name, true)
}

// waitThread joins a thread.
func (h *Host) waitThread(ctx context.Context, name string) (Result, error) {
	return h.endThread(ctx, name, false)
}

func (h *Host) endThread(ctx context.Context, name string, cancel bool) (Result, error) {
	te, err := h.findThread(name)
	if err != nil {
		return nil, err
	}
	if te.gone != nil {
		return nil, &threadLostError{thread: name, err: te.gone}
	}
	p, err := h.place(te.in)
	if err != nil {
		return nil, err
	}
	var end place.ThreadEnd
	if cancel {
		end, err = p.CancelThread(ctx, name)
	} else {
		end, err = p.WaitThread(ctx, name)
	}
	if errors.Is(err, place.ErrGone) {
		h.placeGone(te.in, err)
		return nil, &threadLostError{thread: name, err: err}
	}
	if err != nil {
		return nil, err
	}
	h.setThreadEntry(name, func(p *threadEntry) { p.joined = true })
	return resultOf(threadEndResult{Name: end.Name, TID: end.TID, PID: te.pid, In: te.in, State: end.State,
		Runtime: end.Runtime, Latency: end.Latency, Error: end.Error}), nil
}

// listThreads lists the threads of the runner or of an agent, from
// /proc/PID/task, marking pmrun's.
func (h *Host) listThreads(ctx context.Context, in string) ([]map[string]any, error) {
	p, err := h.place(in)
	if err != nil {
		return nil, fmt.Errorf("threads: %w", err)
	}
	items, err := p.Threads(ctx)
	switch {
	case errors.Is(err, place.ErrGone):
		h.placeGone(in, err)
		return nil, fmt.Errorf("threads: %w", goneReason(err))
	case err != nil:
		return nil, fmt.Errorf("threads of %s: %w", in, err)
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = map[string]any{"tid": it.TID, "name": it.Name, "comm": it.Comm, "state": it.State, "pmrun": it.PMRun}
	}
	return out, nil
}

// closeLimit bounds how long closing a place's threads may go on with
// none of them ending: an agent's are killed with the agent anyway, and
// the runner's are all at a cancellation point within microseconds. The
// close itself may take longer, as long as threads keep ending: the Go
// runtime ends a locked thread in time that grows with the number of
// threads (10,000 threads take some 4 s to end on 2 CPUs, and 2,500 took
// over a minute under the race detector on a loaded machine).
const closeLimit = 5 * time.Second

// closeThreads cancels and joins every thread of the run, in each place
// that holds one still (an agent that died took its threads with it).
func (h *Host) closeThreads(ctx context.Context) error {
	tt := &h.threads
	tt.mu.Lock()
	open := map[string]int{}
	for _, p := range tt.where {
		if !p.joined && p.gone == nil {
			open[p.in]++
		}
	}
	tt.mu.Unlock()
	places := slices.Sorted(maps.Keys(open))
	var errs []error
	for _, in := range places {
		p, err := h.place(in)
		if err != nil {
			continue // an agent the run no longer holds: its threads went with it
		}
		err = closePlace(ctx, p, open[in], closeLimit)
		if err != nil && !errors.Is(err, place.ErrGone) {
			errs = append(errs, fmt.Errorf("threads of %s: %w", in, err))
		}
	}
	return errors.Join(errs...)
}

// closePlace cancels and joins the threads of p, open of them, giving it
// limit at a time for as long as some of them end in it.
func closePlace(ctx context.Context, p place.Place, open int, limit time.Duration) error {
	for {
		pctx, cancel := context.WithTimeout(ctx, limit)
		err := p.CloseThreads(pctx)
		limited := pctx.Err() != nil && ctx.Err() == nil
		cancel()
		if err == nil || !limited {
			return err
		}
		left, lerr := runningThreads(ctx, p)
		if lerr != nil {
			return err
		}
		if left >= open {
			return fmt.Errorf("%d threads have not ended, none of them in the last %v: %w", left, limit, err)
		}
		open = left
	}
}

// runningThreads counts p's pmrun threads still running.
func runningThreads(ctx context.Context, p place.Place) (int, error) {
	items, err := p.Threads(ctx)
	n := 0
	for _, it := range items {
		if it.PMRun {
			n++
		}
	}
	return n, err
}
