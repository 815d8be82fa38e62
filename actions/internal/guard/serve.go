package guard

import (
	"bytes"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// init serves as the guard when this binary was started as one. It runs
// before main, and before any test's TestMain, so every binary that links
// this package (pmrun, and the test binaries of the packages that spawn
// processes) can be its own guard without knowing it.
func init() {
	if len(os.Args) != 1 || os.Args[0] != argv0 || os.Getenv(tokenEnv) == "" {
		return
	}
	os.Exit(serve())
}

var guardComm = []byte("pmrun-guard\x00")

// sweepLimit bounds the sweep: a process stuck in an uninterruptible
// sleep dies when it wakes, and the guard does not wait for it forever.
const sweepLimit = 5 * time.Second

func serve() int {
	// init runs on the main thread, whose name is the process's: ps and
	// top show pmrun-guard rather than exe.
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&guardComm[0])), 0, 0, 0)
	// Only the pipe's end matters; pkill pmrun or a hang-up must not take
	// the guard before the pmrun it guards.
	signal.Ignore(syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGPIPE)
	token := os.Getenv(tokenEnv)
	spare := map[int]bool{unix.Getpgrp(): true}
	if pgid, err := strconv.Atoi(os.Getenv(pgidEnv)); err == nil {
		spare[pgid] = true
	}
	dirs := readUntilEOF(os.NewFile(guardFD, "pmrun-guard-pipe"))
	sweep([]byte("\x00"+Name+"="+token+"\x00"), spare, time.Now().Add(sweepLimit))
	for path := range dirs {
		if filepath.IsAbs(path) {
			os.RemoveAll(path)
		}
	}
	return 0
}

// readUntilEOF follows the requests on the pipe until pmrun is gone, and
// returns the folders still to remove.
func readUntilEOF(f *os.File) map[string]bool {
	dirs := map[string]bool{}
	var pending []byte
	buf := make([]byte, 8192)
	for {
		n, err := f.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.IndexByte(pending, 0)
			if i < 0 {
				break
			}
			if msg := pending[:i]; len(msg) > 1 {
				switch path := string(msg[1:]); msg[0] {
				case '+':
					dirs[path] = true
				case '-':
					delete(dirs, path)
				}
			}
			pending = pending[i+1:]
		}
		if err != nil {
			return dirs // EOF: the last write end, pmrun's, is closed
		}
	}
}

// sweep kills every live process whose environment holds needle, and its
// process group unless spared, until a look through /proc finds none or
// the deadline passes.
func sweep(needle []byte, spare map[int]bool, deadline time.Time) {
	self := os.Getpid()
	killedGroups := map[int]bool{}
	for {
		found := marked(needle, self)
		if len(found) == 0 {
			return
		}
		for _, p := range found {
			unix.Kill(p.pid, unix.SIGKILL)
			if p.pgid > 1 && !spare[p.pgid] && !killedGroups[p.pgid] {
				unix.Kill(-p.pgid, unix.SIGKILL)
				killedGroups[p.pgid] = true
			}
		}
		if time.Now().After(deadline) {
			return
		}
		// Give the kills a moment to land before looking again.
		time.Sleep(2 * time.Millisecond)
	}
}

type found struct{ pid, pgid int }

// marked lists the live processes (not zombies, not this one) whose
// environment holds needle. A process whose environment cannot be read (it
// belongs to another user, or is gone) is skipped.
func marked(needle []byte, self int) []found {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var out []found
	stat := make([]byte, 1024)
	env := make([]byte, 64<<10)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil || pid == self {
			continue
		}
		state, pgid, ok := readStat(pid, stat)
		if !ok || state == 'Z' || state == 'X' {
			continue
		}
		var hit bool
		env, hit = environHas(pid, env, needle)
		if hit {
			out = append(out, found{pid, pgid})
		}
	}
	return out
}

// environHas reports whether /proc/PID/environ holds needle, which starts
// and ends with a NUL; buf is reused and grown as needed.
func environHas(pid int, buf, needle []byte) ([]byte, bool) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/environ", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return buf, false
	}
	defer unix.Close(fd)
	buf[0] = 0 // so the first variable matches a needle that starts with NUL
	n := 1
	for {
		if n == len(buf) {
			buf = append(buf, make([]byte, len(buf))...)
		}
		m, err := unix.Read(fd, buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil || m <= 0 {
			break
		}
		n += m
	}
	return buf, bytes.Contains(buf[:n], needle)
}

// readStat reads the state and process group from /proc/PID/stat; the
// command name may hold spaces and parentheses, so parsing starts after
// the last ')'.
func readStat(pid int, buf []byte) (state byte, pgid int, ok bool) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, false
	}
	n, err := unix.Read(fd, buf)
	unix.Close(fd)
	if err != nil || n <= 0 {
		return 0, 0, false
	}
	b := buf[:n]
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pgid, err = strconv.Atoi(string(f[2]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pgid, true
}
