package native

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// bindProcess learns p's pid and watches for its end through a pidfd:
// when it ends, a goroutine of the runtime's poller marks it and wakes
// the run (Block.Wake). The pidfd also signals it, with no risk of
// reaching another process that took its pid.
func (r *Run) bindProcess(p *process, pid int) {
	p.pid = pid
	r.byPid[pid] = p
	fd, err := unix.PidfdOpen(pid, unix.PIDFD_NONBLOCK)
	if err != nil { // it has already ended and been reaped
		p.exited = true
		return
	}
	f := os.NewFile(uintptr(fd), "pidfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		p.exited = true
		return
	}
	p.watch = func() { f.Close() }
	p.kill = func() {
		rc.Control(func(fd uintptr) { unix.PidfdSendSignal(int(fd), unix.SIGKILL, nil, 0) })
	}
	go func() {
		err := rc.Read(func(fd uintptr) bool {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, _ := unix.Poll(pfd, 0)
			return n > 0
		})
		if err != nil {
			return // closed: the run is over
		}
		r.deadMu.Lock()
		r.dead = append(r.dead, p)
		r.deadMu.Unlock()
		r.blk.Wake()
	}()
	if p.bin == nil {
		r.loadImage(p)
	}
}

// reapEnded marks the processes that have ended and their threads.
func (r *Run) reapEnded() {
	r.deadMu.Lock()
	dead := r.dead
	r.dead = nil
	r.deadMu.Unlock()
	for _, p := range dead {
		p.exited = true
		for _, t := range r.threads {
			if t != nil && t.proc == p && t.state != tDone {
				r.ended(t)
			}
		}
	}
}

// blockedOutside says whether thread t sleeps in the kernel (where, by
// its system call's name), not running: it holds the turn, so the call
// is one pmrun does not control.
func blockedOutside(t *thread) (string, bool) {
	if t.tid == 0 {
		return "", false // not started yet
	}
	dir := fmt.Sprintf("/proc/%d/task/%d/", t.proc.pid, t.tid)
	stat, err := os.ReadFile(dir + "stat")
	if err != nil {
		return "", false
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 || i+2 >= len(stat) {
		return "", false
	}
	switch stat[i+2] {
	case 'S', 'D':
	default:
		return "", false // running or runnable: computing
	}
	sc, _ := os.ReadFile(dir + "syscall")
	nr, err := strconv.Atoi(strings.Fields(string(sc) + " x")[0])
	if err != nil {
		return "a system call", true
	}
	if name, ok := syscallNames[nr]; ok {
		return name + "()", true
	}
	return fmt.Sprintf("system call %d", nr), true
}

// sharedKey finds the file a shared mapping of process pid holds at addr
// (an anonymous shared mapping has an inode of its own too): the same
// device, inode and offset in every process that maps it.
func sharedKey(pid int, addr uint64) (dev, ino, off uint64, ok bool) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return 0, 0, 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// start-end perms offset major:minor inode path
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		lo, hi, _ := strings.Cut(fields[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || addr < start || addr >= end {
			continue
		}
		if len(fields[1]) < 4 || fields[1][3] != 's' {
			return 0, 0, 0, false // private after all
		}
		offset, _ := strconv.ParseUint(fields[2], 16, 64)
		major, minor, _ := strings.Cut(fields[3], ":")
		ma, _ := strconv.ParseUint(major, 16, 64)
		mi, _ := strconv.ParseUint(minor, 16, 64)
		inode, _ := strconv.ParseUint(fields[4], 10, 64)
		return ma<<32 | mi, inode, offset + addr - start, true
	}
	return 0, 0, 0, false
}
