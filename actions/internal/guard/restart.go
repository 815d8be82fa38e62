package guard

import (
	"os"

	"golang.org/x/sys/unix"
)

// Restart says that the guard ended while this process lived (someone
// killed it) and another took its place: Old is the pid of the one that
// ended, New that of the new one, 0 with Err when none could start, and
// nothing then guards this process any more.
type Restart struct {
	Old, New int
	Err      error
}

// Watch calls f each time the guard is restarted, until stop is called.
// f must not block.
func (g *Guard) Watch(f func(Restart)) (stop func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.watchers == nil {
		g.watchers = map[int]func(Restart){}
	}
	id := g.nextID
	g.nextID++
	g.watchers[id] = f
	return func() {
		g.mu.Lock()
		delete(g.watchers, id)
		g.mu.Unlock()
	}
}

// watch waits for the guard to end, which it never does while this
// process lives unless it is killed, and then starts another that looks
// for the same mark (the processes started so far carry it) and removes
// the same folders, and tells the watchers. Without pidfds (Linux before
// 5.3) the guard is not watched.
func (g *Guard) watch() {
	for {
		old := g.PID()
		if !waitExit(old) {
			return
		}
		pid, w, err := spawn(g.token)
		g.mu.Lock()
		unix.Close(g.w)
		g.pid, g.w = pid, w
		if err == nil {
			for path, n := range g.paths {
				for range n {
					g.sendLocked('+', path)
				}
			}
		} else {
			g.w = -1
		}
		r := Restart{Old: old, New: pid, Err: err}
		for _, f := range g.watchers {
			f(r)
		}
		g.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// waitExit waits until process pid has ended, and reaps it unless a
// reaper of this process's children took it first. It reports false if
// it cannot wait.
func waitExit(pid int) bool {
	fd, err := unix.PidfdOpen(pid, unix.O_NONBLOCK)
	if err != nil {
		return false
	}
	f := os.NewFile(uintptr(fd), "pmrun-guard-pidfd")
	defer f.Close()
	rc, err := f.SyscallConn()
	if err != nil {
		return false
	}
	err = rc.Read(func(fd uintptr) bool {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, 0)
		return n > 0 || err != nil && err != unix.EINTR
	})
	if err != nil {
		return false
	}
	_ = rc.Control(func(fd uintptr) {
		var info unix.Siginfo
		_ = unix.Waitid(unix.P_PIDFD, int(fd), &info, unix.WEXITED|unix.WNOHANG, nil)
	})
	return true
}
