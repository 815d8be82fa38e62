// Package pslist lists the host's processes for `pmrun ps` and the list
// action's `processes: all`.
//
// It reads /proc directly rather than through gopsutil's process package:
// its per-field methods each re-read /proc files (Ppid, Times and
// CreateTime each read /proc/PID/stat; Status and NumThreads read status;
// MemoryInfo reads statm), five to seven reads a process, where one read of
// /proc/PID/stat holds everything listed here but the command line. Each
// process so costs two reads, as few as ps's. Measured on a 2-core VM with
// about 90 processes (BenchmarkListing*: go test -run - -bench Listing
// ./actions/internal/pslist), listing them all took 2.4 ms here and 42 to
// 62 ms through gopsutil v4's process package. The state words are
// gopsutil's, so pmrun says what gopsutil-based tools say; the host's
// figures at the top of `pmrun ps --watch` (load, CPU, memory, uptime) do
// come from gopsutil, which reads them as quickly as reading the files
// here would.
package pslist

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// Proc is one process of the host.
type Proc struct {
	PID  int32  `json:"pid"`
	PPID int32  `json:"ppid"`
	Name string `json:"name"` // the kernel's comm: at most 15 bytes
	// Status is gopsutil's word for the state: "running", "sleep",
	// "blocked", "idle", "stop", "zombie", ….
	Status string `json:"status"`
	// CPUPercent is CPU time over wall time, of one CPU, like ps's %CPU:
	// since the process started, or over the interval [Sample] was given.
	CPUPercent float64 `json:"cpu_percent"`
	RSS        uint64  `json:"rss"` // resident set size, in bytes
	Threads    int32   `json:"threads"`
	// Cmdline is the arguments joined by spaces; empty for kernel threads.
	Cmdline string `json:"cmdline"`
}

// clockTicks is USER_HZ, the unit of the times in /proc/PID/stat. The
// kernel fixes it at 100 on every architecture Linux exports it for.
const clockTicks = 100

// List returns every process of the host, sorted by pid. A process that
// exits while it is being read is left out.
func List(ctx context.Context) ([]Proc, error) {
	pids, err := pids()
	if err != nil {
		return nil, fmt.Errorf("pslist: list pids: %w", err)
	}
	up, err := uptime()
	if err != nil {
		return nil, err
	}
	r := newReader()
	out := make([]Proc, 0, len(pids))
	for _, pid := range pids {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("pslist: %w", context.Cause(ctx))
		}
		p, st, ok := r.read(pid)
		if !ok {
			continue
		}
		if age := up - float64(st.start)/clockTicks; age > 0 {
			p.CPUPercent = float64(st.cpu) / clockTicks / age * 100
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Proc) int { return int(a.PID - b.PID) })
	return out, nil
}

// Sample is [List] with CPUPercent measured over interval instead of each
// process's lifetime, like top. It returns early with an error if ctx ends.
func Sample(ctx context.Context, interval time.Duration) ([]Proc, error) {
	pids, err := pids()
	if err != nil {
		return nil, fmt.Errorf("pslist: list pids: %w", err)
	}
	r := newReader()
	before := make(map[int32]uint64, len(pids))
	for _, pid := range pids {
		if st, ok := r.stat(pid); ok {
			before[pid] = st.cpu
		}
	}
	t0 := time.Now()
	timer := time.NewTimer(interval)
	select {
	case <-ctx.Done():
		timer.Stop()
		return nil, fmt.Errorf("pslist: sample: %w", context.Cause(ctx))
	case <-timer.C:
	}
	out, err := List(ctx)
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(t0).Seconds()
	for i, p := range out {
		st, ok := r.stat(p.PID)
		cpu0, seen := before[p.PID]
		if !ok || !seen || st.cpu < cpu0 {
			continue // new since the first look (or a reused pid): keep its lifetime figure
		}
		out[i].CPUPercent = float64(st.cpu-cpu0) / clockTicks / elapsed * 100
	}
	return out, nil
}

// pids lists the numeric entries of /proc.
func pids() ([]int32, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, err
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, err
	}
	out := make([]int32, 0, len(names))
	for _, name := range names {
		if name[0] < '0' || name[0] > '9' {
			continue
		}
		if pid, err := strconv.ParseInt(name, 10, 32); err == nil {
			out = append(out, int32(pid))
		}
	}
	return out, nil
}

// uptime returns the seconds since boot, to the hundredth, as ps uses it;
// gopsutil's host.Uptime is whole seconds, too coarse for young processes.
func uptime() (float64, error) {
	b, err := os.ReadFile("/proc/uptime")
	if err != nil {
		return 0, fmt.Errorf("pslist: %w", err)
	}
	f, _, _ := bytes.Cut(b, []byte(" "))
	up, err := strconv.ParseFloat(string(f), 64)
	if err != nil {
		return 0, fmt.Errorf("pslist: /proc/uptime: %w", err)
	}
	return up, nil
}

// reader reads /proc files into one reused buffer.
type reader struct {
	buf      []byte
	pageSize uint64
}

func newReader() *reader {
	return &reader{buf: make([]byte, 4096), pageSize: uint64(os.Getpagesize())}
}

// stat is what List needs from /proc/PID/stat beyond Proc's fields.
type stat struct {
	cpu   uint64 // utime + stime, in clock ticks
	start uint64 // start time after boot, in clock ticks
}

var errGone = errors.New("process gone")

// read returns the process's fields, or false if it is gone.
func (r *reader) read(pid int32) (Proc, stat, bool) {
	b, err := r.file(pid, "stat")
	if err != nil {
		return Proc{}, stat{}, false
	}
	p, st, ok := parseStat(b, r.pageSize)
	if !ok {
		return Proc{}, stat{}, false
	}
	p.PID = pid
	b, err = r.file(pid, "cmdline")
	if err != nil {
		return Proc{}, stat{}, false
	}
	b = bytes.TrimRight(b, "\x00")
	for i, c := range b {
		if c == 0 {
			b[i] = ' '
		}
	}
	p.Cmdline = string(b)
	return p, st, true
}

func (r *reader) stat(pid int32) (stat, bool) {
	b, err := r.file(pid, "stat")
	if err != nil {
		return stat{}, false
	}
	_, st, ok := parseStat(b, r.pageSize)
	return st, ok
}

// file reads /proc/PID/name whole, growing the buffer as needed. The
// result is valid until the next call.
func (r *reader) file(pid int32, name string) ([]byte, error) {
	fd, err := unix.Open("/proc/"+strconv.Itoa(int(pid))+"/"+name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, errGone
	}
	defer unix.Close(fd)
	n := 0
	for {
		if n == len(r.buf) {
			r.buf = slices.Grow(r.buf[:n], n)[:2*n]
		}
		m, err := unix.Read(fd, r.buf[n:])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, errGone // ESRCH: exited between open and read
		}
		if m == 0 {
			return r.buf[:n], nil
		}
		n += m
	}
}

// parseStat reads /proc/PID/stat (proc(5)): "pid (comm) state ppid …".
// comm may hold spaces and parentheses, so the fields start after the last
// ')'.
func parseStat(b []byte, pageSize uint64) (Proc, stat, bool) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 0 || end < open || end+2 >= len(b) {
		return Proc{}, stat{}, false
	}
	p := Proc{Name: string(b[open+1 : end])}
	// fields[0] is field 3 of proc(5), the state.
	var fields [22][]byte
	n := 0
	for f := range bytes.FieldsSeq(b[end+1:]) {
		if n == len(fields) {
			break
		}
		fields[n] = f
		n++
	}
	if n < len(fields) || len(fields[0]) != 1 {
		return Proc{}, stat{}, false
	}
	num := func(i int) uint64 {
		v, _ := strconv.ParseUint(string(fields[i]), 10, 64)
		return v
	}
	p.Status = statusWord(fields[0][0])
	p.PPID = int32(num(1))
	p.Threads = int32(num(17))
	p.RSS = num(21) * pageSize
	st := stat{cpu: num(11) + num(12), start: num(19)}
	return p, st, true
}

// The words of Proc.Status: gopsutil's process.Running, process.Sleep, ….
const (
	Running = "running"
	Sleep   = "sleep"
	Blocked = "blocked" // uninterruptible sleep, ps's D
	Idle    = "idle"    // idle kernel thread, ps's I
	Stop    = "stop"
	Zombie  = "zombie"
	Wait    = "wait"
	Unknown = ""
)

// statusWord names a state letter of proc(5).
func statusWord(c byte) string {
	switch c {
	case 'R':
		return Running
	case 'S':
		return Sleep
	case 'D':
		return Blocked
	case 'I':
		return Idle
	case 'T', 't':
		return Stop
	case 'Z', 'X':
		return Zombie
	case 'W':
		return Wait
	default:
		return Unknown
	}
}
