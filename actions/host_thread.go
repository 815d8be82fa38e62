package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/osthread"
)

// Threads. A pmrun thread lives in the runner or in an agent; either way it
// is an [osthread.Thread] of that process, kept in that process's
// [localThreads]. The runner's [threadTable] knows every thread of the run
// by name and where it lives, so that terminate, wait, list and alive() can
// find it: thread names are unique in a run (until a thread is joined, when
// its name may be used again).

// runnerName is how in: and list {threads} name the runner itself.
const runnerName = "runner"

// Thread bodies, the values of the thread action's run parameter.
const (
	runIdle  = "idle"
	runSleep = "sleep"
	runSpin  = "spin"
)

// threadSpec is what a thread runs: its body, for how long (0: until
// terminated). It is also the arguments of the agent's thread.start.
type threadSpec struct {
	Name string        `json:"name"`
	Run  string        `json:"run"`
	For  time.Duration `json:"for"`
}

// body returns the thread's body.
func (s threadSpec) body() func(*osthread.Thread) error {
	switch s.Run {
	case runSleep:
		if s.For <= 0 {
			return (*osthread.Thread).Idle
		}
		return func(t *osthread.Thread) error { return t.Sleep(s.For) }
	case runSpin:
		d := s.For
		if d <= 0 {
			d = time.Duration(1<<63 - 1)
		}
		return func(t *osthread.Thread) error { return t.Spin(d) }
	default:
		return (*osthread.Thread).Idle
	}
}

// threadStarted is a started thread's ids: the reply of thread.start.
type threadStarted struct {
	TID int `json:"tid"`
	PID int `json:"pid"`
}

// threadEnd is how a joined thread ended: the reply of thread.cancel and
// thread.wait, and the fields of its thread_end event.
type threadEnd struct {
	Name    string        `json:"name"`
	TID     int           `json:"tid"`
	State   string        `json:"state"` // finished, cancelled or failed
	Error   string        `json:"error,omitempty"`
	Runtime time.Duration `json:"runtime"`
	Latency time.Duration `json:"latency"` // from the cancel request to the end; 0 without one
}

func endOf(th *osthread.Thread, e osthread.Exit) threadEnd {
	end := threadEnd{Name: th.Name(), TID: th.TID(), State: string(e.State), Runtime: e.Runtime, Latency: e.CancelLatency}
	if e.State == osthread.Failed && e.Err != nil {
		end.Error = e.Err.Error()
	}
	return end
}

// result is the thread's end as a step result (terminate, wait).
func (e threadEnd) result() Result {
	r := Result{"name": e.Name, "tid": e.TID, "state": e.State, "runtime": e.Runtime, "latency": e.Latency}
	if e.Error != "" {
		r["thread_error"] = e.Error
	}
	return r
}

// threadItem is one thread of a process as list {threads} shows it.
type threadItem struct {
	TID   int    `json:"tid"`
	Name  string `json:"name"`  // the pmrun thread's name, or the kernel's (comm)
	Comm  string `json:"comm"`  // the kernel's name: at most 15 bytes
	State string `json:"state"` // the kernel's: running, sleeping, …
	PMRun bool   `json:"pmrun"` // a thread started by the thread action
}

func (it threadItem) item() map[string]any {
	return map[string]any{"tid": it.TID, "name": it.Name, "comm": it.Comm, "state": it.State, "pmrun": it.PMRun}
}

// localThreads are the pmrun threads of one process: the runner's, or an
// agent's.
type localThreads struct {
	mu sync.Mutex
	m  map[string]*localThread
}

type localThread struct {
	th *osthread.Thread
	// cancelling is set by the first terminate; joined once a join has
	// returned, with end.
	cancelling bool
	joined     bool
	end        threadEnd
}

// errThreadExists is returned for a second thread of the same name.
var errThreadExists = errors.New("a thread of that name is still running")

// start starts a thread; onEnd is called on the thread when it ends (see
// [osthread.OnExit]).
func (l *localThreads) start(spec threadSpec, onEnd func(threadEnd)) (*osthread.Thread, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if old := l.m[spec.Name]; old != nil && !old.joined {
		return nil, fmt.Errorf("thread %q: %w (tid %d); names are unique until the thread is joined", spec.Name, errThreadExists, old.th.TID())
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
		l.m = map[string]*localThread{}
	}
	l.m[spec.Name] = &localThread{th: th}
	return th, nil
}

func (l *localThreads) get(name string) (*localThread, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.m[name]
	if t == nil {
		return nil, fmt.Errorf("no thread named %q", name)
	}
	return t, nil
}

// cancel asks the thread to stop at its next cancellation point and joins
// it. A thread that has already ended, or is already being terminated, is
// an error; an ended one is still joined.
func (l *localThreads) cancel(ctx context.Context, name string) (threadEnd, error) {
	t, err := l.get(name)
	if err != nil {
		return threadEnd{}, err
	}
	l.mu.Lock()
	joined, cancelling, end := t.joined, t.cancelling, t.end
	t.cancelling = true
	l.mu.Unlock()
	switch {
	case joined && end.State == string(osthread.Cancelled):
		return threadEnd{}, fmt.Errorf("thread %q was already terminated", name)
	case joined:
		return threadEnd{}, fmt.Errorf("thread %q already ended (%s after %s): there is nothing to terminate", name, end.State, end.Runtime.Round(time.Microsecond))
	case cancelling:
		return threadEnd{}, fmt.Errorf("thread %q is already being terminated", name)
	}
	if err := t.th.Cancel(); err != nil {
		if !errors.Is(err, osthread.ErrFinished) {
			return threadEnd{}, err
		}
		// It ended on its own: join it all the same, then say so.
		end, jerr := l.join(ctx, t)
		if jerr != nil {
			return threadEnd{}, jerr
		}
		return threadEnd{}, fmt.Errorf("thread %q already ended (%s after %s): there is nothing to terminate", name, end.State, end.Runtime.Round(time.Microsecond))
	}
	return l.join(ctx, t)
}

// wait joins the thread; a thread joined before gives the same end again.
func (l *localThreads) wait(ctx context.Context, name string) (threadEnd, error) {
	t, err := l.get(name)
	if err != nil {
		return threadEnd{}, err
	}
	return l.join(ctx, t)
}

func (l *localThreads) join(ctx context.Context, t *localThread) (threadEnd, error) {
	l.mu.Lock()
	if t.joined {
		end := t.end
		l.mu.Unlock()
		return end, nil
	}
	l.mu.Unlock()
	e, err := t.th.Wait(ctx)
	if err != nil {
		return threadEnd{}, fmt.Errorf("thread %q (tid %d) has not ended: %w", t.th.Name(), t.th.TID(), context.Cause(ctx))
	}
	end := endOf(t.th, e)
	l.mu.Lock()
	t.joined, t.end = true, end
	l.mu.Unlock()
	return end, nil
}

// alive reports whether the thread's body is still running.
func (l *localThreads) alive(name string) bool {
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
func (l *localThreads) list() ([]threadItem, error) {
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
	items := make([]threadItem, len(tasks))
	for i, task := range tasks {
		items[i] = threadItem{TID: task.TID, Name: task.Name, Comm: task.Name, State: task.State}
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
func (l *localThreads) close(ctx context.Context) error {
	l.mu.Lock()
	var open []*localThread
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

// threadTable is the run's threads, by name: where each lives, and for the
// runner's own, the threads themselves.
type threadTable struct {
	mu    sync.Mutex
	where map[string]*threadPlace
	local localThreads
}

// threadPlace is where a thread of the run lives.
type threadPlace struct {
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
			return fmt.Errorf("thread %q is being started in %s by another step; thread names are unique in a run", name, p.in)
		}
		return fmt.Errorf("thread %q already exists in %s (tid %d); thread names are unique in a run until the thread is joined (terminate or wait)", name, p.in, p.tid)
	}
	if tt.where == nil {
		tt.where = map[string]*threadPlace{}
	}
	tt.where[name] = &threadPlace{in: in, starting: true}
	return nil
}

// place returns where the thread called name lives.
func (h *Host) place(name string) (threadPlace, error) {
	tt := &h.threads
	tt.mu.Lock()
	defer tt.mu.Unlock()
	p := tt.where[name]
	if p == nil || p.starting {
		return threadPlace{}, fmt.Errorf("no thread named %q in this run%s", name, didYouMeanThread(name, tt.where))
	}
	return *p, nil
}

func didYouMeanThread(name string, where map[string]*threadPlace) string {
	names := make([]string, 0, len(where))
	for n := range where {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return " (it has started none)"
	}
	if len(names) > 5 {
		return ""
	}
	return fmt.Sprintf(" (its threads: %v)", names)
}

// setPlace updates the thread's entry, if it is still the same thread.
func (h *Host) setPlace(name string, f func(p *threadPlace)) {
	tt := &h.threads
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if p := tt.where[name]; p != nil {
		f(p)
	}
}

// startThread starts a thread in the runner or an agent and logs its
// thread_start event; its thread_end event is logged when it ends.
func (h *Host) startThread(ctx context.Context, env *Env, spec threadSpec, in string) (Result, error) {
	if in != runnerName && !h.isAgent(in) {
		if h.hasProcess(in) {
			return nil, fmt.Errorf("in: process %q is not an agent: spawn it with agent: true to host threads", in)
		}
		return nil, fmt.Errorf("in: no agent named %q in this run: use runner or the name of a spawn with agent: true", in)
	}
	if err := h.reserveThread(spec.Name, in); err != nil {
		return nil, err
	}
	var started threadStarted
	var err error
	if in == runnerName {
		log := h.log
		var th *osthread.Thread
		th, err = h.threads.local.start(spec, func(e threadEnd) {
			log.Info("thread ended", append([]any{"event", "thread_end", "process", runnerName}, endFields(e, os.Getpid())...)...)
		})
		if err == nil {
			started = threadStarted{TID: th.TID(), PID: th.PID()}
		}
	} else {
		err = h.callAgent(ctx, in, opThreadStart, spec, &started)
		if errors.Is(err, agent.ErrAgentGone) {
			h.agentGone(in, err)
			err = fmt.Errorf("thread %q cannot start: %w", spec.Name, goneReason(err))
		} else {
			err = h.agentError(ctx, in, spec.Name, err)
		}
	}
	tt := &h.threads
	tt.mu.Lock()
	if err != nil {
		delete(tt.where, spec.Name)
	} else {
		tt.where[spec.Name] = &threadPlace{in: in, tid: started.TID, pid: started.PID}
	}
	tt.mu.Unlock()
	if err != nil {
		return nil, err
	}
	env.Event("thread_start", "thread started", "thread", spec.Name, "tid", started.TID, "pid", started.PID,
		"process", in, "run", spec.Run, "state", "running")
	return Result{"name": spec.Name, "tid": started.TID, "pid": started.PID, "in": in}, nil
}

// endFields are a thread_end event's fields, but for event and process.
func endFields(e threadEnd, pid int) []any {
	kv := []any{"thread", e.Name, "tid", e.TID, "pid", pid,
		"state", e.State, "runtime_ms", float64(e.Runtime.Microseconds()) / 1000}
	if e.Latency > 0 {
		kv = append(kv, "latency_us", float64(e.Latency.Nanoseconds())/1000)
	}
	if e.Error != "" {
		kv = append(kv, "error", e.Error)
	}
	return kv
}

// agentError turns an agent's failure about thread name into an error that
// says where, and remembers an agent that is gone.
func (h *Host) agentError(ctx context.Context, in, name string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && !errors.Is(err, agent.ErrAgentGone) {
		// The step's or the run's time ran out: say that, not how the
		// call was given up.
		return fmt.Errorf("thread %q in agent %s: %w", name, in, context.Cause(ctx))
	}
	if errors.Is(err, agent.ErrAgentGone) {
		h.agentGone(in, err)
		return &threadLostError{thread: name, err: err}
	}
	var re *agent.RemoteError
	if errors.As(err, &re) {
		return fmt.Errorf("agent %s: %s", in, re.Message)
	}
	return fmt.Errorf("thread %q in agent %s: %w", name, in, err)
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

// goneReason is what an agent call's error says of how the agent went.
func goneReason(err error) error {
	var gone *agent.GoneError
	if errors.As(err, &gone) {
		return gone
	}
	return err
}

// agentGone marks every thread of agent in as unreachable: they died with
// it.
func (h *Host) agentGone(in string, why error) {
	tt := &h.threads
	tt.mu.Lock()
	defer tt.mu.Unlock()
	for _, p := range tt.where {
		if p.in == in && !p.joined && p.gone == nil {
			p.gone = why
		}
	}
}

// threadAlive reports whether the thread called name is still running. For
// a thread in an agent it asks the agent, briefly.
func (h *Host) threadAlive(name string) bool {
	p, err := h.place(name)
	if err != nil || p.joined || p.gone != nil {
		return false
	}
	if p.in == runnerName {
		return h.threads.local.alive(name)
	}
	ctx, cancel := context.WithTimeout(context.Background(), aliveLimit)
	defer cancel()
	var alive bool
	if err := h.callAgent(ctx, p.in, opThreadAlive, threadSpec{Name: name}, &alive); err != nil {
		h.agentError(ctx, p.in, name, err)
		return false
	}
	return alive
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
	p, err := h.place(name)
	if err != nil {
		return nil, err
	}
	if p.gone != nil {
		return nil, &threadLostError{thread: name, err: p.gone}
	}
	var end threadEnd
	switch {
	case p.in == runnerName && cancel:
		end, err = h.threads.local.cancel(ctx, name)
	case p.in == runnerName:
		end, err = h.threads.local.wait(ctx, name)
	default:
		op := opThreadWait
		if cancel {
			op = opThreadCancel
		}
		err = h.agentError(ctx, p.in, name, h.callAgent(ctx, p.in, op, threadSpec{Name: name}, &end))
	}
	if err != nil {
		return nil, err
	}
	h.setPlace(name, func(p *threadPlace) { p.joined = true })
	r := end.result()
	r["pid"], r["in"] = p.pid, p.in
	return r, nil
}

// listThreads lists the threads of the runner or of an agent, from
// /proc/PID/task, marking pmrun's.
func (h *Host) listThreads(ctx context.Context, in string) ([]map[string]any, error) {
	var items []threadItem
	var err error
	switch {
	case in == runnerName:
		items, err = h.threads.local.list()
	case !h.isAgent(in):
		if h.hasProcess(in) {
			return nil, fmt.Errorf("threads: process %q is not an agent: list {threads} takes runner or an agent", in)
		}
		return nil, fmt.Errorf("threads: no agent named %q in this run", in)
	default:
		err = h.callAgent(ctx, in, opThreadList, nil, &items)
		if err != nil {
			if errors.Is(err, agent.ErrAgentGone) {
				h.agentGone(in, err)
				err = fmt.Errorf("threads: %w", goneReason(err))
			} else {
				err = fmt.Errorf("threads of agent %s: %w", in, err)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(items))
	for i, it := range items {
		out[i] = it.item()
	}
	return out, nil
}

// closeLimit bounds how long closing an agent's threads may take: they are
// killed with the agent anyway.
const closeLimit = 5 * time.Second

// closeThreads cancels and joins every thread of the run: the runner's, and
// those of each agent still answering (an agent that died took its threads
// with it).
func (h *Host) closeThreads(ctx context.Context) error {
	tt := &h.threads
	tt.mu.Lock()
	agents := map[string]bool{}
	for _, p := range tt.where {
		if p.in != runnerName && !p.joined && p.gone == nil {
			agents[p.in] = true
		}
	}
	tt.mu.Unlock()
	var errs []error
	for in := range agents {
		actx, cancel := context.WithTimeout(ctx, closeLimit)
		err := h.callAgent(actx, in, opThreadClose, nil, nil)
		cancel()
		if err != nil && !errors.Is(err, agent.ErrAgentGone) {
			errs = append(errs, fmt.Errorf("threads of agent %s: %w", in, err))
		}
	}
	if err := tt.local.close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("runner threads: %w", err))
	}
	return errors.Join(errs...)
}
