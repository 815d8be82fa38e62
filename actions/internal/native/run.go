package native

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	pl "github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// Defaults of [Config].
const (
	DefaultTimeout   = 10 * time.Second
	DefaultHandshake = 5 * time.Second
	DefaultWatchdog  = 200 * time.Millisecond
	DefaultMaxSteps  = 100_000
)

// Tuning of the turn passing (cmd/pmbench's row of a C program's
// switches): pmrun spins this long for the next request before it
// sleeps, and a thread spins this many rounds (the header's spin) for its
// answer before it sleeps; both yield the CPU every 64 rounds, so that a
// spin costs nothing when the CPUs are busy (measured on 2 busy CPUs: 38
// µs a switch spinning so, 41 µs without spinning, 76 µs spinning
// without yielding).
const (
	ctlSpin    = 20 * time.Microsecond
	threadSpin = 1000
	tick       = 20 * time.Millisecond
)

// Config says what program to run and how.
type Config struct {
	// Argv is the program and its arguments; Env is added to pmrun's
	// environment; Dir is the working folder; Stdin is written to its
	// standard input.
	Argv  []string
	Env   map[string]string
	Dir   string
	Stdin string
	// Name names the run's process in its table ("NAME#RUN").
	Name string
	// Library is the interposition library's path (preload.Library).
	Library string
	// Timeout bounds one run: past it the run fails with verdict
	// timeout. Handshake bounds the wait for the program's first call to
	// the library. Watchdog is how long the thread holding the turn may
	// sleep in a call pmrun does not control before it is let run and
	// another thread is chosen.
	Timeout, Handshake, Watchdog time.Duration
}

func (c Config) withDefaults() Config {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Handshake <= 0 {
		c.Handshake = DefaultHandshake
	}
	if c.Watchdog <= 0 {
		c.Watchdog = DefaultWatchdog
	}
	if c.Name == "" {
		c.Name = "program"
	}
	return c
}

// Run is one execution of the program under pmrun's control: its threads
// wait at their synchronization calls, and [Run.Step] lets one go to its
// next. The methods are not safe for concurrent use: one goroutine drives
// a run.
type Run struct {
	cfg      Config
	blk      *pl.Block
	tab      *proc.Table
	top      *proc.Process
	deadline time.Time
	ctx      context.Context
	stopWake func() bool

	threads   []*thread // by slot; nil for a slot not yet written
	procs     []*process
	byPid     map[int]*process
	objs      map[objKey]*object
	nameCount map[string]int
	kindCount map[int]int

	running   *thread // holds the turn
	lastAsker *thread // the last thread to reach a point
	granted   time.Time
	steps     int
	failure   *Failure // found while stepping: a misuse, a timeout
	assert    *assertNote
	notes     []string

	deadMu sync.Mutex
	dead   []*process // ended, not yet marked
}

type assertNote struct {
	thread *thread
	text   string
	site   uint64
}

// ErrNoHandshake is a program that never called pmrun's library.
var ErrNoHandshake = errors.New("the program never called pmrun's library")

// Start starts the program with the library loaded and waits for its
// first thread to reach its first point. ctx ends the run: its processes
// are killed and the next call returns its cause.
func Start(ctx context.Context, cfg Config, run int) (*Run, error) {
	cfg = cfg.withDefaults()
	blk, err := pl.NewBlock(threadSpin)
	if err != nil {
		return nil, err
	}
	tab, err := proc.NewTable(proc.Options{WaitDelay: 200 * time.Millisecond})
	if err != nil {
		blk.Close()
		return nil, err
	}
	r := &Run{
		cfg: cfg, blk: blk, tab: tab, ctx: ctx,
		byPid: map[int]*process{}, objs: map[objKey]*object{},
		nameCount: map[string]int{}, kindCount: map[int]int{},
	}
	r.stopWake = context.AfterFunc(ctx, blk.Wake)
	env := maps.Clone(cfg.Env)
	if env == nil {
		env = map[string]string{}
	}
	env[pl.Env] = "3"
	env["LD_PRELOAD"] = preloadList(cfg.Library, env)
	top, err := tab.Start(proc.Spec{
		Name: cfg.Name + "#" + strconv.Itoa(run), Argv: cfg.Argv, Env: env, Dir: cfg.Dir, Stdin: cfg.Stdin,
		ExtraFiles: []*os.File{blk.File()},
	})
	blk.CloseFile()
	if err != nil {
		r.Close()
		return nil, err
	}
	r.top = top
	r.deadline = top.Started().Add(cfg.Timeout)
	p := r.addProcess(top.PID(), nil)
	r.bindProcess(p, top.PID())
	if err := r.handshake(); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// preloadList puts the library first in LD_PRELOAD, before what the
// environment preloads already.
func preloadList(lib string, env map[string]string) string {
	old, ok := env["LD_PRELOAD"]
	if !ok {
		old = os.Getenv("LD_PRELOAD")
	}
	if old == "" {
		return lib
	}
	return lib + ":" + old
}

// handshake waits for the program's first thread to reach the library.
func (r *Run) handshake() error {
	limit := time.Now().Add(r.cfg.Handshake)
	seen := r.blk.Events()
	for {
		r.drain()
		if len(r.threads) > 0 && r.threads[0] != nil {
			return nil
		}
		if r.procs[0].exited {
			e, _ := r.top.Wait(context.WithoutCancel(r.ctx))
			return &HandshakeError{Argv: r.cfg.Argv, Exited: true, Exit: e}
		}
		if err := r.ctx.Err(); err != nil {
			return context.Cause(r.ctx)
		}
		if time.Now().After(limit) {
			return &HandshakeError{Argv: r.cfg.Argv, Waited: r.cfg.Handshake}
		}
		seen = r.blk.WaitEvents(seen, 0, tick)
	}
}

// HandshakeError is a program that did not call pmrun's library: it ended
// first, or did not within the handshake time.
type HandshakeError struct {
	Argv   []string
	Exited bool
	Exit   proc.Exit
	Waited time.Duration
}

func (e *HandshakeError) Error() string {
	why := "it does not link glibc dynamically (a static binary, a Go program, Rust's std: they synchronize through raw futexes that pmrun cannot see), or it was run through something that drops LD_PRELOAD (a setuid program)"
	if e.Exited {
		out := strings.TrimSpace(e.Exit.Stderr)
		if out != "" {
			out = "; its stderr: " + lastLine(out)
		}
		return fmt.Sprintf("native: %s ended (exit %d%s) without calling pmrun's library: %s%s", e.Argv[0], e.Exit.ExitCode, sigSuffix(e.Exit.Signal), why, out)
	}
	return fmt.Sprintf("native: %s did not call pmrun's library within %v: %s", e.Argv[0], e.Waited, why)
}

// Is makes errors.Is(err, ErrNoHandshake) true.
func (e *HandshakeError) Is(target error) bool { return target == ErrNoHandshake }

func sigSuffix(sig string) string {
	if sig == "" {
		return ""
	}
	return ", " + sig
}

func lastLine(s string) string {
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// Threads are the names of the run's threads, by index.
func (r *Run) Threads() []string {
	out := make([]string, len(r.threads))
	for i, t := range r.threads {
		if t != nil {
			out[i] = t.name
		}
	}
	return out
}

// Steps is how many steps the run has taken.
func (r *Run) Steps() int { return r.steps }

// Notes are what a person should know about the run: threads let run
// outside pmrun's control, processes it did not see start.
func (r *Run) Notes() []string { return r.notes }

func (r *Run) notef(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// Enabled appends to dst the threads that can take the next step, in
// index order. When none can, but something outside pmrun's control may
// still change that (a thread let run, a process pmrun does not see
// ending), it waits for it. An empty list means the run is over: [Run.End]
// says how. The error is the run's timeout or ctx's end.
func (r *Run) Enabled(dst []int) ([]int, error) {
	seen := r.blk.Events()
	for {
		if r.failure != nil {
			return dst, nil
		}
		dst = r.enabled(dst)
		if len(dst) > 0 || !r.outsideBusy() {
			return dst, nil
		}
		if err := r.check(); err != nil {
			return dst, err
		}
		if r.failure != nil {
			return dst[:0], nil
		}
		seen = r.blk.WaitEvents(seen, 0, tick)
		r.drain()
	}
}

func (r *Run) enabled(dst []int) []int {
	for _, t := range r.threads {
		if t != nil && r.canGo(t) {
			dst = append(dst, t.idx)
		}
	}
	if len(dst) > 0 {
		return dst
	}
	for _, t := range r.threads {
		if t != nil && canTimeOut(t) {
			dst = append(dst, t.idx)
		}
	}
	return dst
}

// outsideBusy says whether something pmrun does not control may still
// act: a thread let run, or a process alive with no thread waiting on
// pmrun (an image that never loaded the library, a process on its way
// out).
func (r *Run) outsideBusy() bool {
	for _, t := range r.threads {
		if t != nil && (t.state == tFree || t.state == tRunning) {
			return true
		}
	}
	for _, p := range r.procs {
		if p.exited {
			continue
		}
		waiting := false
		for _, t := range r.threads {
			if t != nil && t.proc == p && (t.state == tParked || t.state == tNew) {
				waiting = true
			}
		}
		if !waiting {
			return true
		}
	}
	return false
}

// Step lets thread i, one of [Run.Enabled]'s, take its step: its call
// goes on (or returns what the model says), and the thread runs to its
// next point, or ends. It returns the step as a row of the interleaving.
func (r *Run) Step(i int) (Row, error) {
	if i < 0 || i >= len(r.threads) || r.threads[i] == nil {
		return Row{}, fmt.Errorf("native: no thread %d", i)
	}
	t := r.threads[i]
	if t.state != tNew && t.state != tParked {
		return Row{}, fmt.Errorf("native: thread %s cannot take a step", t.name)
	}
	site := t.req.site
	if t.state == tNew {
		site = t.start
	}
	reply, arg, text, fail := r.take(t)
	row := r.row(t, text, site)
	r.steps++
	if fail != nil {
		row.Failed = true
		r.failure = fail
		return row, nil
	}
	if a := r.lastAsker; a != nil && a != t && a.state == tParked {
		r.blk.Slot(a.idx).Park(a.seq)
	}
	t.state, r.running, r.granted = tRunning, t, time.Now()
	r.blk.Slot(i).Answer(t.seq, reply, arg)
	return row, r.settle()
}

// settle waits until no thread holds the turn: the running one reached a
// point, ended, or was let run outside pmrun's control.
func (r *Run) settle() error {
	seen := r.blk.Events()
	for {
		r.drain()
		if r.running == nil || r.failure != nil {
			return nil
		}
		if err := r.check(); err != nil {
			return err
		}
		seen = r.blk.WaitEvents(seen, ctlSpin, tick)
	}
}

// check applies the limits while pmrun waits: ctx, the run's timeout,
// and the watchdog on the running thread.
func (r *Run) check() error {
	if r.ctx.Err() != nil {
		return fmt.Errorf("native: run stopped: %w", context.Cause(r.ctx))
	}
	now := time.Now()
	if now.After(r.deadline) {
		r.failure = r.timeoutFailure()
		return nil
	}
	if t := r.running; t != nil && now.Sub(r.granted) >= r.cfg.Watchdog {
		if t.tid == 0 { // a new thread that has not asked for anything yet
			t.tid = int(r.blk.Slot(t.idx).TID)
		}
		if where, blocked := blockedOutside(t); blocked {
			r.notef("%s blocked in %s, a call pmrun does not control, after step %d: pmrun let it run and went on with the others, so this run may not replay exactly", t.name, where, r.steps)
			t.state, r.running = tFree, nil
		} else {
			r.granted = now // computing: wait on, until the timeout
		}
	}
	return nil
}

// addProcess records a process of the program, parent nil for the first.
func (r *Run) addProcess(pid int, parent *process) *process {
	p := &process{idx: len(r.procs), pid: pid, parent: parent, objs: map[uint64]*object{}}
	if parent != nil {
		parent.children = append(parent.children, p)
		p.bin, p.bias = parent.bin, parent.bias
		for a, o := range parent.objs { // a fork keeps the shared mappings
			if o.shared {
				p.objs[a] = o
			}
		}
	}
	r.procs = append(r.procs, p)
	if pid > 0 {
		r.byPid[pid] = p
	}
	return p
}

// newThread makes the thread a pthread_create will start, with its
// start routine; nil when the block is full.
func (r *Run) newThread(p *process, start int64) *thread {
	i := r.blk.Allocate()
	if i < 0 {
		return nil
	}
	for len(r.threads) <= i {
		r.threads = append(r.threads, nil)
	}
	t := &thread{idx: i, proc: p, state: tNew, seq: 1, start: uint64(start)}
	t.name = r.uniqueName(r.routineName(p, uint64(start)))
	r.threads[i] = t
	return t
}

// newProcess makes the child a fork of t will start, and its thread.
func (r *Run) newProcess(t *thread) *thread {
	i := r.blk.Allocate()
	if i < 0 {
		return nil
	}
	for len(r.threads) <= i {
		r.threads = append(r.threads, nil)
	}
	p := r.addProcess(0, t.proc)
	u := &thread{idx: i, proc: p, state: tNew, seq: 1}
	p.main = u
	u.name = r.processName(p)
	r.threads[i] = u
	return u
}

// over says whether every thread has ended and every process exited.
func (r *Run) over() bool {
	for _, t := range r.threads {
		if t != nil && t.state != tDone {
			return false
		}
	}
	for _, p := range r.procs {
		if !p.exited {
			return false
		}
	}
	return true
}

// Close ends the run: it kills what is left of the program, reaps it,
// and unmaps the control block.
func (r *Run) Close() error {
	r.stopWake()
	r.blk.SetClosed()
	r.kill()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.ctx), 5*time.Second)
	defer cancel()
	err := r.tab.Close(ctx, 0)
	for _, p := range r.procs {
		if p.watch != nil {
			p.watch()
		}
	}
	if cerr := r.blk.Close(); err == nil {
		err = cerr
	}
	return err
}

// kill sends SIGKILL to the program's group and to each of its
// processes (one may have left the group).
func (r *Run) kill() {
	if r.top != nil {
		r.top.Signal(syscall.SIGKILL)
	}
	for _, p := range slices.Backward(r.procs) {
		if !p.exited && p.kill != nil {
			p.kill()
		}
	}
}
