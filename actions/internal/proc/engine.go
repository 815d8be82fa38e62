package proc

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/guard"
)

// engine is the process-wide half of every [Table]: the one reaper, the one
// spawning thread and the one output pump. There is exactly one per process
// because wait4(-1) and PR_SET_CHILD_SUBREAPER are process-wide: two reapers
// would steal each other's exit statuses. It is started by the first
// [NewTable] and lives as long as the process, like the os/signal handler,
// so that a child started by any table is reaped and Pdeathsig'd correctly.
type engine struct {
	// mu guards byPid, tables and every Table's and Process's mutable state.
	// The spawner holds it across fork+exec and the reaper across wait4, so
	// a child that exits at once is still found under its pid, and a pid
	// read from /proc under mu cannot be reaped (and reused) meanwhile.
	mu     sync.Mutex
	byPid  map[int]*Process // children started by a table, not yet reaped
	tables map[*Table]struct{}
	reaped chan struct{} // closed and replaced after each reaping pass

	spawns  chan *spawnRequest
	devNull uintptr // stdin of children that get none; kept open for good
	pump    *pump

	// guard outlives this process to kill what it started should it die
	// by SIGKILL; nil if it could not be started (Pdeathsig still ends
	// the direct children then).
	guard *guard.Guard
	mark  string // the guard's mark, for every child's environment
}

var (
	engineOnce sync.Once
	theEngine  *engine
	engineErr  error
)

// getEngine starts the engine on first use.
func getEngine() (*engine, error) {
	engineOnce.Do(func() { theEngine, engineErr = startEngine() })
	return theEngine, engineErr
}

func startEngine() (*engine, error) {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return nil, fmt.Errorf("proc: become child subreaper: %w", err)
	}
	null, err := unix.Open(os.DevNull, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("proc: open %s: %w", os.DevNull, err)
	}
	e := &engine{
		byPid:   make(map[int]*Process),
		tables:  make(map[*Table]struct{}),
		reaped:  make(chan struct{}),
		spawns:  make(chan *spawnRequest),
		devNull: uintptr(null),
	}
	if g, err := guard.Get(); err == nil {
		e.guard, e.mark = g, g.Mark()
	}
	pp, err := newPump(e.reapAll)
	if err != nil {
		unix.Close(null)
		return nil, err
	}
	e.pump = pp
	// Buffer of one: SIGCHLDs coalesce anyway, and every wake-up reaps
	// until wait4 has nothing more, so a dropped notification loses nothing.
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, unix.SIGCHLD)
	go e.reapLoop(sigc)
	go e.spawnLoop()
	go pp.loop(os.NewFile(uintptr(pp.epfd), "pmrun-epoll"))
	// Children may already exist (inherited, or exited before Notify).
	e.reapAll()
	return e, nil
}

// spawnRequest is one fork+exec handed to the spawning thread.
type spawnRequest struct {
	path string
	argv []string
	attr syscall.ProcAttr
	p    *Process
	err  chan error
}

// spawnLoop forks every child from one OS thread that never exits, because
// the kernel sends Pdeathsig when the forking *thread* dies
// (golang/go#27505), not when the process does. The thread stays locked
// for good so that the Go runtime never reuses or retires it.
func (e *engine) spawnLoop() {
	runtime.LockOSThread()
	for req := range e.spawns {
		e.mu.Lock()
		pid, err := syscall.ForkExec(req.path, req.argv, &req.attr)
		if err == nil {
			req.p.pid, req.p.pgid = pid, pid
			e.byPid[pid] = req.p
			if req.p.onStart != nil {
				req.p.onStart(req.p) // under mu: before the reaper or the pump can report the child
			}
			if req.p.pidfd >= 0 && e.pump.watchExit(req.p.pidfd) != nil {
				unix.Close(req.p.pidfd) // SIGCHLD will reap it instead
				req.p.pidfd = -1
			}
		}
		e.mu.Unlock()
		req.err <- err
	}
}

// reapLoop is the one reaping path of the process: every SIGCHLD collects
// all exited children, ours and reparented grandchildren alike.
func (e *engine) reapLoop(sigc <-chan os.Signal) {
	for range sigc {
		e.reapAll()
	}
}

func (e *engine) reapAll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	reapedAny := false
	for {
		var ws unix.WaitStatus
		var ru unix.Rusage
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, &ru)
		if err == unix.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			break // ECHILD: no children; 0: none exited yet
		}
		reapedAny = true
		if p := e.byPid[pid]; p != nil {
			delete(e.byPid, pid)
			p.exitedLocked(ws, &ru, time.Now())
		}
		// An unknown pid is a grandchild reparented to us (we are its
		// subreaper) or a failed exec; reaping it is all it needs.
	}
	if reapedAny {
		close(e.reaped)
		e.reaped = make(chan struct{})
	}
}
