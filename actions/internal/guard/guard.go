// Package guard cleans up after a pmrun that was killed with SIGKILL.
//
// Nothing runs in a process killed with SIGKILL, so what cleans up after it
// must be another process. The guard is that process: pmrun itself
// re-executed (as /proc/self/exe, named pmrun-guard) on first use, in a
// session of its own and without Pdeathsig, so that it outlives pmrun and
// Ctrl-C at the terminal does not reach it. It holds the read end of a
// pipe whose only write end is pmrun's; the pipe's EOF tells it that pmrun
// has gone, however it went. It then
//
//   - kills every process that carries pmrun's mark in its environment
//     ([Name]=token, which package proc puts in the environment of every
//     process it starts, and which their descendants inherit): grandchildren
//     of a shell step, background jobs, setsid'd descendants and processes
//     that ignore SIGTERM alike, whoever their parent now is;
//   - kills the process group of each of them, which catches a member that
//     scrubbed its environment while its group lives on;
//   - repeats until a look through /proc finds none, so that a process that
//     forked while it was being killed is found too;
//   - removes the folders pmrun asked it to ([Guard.RemoveOnDeath]): the run
//     folders with their FIFOs and sockets.
//
// What it cannot see escapes it, and the README says so: a process that
// cleared its environment and left its group (env -i setsid …), and one
// whose environment pmrun's user may not read (a setuid program).
//
// When pmrun ends normally it has already cleaned up; the guard then finds
// nothing and exits. It costs one process per pmrun, started once, and
// nothing per spawn: the mark is one more environment variable.
package guard

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// Name is the environment variable that marks every process pmrun starts;
// its value is the token of the pmrun that started it (or its ancestor).
const Name = "PMRUN_GUARD"

// argv0 is how the guard is started: the binary's init finds it in
// os.Args[0] and serves as the guard instead of running main.
const argv0 = "pmrun-guard"

// The guard's own environment: the token to look for, and pmrun's process
// group, which must not be killed (it may hold pmrun's own parent).
const (
	tokenEnv = "PMRUN_GUARD_TOKEN"
	pgidEnv  = "PMRUN_GUARD_PGID"
)

// guardFD is the read end of the pipe in the guard.
const guardFD = 3

// Guard is the running guard of this process. Should the guard itself
// be killed, another takes its place (see watch).
type Guard struct {
	token string
	mark  string // Name=token

	mu       sync.Mutex
	pid      int
	w        int            // write end of the pipe; only this process holds it
	paths    map[string]int // the folders to remove, each with its count of requests
	watchers map[int]func(Restart)
	nextID   int
}

var (
	once     sync.Once
	theGuard *Guard
	startErr error
)

// Get starts this process's guard on first use and returns it. Every
// caller shares the one guard. The guard is a child of this process: a
// process that reaps every child (package proc's reaper does) reaps it too
// should it ever exit first.
func Get() (*Guard, error) {
	once.Do(func() {
		theGuard, startErr = start()
		if startErr == nil {
			go theGuard.watch()
		}
	})
	return theGuard, startErr
}

func start() (*Guard, error) {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("guard: token: %w", err)
	}
	token := hex.EncodeToString(b[:])
	pid, w, err := spawn(token)
	if err != nil {
		return nil, err
	}
	return &Guard{token: token, mark: Name + "=" + token, pid: pid, w: w, paths: map[string]int{}}, nil
}

// spawn starts a guard looking for token and returns its pid and the
// write end of its pipe.
func spawn(token string) (pid, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return 0, 0, fmt.Errorf("guard: pipe: %w", err)
	}
	null, err := unix.Open(os.DevNull, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return 0, 0, fmt.Errorf("guard: open %s: %w", os.DevNull, err)
	}
	pgid, _ := unix.Getpgid(0)
	attr := &syscall.ProcAttr{
		Dir: "/",
		// One P: the guard idles, and under a low process limit (ulimit
		// -u) every thread it does not start is one more for the run.
		Env: []string{tokenEnv + "=" + token, pgidEnv + "=" + strconv.Itoa(pgid), "GOMAXPROCS=1"},
		// Its own session: no terminal signal reaches it, and no group
		// that pmrun or its parent signals holds it.
		Files: []uintptr{uintptr(null), uintptr(null), uintptr(null), uintptr(p[0])},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	}
	pid, err = syscall.ForkExec("/proc/self/exe", []string{argv0}, attr)
	unix.Close(null)
	unix.Close(p[0])
	if err != nil {
		unix.Close(p[1])
		return 0, 0, fmt.Errorf("guard: start /proc/self/exe: %w", err)
	}
	return pid, p[1], nil
}

// PID is the guard's process id, which a process that cleans up its own
// children must leave alone.
func (g *Guard) PID() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.pid
}

// Mark is the environment entry (NAME=token) that marks a process as
// started by this pmrun; put it in the environment of every child.
func (g *Guard) Mark() string { return g.mark }

// RemoveOnDeath has the guard remove path (a folder and everything in it)
// if this process dies before calling forget, which it does once it has
// removed path itself.
func (g *Guard) RemoveOnDeath(path string) (forget func()) {
	g.mu.Lock()
	g.paths[path]++
	g.sendLocked('+', path)
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.paths[path]--; g.paths[path] <= 0 {
			delete(g.paths, path)
		}
		g.sendLocked('-', path)
	}
}

// send writes one request: an op byte, the path, a NUL. A write of less
// than PIPE_BUF is atomic and the guard reads all the time, so this never
// blocks for long; if the guard is gone there is nobody to tell.
func (g *Guard) sendLocked(op byte, path string) {
	msg := make([]byte, 0, len(path)+2)
	msg = append(msg, op)
	msg = append(msg, path...)
	msg = append(msg, 0)
	for len(msg) > 0 {
		n, err := unix.Write(g.w, msg)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		msg = msg[n:]
	}
}
