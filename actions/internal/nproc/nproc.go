// Package nproc checks the process limit (RLIMIT_NPROC, `ulimit -u`)
// before pmrun creates a process or an OS thread.
//
// The kernel counts every process and thread of a user against the
// limit. A fork past it fails with EAGAIN, which pmrun can report; but
// when the Go runtime cannot create a thread it needs, it aborts the
// whole program ("fatal error: newosproc"), with no chance to clean up.
// So pmrun checks before it creates anything, and keeps [Headroom] tasks
// free under the limit for the threads the runtime may yet start on its
// own: one for each P (GOMAXPROCS, as it is at the check: a controlled
// program raises it while its threads live), and a few more. A user who
// has CAP_SYS_RESOURCE or CAP_SYS_ADMIN, or root, is not held to the
// limit, and nothing is checked.
package nproc

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// Headroom is how many tasks a check keeps free under the limit for the
// Go runtime's own threads, now: one per P that may run (GOMAXPROCS: each
// may get an OS thread, for a goroutine or the garbage collector's
// workers), and a few for goroutines blocked in system calls.
func Headroom() int { return runtime.GOMAXPROCS(0) + 8 }

// LimitError says that creating more would pass the process limit.
type LimitError struct {
	Limit uint64 // RLIMIT_NPROC's soft limit
	UID   int    // the real user the kernel counts
	Used  int    // that user's processes and threads now
	Want  int    // how many more were asked for
	Keep  int    // the Headroom kept
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("the process limit is reached: RLIMIT_NPROC (ulimit -u) is %d, user %d has %d processes and threads, "+
		"%d more were asked for and pmrun keeps %d free for its own threads", e.Limit, e.UID, e.Used, e.Want, e.Keep)
}

// Is makes a LimitError match syscall.EAGAIN, the errno of a fork past
// the limit.
func (e *LimitError) Is(target error) bool { return target == syscall.EAGAIN }

// exempt reports whether the kernel does not hold this process to
// RLIMIT_NPROC: its real user is root, or it has CAP_SYS_RESOURCE or
// CAP_SYS_ADMIN. It does not change while pmrun runs.
var exempt = sync.OnceValue(func() bool {
	if unix.Getuid() == 0 {
		return true
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	has := func(c uint) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	return has(unix.CAP_SYS_RESOURCE) || has(unix.CAP_SYS_ADMIN)
})

// Check returns a [*LimitError] if creating n more processes or threads
// would leave fewer than [Headroom] under the process limit, and nil
// otherwise (also when there is no limit, or it cannot tell).
func Check(n int) error {
	if exempt() {
		return nil
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &rl); err != nil || rl.Cur == unix.RLIM_INFINITY {
		return nil
	}
	keep := Headroom()
	need := uint64(n + keep)
	// Every task on the machine is at most as many as the user's: when
	// even they leave room, nothing more needs counting. /proc/loadavg
	// is one small read; counting the user's tasks reads a file a process.
	if total, ok := systemTasks(); ok && total+need <= rl.Cur {
		return nil
	}
	uid := unix.Getuid()
	used := UserTasks(uid)
	if uint64(used)+need > rl.Cur {
		return &LimitError{Limit: rl.Cur, UID: uid, Used: used, Want: n, Keep: keep}
	}
	return nil
}

// Room is how many more processes and threads fit under the process
// limit beside [Headroom]: at most max (also when nothing limits them),
// at least 0.
func Room(max int) int {
	if exempt() {
		return max
	}
	var rl unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NPROC, &rl); err != nil || rl.Cur == unix.RLIM_INFINITY {
		return max
	}
	keep := uint64(Headroom())
	if total, ok := systemTasks(); ok && total+keep+uint64(max) <= rl.Cur {
		return max
	}
	used := uint64(UserTasks(unix.Getuid())) + keep
	if used >= rl.Cur {
		return 0
	}
	return int(min(rl.Cur-used, uint64(max)))
}

// Explain turns err, a failed fork or clone, into a [*LimitError] when it
// is EAGAIN under a process limit (someone else took the last room since
// the check); otherwise it returns err.
func Explain(err error, n int) error {
	if !errors.Is(err, syscall.EAGAIN) || exempt() {
		return err
	}
	var rl unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NPROC, &rl) != nil || rl.Cur == unix.RLIM_INFINITY {
		return err
	}
	uid := unix.Getuid()
	return &LimitError{Limit: rl.Cur, UID: uid, Used: UserTasks(uid), Want: n, Keep: Headroom()}
}

// systemTasks reads the number of tasks on the machine, the fourth field
// of /proc/loadavg ("running/total").
func systemTasks() (uint64, bool) {
	var buf [128]byte
	fd, err := unix.Open("/proc/loadavg", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, false
	}
	n, err := unix.Read(fd, buf[:])
	unix.Close(fd)
	if err != nil || n <= 0 {
		return 0, false
	}
	f := bytes.Fields(buf[:n])
	if len(f) < 4 {
		return 0, false
	}
	_, total, ok := bytes.Cut(f[3], []byte("/"))
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(string(total), 10, 64)
	return v, err == nil
}

// UserTasks counts the processes and threads whose real user is uid, as
// the kernel counts them for RLIMIT_NPROC, from /proc/PID/status. It sees
// only this PID namespace.
func UserTasks(uid int) int {
	d, err := os.Open("/proc")
	if err != nil {
		return 0
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	want := []byte(strconv.Itoa(uid))
	total := 0
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		f, err := os.Open("/proc/" + name + "/status")
		if err != nil {
			continue
		}
		var realUID, threads []byte
		sc := bufio.NewScanner(f)
		for sc.Scan() && (realUID == nil || threads == nil) {
			line := sc.Bytes()
			if v, ok := bytes.CutPrefix(line, []byte("Uid:")); ok {
				if fs := bytes.Fields(v); len(fs) > 0 {
					realUID = append([]byte(nil), fs[0]...)
				}
			} else if v, ok := bytes.CutPrefix(line, []byte("Threads:")); ok {
				threads = append([]byte(nil), bytes.TrimSpace(v)...)
			}
		}
		f.Close()
		if bytes.Equal(realUID, want) {
			if n, err := strconv.Atoi(string(threads)); err == nil {
				total += n
			}
		}
	}
	return total
}
