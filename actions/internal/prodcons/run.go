package prodcons

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/sem"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

// Run runs cfg with every worker a thread of this process, each an
// [osthread.Thread] named after its worker ("producer-0", "consumer-1"). It
// returns when all have ended: the result always, and an error if a worker
// failed or ctx ended first (the workers are then stopped).
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg, l, err := prepare(cfg)
	if err != nil {
		return Result{}, err
	}
	defer l.region.Close()

	var threads []*osthread.Thread
	var started []Worker
	var startErr error
	for _, w := range workersOf(cfg) {
		th, err := osthread.Start(w.ThreadName(), func(t *osthread.Thread) error {
			return RunWorker(l.region, w, t, cfg.OnEvent)
		})
		if err != nil {
			startErr = fmt.Errorf("prodcons: start %s: %w", w, err)
			break
		}
		threads = append(threads, th)
		started = append(started, w)
	}
	waits := make([]func(context.Context) error, len(threads))
	for i, th := range threads {
		// A thread cannot be killed, and the region must outlive it, so the
		// join ignores the kill context: stopped workers always end, because
		// every place they wait is a cancellation point.
		waits[i] = func(context.Context) error {
			exit, err := th.Wait(context.Background())
			if err == nil {
				err = exit.Err
			}
			if err != nil {
				return fmt.Errorf("prodcons: %s: %w", started[i], err)
			}
			return nil
		}
	}
	return l.supervise(ctx, started, waits, startErr)
}

// Launcher starts worker w as a process of its own, handing it the region's
// memfd (region.File(), for exec.Cmd.ExtraFiles). The process opens it with
// [shm.Open] and calls [RunWorker] with the same w; it exits 0 when
// RunWorker returns nil and non-zero otherwise, and it forwards trace events
// itself if the run traces. Launcher returns once the process runs.
//
// wait blocks until the process has exited and been reaped, returning an error
// that says how it failed (exit status, signal). When wait's ctx ends first,
// wait kills the process and then returns: the coordinator first asks
// workers to stop through the region and gives them a grace period before it
// ends that ctx.
type Launcher func(ctx context.Context, w Worker, region *shm.Region) (wait func(ctx context.Context) error, err error)

// RunProcesses runs cfg with every worker a process started by launch. It
// returns when all have ended, as [Run] does. A worker that dies holding the
// mutex fails the run with an error naming it; the others are stopped.
func RunProcesses(ctx context.Context, cfg Config, launch Launcher) (Result, error) {
	if launch == nil {
		return Result{}, fmt.Errorf("%w: processes mode without a launcher", ErrConfig)
	}
	cfg, l, err := prepare(cfg)
	if err != nil {
		return Result{}, err
	}
	defer l.region.Close()

	var started []Worker
	var waits []func(context.Context) error
	var startErr error
	for _, w := range workersOf(cfg) {
		wait, err := launch(ctx, w, l.region)
		if err != nil {
			startErr = fmt.Errorf("prodcons: start %s: %w", w, err)
			break
		}
		started = append(started, w)
		waits = append(waits, func(ctx context.Context) error {
			if err := wait(ctx); err != nil {
				return fmt.Errorf("prodcons: %s: %w", w, err)
			}
			return nil
		})
	}
	return l.supervise(ctx, started, waits, startErr)
}

// stopGrace is how long stopped workers have to notice the abort flag before
// the processes still running are killed.
const stopGrace = 2 * time.Second

// supervise opens the gate for the started workers, waits for all of them
// (waits[i] joins workers[i]), stops them all as soon as one fails or ctx
// ends, and reports.
func (l *layout) supervise(ctx context.Context, workers []Worker, waits []func(context.Context) error, startErr error) (Result, error) {
	// waitCtx outlives ctx by the grace period, so workers get to stop
	// cleanly before anything is killed.
	waitCtx, kill := context.WithCancel(context.WithoutCancel(ctx))
	defer kill()
	type end struct {
		w   Worker
		err error
	}
	ended := make(chan end, len(waits))
	for i, wait := range waits {
		go func() { ended <- end{workers[i], wait(waitCtx)} }()
	}
	var grace <-chan time.Time
	stopping := false
	stop := func() {
		if !stopping {
			stopping = true
			l.abortAll()
			grace = time.After(stopGrace)
		}
	}
	if startErr != nil {
		stop()
	} else {
		l.open()
	}
	failed := map[Worker]error{}
	done := ctx.Done()
	for left := len(waits); left > 0; {
		select {
		case e := <-ended:
			left--
			if e.err != nil {
				stop()
				failed[e.w] = e.err
			}
		case <-done:
			done = nil
			stop()
		case <-grace:
			kill()
		}
	}
	return l.result(), l.runError(ctx, startErr, failed)
}

// runError explains a run that did not complete. Workers that only stopped
// because another one failed or ctx ended, or that gave up on a dead
// mutex holder, are not the story, so they are left out when there is a
// real cause. What a worker did is read from its stats block, since a worker
// process's own error does not cross the process boundary.
func (l *layout) runError(ctx context.Context, startErr error, failed map[Worker]error) error {
	var causes, followers []error
	if startErr != nil {
		causes = append(causes, startErr)
	}
	dead := l.deadHolder()
	if dead != nil {
		causes = append(causes, dead)
	}
	for i := range l.stats {
		err, ok := failed[l.workerAt(i)]
		switch {
		case !ok: // fine
		case l.stats[i].state.Load() == stateCancelled || l.stats[i].state.Load() == stateOwnerDead:
			followers = append(followers, err)
		default:
			causes = append(causes, err)
		}
	}
	if len(causes) == 0 && ctx.Err() != nil {
		causes = append(causes, fmt.Errorf("prodcons: run stopped: %w", context.Cause(ctx)))
	}
	if len(causes) == 0 {
		causes = followers // nothing better: report what the workers said
	}
	return errors.Join(causes...)
}

// deadHolder reports a worker that ended still holding the mutex, the one
// failure that would otherwise hang everyone else. The worker's own error,
// reported beside it, says how its process ended.
func (l *layout) deadHolder() error {
	pid, tid := l.ctl.mutex.Owner()
	if pid == 0 {
		return nil
	}
	for i := range l.stats {
		st := &l.stats[i]
		if int(st.pid.Load()) == pid && st.state.Load() == stateRunning {
			return fmt.Errorf("prodcons: %s (pid %d, tid %d) died holding the mutex: %w",
				l.workerAt(i), pid, tid, sem.ErrOwnerDead)
		}
	}
	return fmt.Errorf("prodcons: pid %d (tid %d) died holding the mutex: %w", pid, tid, sem.ErrOwnerDead)
}

// workerAt names the worker of stats block i.
func (l *layout) workerAt(i int) Worker {
	if i < l.producers() {
		return Worker{Role: Producer, Index: i}
	}
	return Worker{Role: Consumer, Index: i - l.producers()}
}

// workersOf lists a run's workers: consumers first, so that they are waiting
// when the producers start, then producers.
func workersOf(cfg Config) []Worker {
	ws := make([]Worker, 0, cfg.Producers+cfg.Consumers)
	for i := range cfg.Consumers {
		ws = append(ws, Worker{Role: Consumer, Index: i})
	}
	for i := range cfg.Producers {
		ws = append(ws, Worker{Role: Producer, Index: i})
	}
	return ws
}

// result reads the run's outcome out of the region once every worker ended.
func (l *layout) result() Result {
	r := Result{
		PerProducer:  make([]int, l.producers()),
		PerConsumer:  make([]int, l.consumers()),
		MaxOccupancy: int(l.ctl.maxOcc.Load()),
		Overflow:     int(l.ctl.overflow.Load()),
	}
	var end int64
	for i := range l.stats {
		st := &l.stats[i]
		n, waits := int(st.items.Load()), int(st.waits.Load())
		if w := l.workerAt(i); w.Role == Producer {
			r.PerProducer[w.Index] = n
			r.Produced += n
			r.ProducerWaits += waits
		} else {
			r.PerConsumer[w.Index] = n
			r.Consumed += n
			r.ConsumerWaits += waits
		}
		end = max(end, st.end.Load())
	}
	for i := range l.counts {
		switch n := int(l.counts[i].Load()); {
		case n == 0:
			r.Lost++
		case n > 1:
			r.Duplicates += n - 1
		}
	}
	if start := l.ctl.started.Load(); start > 0 && end > start {
		r.Duration = time.Duration(end - start)
		r.Throughput = float64(r.Consumed) / r.Duration.Seconds()
	}
	r.OK = r.Produced == l.items() && r.Lost == 0 && r.Duplicates == 0 && r.Overflow == 0
	return r
}

// prepare fills in cfg's defaults and lays out the shared region its
// workers use.
func prepare(cfg Config) (Config, *layout, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return cfg, nil, err
	}
	l, err := newLayout(cfg)
	return cfg, l, err
}
