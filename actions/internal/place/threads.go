package place

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/internal/osthread"
)

// threads are the pmrun threads of one process, by name: a [Local]'s.
type threads struct {
	mu sync.Mutex
	m  map[string]*thread
}

type thread struct {
	th *osthread.Thread
	// cancelling is set by the first terminate; joined once a join has
	// returned, with end.
	cancelling bool
	joined     bool
	end        ThreadEnd
}

// start starts a thread; onEnd, if set, is called on the thread when it
// ends (see [osthread.OnExit]).
func (l *threads) start(spec ThreadSpec, onEnd func(ThreadEnd)) (*osthread.Thread, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.m[spec.Name]; old != nil && !old.joined {
		return nil, fmt.Errorf("thread %q: %w (tid %d); names are unique until the thread is joined", spec.Name, ErrThreadExists, old.th.TID())
	}
	var opts []osthread.Option
	if onEnd != nil {
		opts = append(opts, osthread.OnExit(func(th *osthread.Thread, e osthread.Exit) { onEnd(endOf(th, e)) }))
	}
	th, err := osthread.Start(spec.Name, spec.body(), opts...)
	if err != nil {
		return nil, err
	}
	if l.m == nil {
		l.m = map[string]*thread{}
	}
	l.m[spec.Name] = &thread{th: th}
	return th, nil
}

func (l *threads) get(name string) (*thread, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.m[name]
	if t == nil {
		return nil, Errorf(ErrNoSuchThread, "no thread named %q", name)
	}
	return t, nil
}

// cancel asks the thread to stop at its next cancellation point and joins
// it. A thread that has already ended, or is already being terminated, is
// an error; an ended one is still joined.
func (l *threads) cancel(ctx context.Context, name string) (ThreadEnd, error) {
	t, err := l.get(name)
	if err != nil {
		return ThreadEnd{}, err
	}
	l.mu.Lock()
	joined, cancelling, end := t.joined, t.cancelling, t.end
	t.cancelling = true
	l.mu.Unlock()
	switch {
	case joined && end.State == string(osthread.Cancelled):
		return ThreadEnd{}, Errorf(ErrThreadEnded, "thread %q was already terminated", name)
	case joined:
		return ThreadEnd{}, endedError(name, end)
	case cancelling:
		return ThreadEnd{}, Errorf(ErrThreadEnded, "thread %q is already being terminated", name)
	}
	if err := t.th.Cancel(); err != nil {
		if !errors.Is(err, osthread.ErrFinished) {
			return ThreadEnd{}, err
		}
		// It ended on its own: join it all the same, then say so.
		end, jerr := l.join(ctx, t)
		if jerr != nil {
			return ThreadEnd{}, jerr
		}
		return ThreadEnd{}, endedError(name, end)
	}
	return l.join(ctx, t)
}

func endedError(name string, end ThreadEnd) error {
	return Errorf(ErrThreadEnded, "thread %q already ended (%s after %s): there is nothing to terminate",
		name, end.State, end.Runtime.Round(time.Microsecond))
}

// wait joins the thread; a thread joined before gives the same end again.
func (l *threads) wait(ctx context.Context, name string) (ThreadEnd, error) {
	t, err := l.get(name)
	if err != nil {
		return ThreadEnd{}, err
	}
	return l.join(ctx, t)
}

func (l *threads) join(ctx context.Context, t *thread) (ThreadEnd, error) {
	l.mu.Lock()
	if t.joined {
		end := t.end
		l.mu.Unlock()
		return end, nil
	}
	l.mu.Unlock()
	e, err := t.th.Wait(ctx)
	if err != nil {
		return ThreadEnd{}, fmt.Errorf("thread %q (tid %d) has not ended: %w", t.th.Name(), t.th.TID(), context.Cause(ctx))
	}
	end := endOf(t.th, e)
	l.mu.Lock()
	t.joined, t.end = true, end
	l.mu.Unlock()
	return end, nil
}

// alive reports whether the thread's body is still running.
func (l *threads) alive(name string) bool {
	t, err := l.get(name)
	if err != nil {
		return false
	}
	select {
	case <-t.th.Done():
		return false
	default:
		return true
	}
}

// list reads this process's threads from /proc/self/task, marking those
// that are running pmrun threads.
func (l *threads) list() ([]ThreadItem, error) {
	tasks, err := osthread.Tasks(os.Getpid())
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	ours := make(map[int]string, len(l.m))
	for name, t := range l.m {
		if !t.joined {
			ours[t.th.TID()] = name
		}
	}
	l.mu.Unlock()
	items := make([]ThreadItem, len(tasks))
	for i, task := range tasks {
		items[i] = ThreadItem{TID: task.TID, Name: task.Name, Comm: task.Name, State: task.State}
		if name, ok := ours[task.TID]; ok && comm(name) == task.Name {
			items[i].Name, items[i].PMRun = name, true
		}
	}
	return items, nil
}

// comm is what the kernel keeps of a thread name: its first 15 bytes.
func comm(name string) string {
	if len(name) > 15 {
		return name[:15]
	}
	return name
}

// close cancels every thread that is still running and joins them all.
func (l *threads) close(ctx context.Context) error {
	l.mu.Lock()
	var open []*thread
	for _, t := range l.m {
		if !t.joined {
			open = append(open, t)
		}
	}
	l.mu.Unlock()
	for _, t := range open {
		t.th.Cancel() // an error only says it has ended, or is ending, already
	}
	var errs []error
	for _, t := range open {
		if _, err := l.join(ctx, t); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
