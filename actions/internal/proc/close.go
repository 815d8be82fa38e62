package proc

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// closePoll bounds how long Close sleeps between looks at what is left:
// nothing tells us when an orphan is reparented to us.
const closePoll = 50 * time.Millisecond

// Close stops the table for good: later Starts fail with [ErrClosed]. It
// sends SIGTERM to the group of every process still running, SIGKILL after
// grace, and waits until they are reaped and their output collected.
// Grandchildren are included: those in a child's group get the group's
// signals, and any process reparented to pmrun (it is their subreaper) that
// no other open table claims is signalled on its own. Exited processes stay
// in the table, so Wait and List still answer after Close.
//
// If ctx ends first, Close returns an error saying how many processes
// remain; calling it again continues with SIGKILL.
func (t *Table) Close(ctx context.Context, grace time.Duration) error {
	e := t.e
	e.mu.Lock()
	t.closed = true
	e.mu.Unlock()

	self := os.Getpid()
	termed := make(map[int]bool) // targets that already had SIGTERM
	killAt := time.Now().Add(grace)
	for {
		kill := !time.Now().Before(killAt)
		e.mu.Lock()
		pending, targets, zombies := t.remainingLocked(self)
		for _, target := range targets {
			switch {
			case kill:
				unix.Kill(target, unix.SIGKILL)
			case !termed[target]:
				unix.Kill(target, unix.SIGTERM)
				termed[target] = true
			}
		}
		reaped := e.reaped
		if len(pending) == 0 && len(targets) == 0 && zombies == 0 {
			delete(e.tables, t)
			e.mu.Unlock()
			return nil
		}
		e.mu.Unlock()

		var first <-chan struct{}
		if len(pending) > 0 {
			first = pending[0].done
		}
		sleep := closePoll
		if !kill {
			sleep = min(sleep, time.Until(killAt))
		}
		timer := time.NewTimer(sleep)
		select {
		case <-reaped:
		case <-first:
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("close process table: %d processes and %d other descendants left: %w",
				len(pending), max(len(targets)-len(pending), 0), context.Cause(ctx))
		}
		timer.Stop()
	}
}

// remainingLocked returns the table's processes that are not done yet, and
// what to signal: the group of each such process still unreaped (negative
// pid), and each orphan reparented to us that no other table claims; and
// how many such orphans are dead but not yet reaped. Holding e.mu keeps the
// reaper out, so none of these pids can be reaped, and reused, before the
// caller has signalled them.
func (t *Table) remainingLocked(self int) (pending []*Process, targets []int, zombies int) {
	for _, p := range t.order {
		select {
		case <-p.done:
			continue
		default:
		}
		pending = append(pending, p)
		if p.pid != 0 && !p.exited {
			targets = append(targets, -p.pgid)
		}
	}
	for _, c := range childrenOf(self) {
		if t.e.byPid[c.pid] != nil || t.e.claimedElsewhereLocked(t, c.pgid) || t.e.isGuard(c.pid) {
			continue // a table's child (ours are in targets), another's orphan, or the guard
		}
		if c.zombie {
			zombies++ // the reaper takes it as soon as we let go of e.mu
			continue
		}
		targets = append(targets, c.pid)
	}
	return pending, targets, zombies
}

// isGuard reports whether pid is the guard, which must outlive us.
func (e *engine) isGuard(pid int) bool { return e.guard != nil && e.guard.PID() == pid }

// claimedElsewhereLocked reports whether another open table created the
// group pgid, so an orphan in it is that table's to clean up.
func (e *engine) claimedElsewhereLocked(t *Table, pgid int) bool {
	for other := range e.tables {
		if other == t || other.closed {
			continue
		}
		if _, ok := other.pgids[pgid]; ok {
			return true
		}
	}
	return false
}

// child is a direct child of some process, as /proc shows it.
type child struct {
	pid, pgid int
	zombie    bool
}

// childrenOf scans /proc for the children of ppid. The kernel's
// /proc/PID/task/TID/children needs CONFIG_PROC_CHILDREN, which not every
// kernel has, so this reads each process's stat instead.
func childrenOf(ppid int) []child {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	var out []child
	buf := make([]byte, 1024)
	for _, name := range names {
		pid, err := strconv.Atoi(name)
		if err != nil {
			continue
		}
		st, ok := readStat(pid, buf)
		if ok && st.ppid == ppid {
			out = append(out, child{pid: pid, pgid: st.pgid, zombie: st.state == 'Z'})
		}
	}
	return out
}

type procStat struct {
	state      byte
	ppid, pgid int
}

// readStat reads the fields after the command name in /proc/PID/stat; the
// name may hold spaces and parentheses, so parsing starts at the last ')'.
func readStat(pid int, buf []byte) (procStat, bool) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return procStat{}, false // gone already
	}
	n, err := unix.Read(fd, buf)
	unix.Close(fd)
	if err != nil || n <= 0 {
		return procStat{}, false
	}
	b := buf[:n]
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 3 || len(f[0]) != 1 {
		return procStat{}, false
	}
	ppid, err1 := strconv.Atoi(string(f[1]))
	pgid, err2 := strconv.Atoi(string(f[2]))
	if err1 != nil || err2 != nil {
		return procStat{}, false
	}
	return procStat{state: f[0][0], ppid: ppid, pgid: pgid}, true
}
