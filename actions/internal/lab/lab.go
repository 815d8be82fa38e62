// Package lab is what the classic-problem labs (barrier, dining,
// readers-writers) share around their algorithms: their workers' names,
// starting the workers together, watching them until they end, the step
// ends or the run stops getting anywhere, and the error a run ends with.
// A new lab writes its algorithm and calls [Run]; the action that drives it
// (actions/<lab>.go) seeds it with Env.Seed and builds its result from a
// tagged struct (actions/result.go).
package lab

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/osthread"
)

// Name is how threads and events call worker i of a kind: "worker-3".
func Name(kind string, i int) string { return fmt.Sprintf("%s-%d", kind, i) }

// Names are the names of n workers of a kind, in order: worker-0, worker-1, …
func Names(kind string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = Name(kind, i)
	}
	return out
}

// Watch says how [Run] watches a lab's workers besides waiting for them.
type Watch struct {
	// Tick is how often Stuck is asked.
	Tick time.Duration
	// Stuck reports whether the run has stopped getting anywhere (a
	// deadlock, a jammed barrier) and its workers must be stopped; nil
	// never does.
	Stuck func(now time.Time) bool
	// Stopping, if set, is called before the workers are cancelled, however
	// the run ends.
	Stopping func()
}

// Ending is how a lab run's workers ended.
type Ending struct {
	// Runtime is from the moment all were let go to the last one's end.
	Runtime time.Duration
	// Stuck: Watch.Stuck stopped them.
	Stuck bool

	lab    string
	ctxErr error   // ctx's cause, when it ended first
	failed []error // the workers that failed, each naming its thread
}

// Run starts a thread for each name, lets them all go at once (so that no
// one gets a head start from being made first), runs body(i, t) on the
// i-th, and waits until every one has ended, ctx ends, or w.Stuck says the
// run is stuck. Then it cancels and joins them all: every wait in body must
// be a cancellation point. The error is only for workers that could not be
// started; how the run ended is the Ending's.
func Run(ctx context.Context, lab string, names []string, body func(i int, t *osthread.Thread) error, w Watch) (Ending, error) {
	threads, err := osthread.StartGated(names, body)
	if err != nil {
		return Ending{}, fmt.Errorf("%s: %w", lab, err)
	}
	began := time.Now()
	e := Ending{lab: lab}
	e.ctxErr, e.Stuck = watch(ctx, threads, w)
	if w.Stopping != nil {
		w.Stopping()
	}
	e.failed = osthread.CancelAndJoin(threads)
	e.Runtime = time.Since(began)
	return e, nil
}

// watch waits for the threads to end, and stops when ctx ends or w.Stuck
// says so.
func watch(ctx context.Context, threads []*osthread.Thread, w Watch) (ctxErr error, stuck bool) {
	allDone := osthread.AllDone(threads)
	var tick <-chan time.Time
	if w.Stuck != nil && w.Tick > 0 {
		ticker := time.NewTicker(w.Tick)
		defer ticker.Stop()
		tick = ticker.C
	}
	for {
		select {
		case <-allDone:
			return nil, false
		case <-ctx.Done():
			return context.Cause(ctx), false
		case now := <-tick:
			if w.Stuck(now) {
				return nil, true
			}
		}
	}
}

// Err is the error the run ends with: the workers' failures, or else, when
// the step's context ended first, its cause and how far the run got
// (progress, e.g. "12 rounds"); nil when every worker finished or the run
// was only stuck (the lab's result says what that means).
func (e Ending) Err(progress string) error {
	switch {
	case len(e.failed) > 0:
		return fmt.Errorf("%s: %w", e.lab, errors.Join(e.failed...))
	case e.ctxErr != nil:
		return fmt.Errorf("%s: stopped after %s: %w", e.lab, progress, e.ctxErr)
	}
	return nil
}

// Standstill tells when something watched has stood still for a limit:
// the same key (a progress count, a cycle of waits) seen at every look.
type Standstill[K comparable] struct {
	limit time.Duration
	key   K
	since time.Time
	seen  bool
}

// NewStandstill returns a Standstill for limit.
func NewStandstill[K comparable](limit time.Duration) *Standstill[K] {
	return &Standstill[K]{limit: limit}
}

// Still reports whether key, seen now, has been the same since at least
// limit ago.
func (s *Standstill[K]) Still(key K, now time.Time) bool {
	if !s.seen || key != s.key {
		s.key, s.since, s.seen = key, now, true
		return false
	}
	return now.Sub(s.since) >= s.limit
}

// Reset forgets what was seen: the next look starts again.
func (s *Standstill[K]) Reset() { s.seen = false }
