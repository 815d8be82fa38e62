package points

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/proc"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// Proc is one of the processes: its name (a thread of the schedule) and
// the command line /bin/sh runs.
type Proc struct {
	Name, Cmd string
}

// Config is what a scripts step runs.
type Config struct {
	// Name names the system in schedules ("scripts" by default).
	Name string
	// Procs are the processes, started in this order.
	Procs []Proc
	// Env is added to each process's environment.
	Env map[string]string
	// ExpectExit is the status every process must end with.
	ExpectExit int
	// ExpectStdout, by a process's name, is what its standard output (its
	// last 64 KiB) must match somewhere.
	ExpectStdout map[string]*regexp.Regexp
	// Timeout bounds one run; Watchdog, how long a process let go may
	// take to stop at a point or end before it is let run free.
	Timeout, Watchdog time.Duration
}

// Defaults.
const (
	DefaultTimeout  = 30 * time.Second
	DefaultWatchdog = 3 * time.Second
	shrinkRuns      = 40
)

// Threads are the processes of a Config as package engine drives them:
// each Start runs them anew, one at a time between points.
type Threads struct {
	cfg  Config
	ctx  context.Context
	base string // the socket and the runs' folders
	sock string
	ln   *net.UnixListener
	box  mailbox
	cur  *run
	n    int // runs started
	wg   sync.WaitGroup
}

var (
	_ engine.Threads  = (*Threads)(nil)
	_ engine.Executed = (*Threads)(nil)
	_ engine.Run      = (*run)(nil)
)

// New checks cfg and listens on the socket of its processes' points.
func New(ctx context.Context, cfg Config) (*Threads, error) {
	if len(cfg.Procs) == 0 {
		return nil, errors.New("points: no process to run")
	}
	seen := map[string]bool{}
	for _, p := range cfg.Procs {
		if p.Name == "" || strings.TrimSpace(p.Cmd) == "" {
			return nil, fmt.Errorf("points: process %q needs a name and a command", p.Name)
		}
		if seen[p.Name] {
			return nil, fmt.Errorf("points: two processes are named %s", p.Name)
		}
		seen[p.Name] = true
	}
	if cfg.Name == "" {
		cfg.Name = "scripts"
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Watchdog <= 0 {
		cfg.Watchdog = DefaultWatchdog
	}
	base, err := os.MkdirTemp("", "pmrun-points-")
	if err != nil {
		return nil, fmt.Errorf("points: %w", err)
	}
	th := &Threads{cfg: cfg, ctx: ctx, base: base, sock: filepath.Join(base, "sock")}
	th.box.ready = make(chan struct{}, 1)
	th.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: th.sock, Net: "unix"})
	if err != nil {
		os.RemoveAll(base)
		return nil, fmt.Errorf("points: cannot listen for points: %w", err)
	}
	th.wg.Add(1)
	go th.accept()
	return th, nil
}

// event is a process stopped at a point (conn set) or ended.
type event struct {
	run, proc int
	point     string
	at        program.Pos // where the process is, when it said
	conn      net.Conn
	ended     bool
	exit      proc.Exit
}

// mailbox passes events from the listener and the processes' ends to the
// run, which takes them one at a time.
type mailbox struct {
	mu    sync.Mutex
	q     []event
	ready chan struct{}
}

func (m *mailbox) put(e event) {
	m.mu.Lock()
	m.q = append(m.q, e)
	m.mu.Unlock()
	select {
	case m.ready <- struct{}{}:
	default:
	}
}

// take returns the next event, waiting until deadline; ok is false when
// none came (or ctx ended).
func (m *mailbox) take(ctx context.Context, deadline time.Time) (event, bool) {
	t := time.NewTimer(time.Until(deadline))
	defer t.Stop()
	for {
		m.mu.Lock()
		if len(m.q) > 0 {
			e := m.q[0]
			m.q = m.q[1:]
			m.mu.Unlock()
			return e, true
		}
		m.mu.Unlock()
		select {
		case <-m.ready:
		case <-t.C:
			return event{}, false
		case <-ctx.Done():
			return event{}, false
		}
	}
}

// accept takes the points' connections until the listener closes.
func (th *Threads) accept() {
	defer th.wg.Done()
	for {
		conn, err := th.ln.Accept()
		if err != nil {
			return
		}
		th.wg.Add(1)
		go func() {
			defer th.wg.Done()
			th.read(conn)
		}()
	}
}

// read reads a point's request and passes it on; a bad one is answered
// with an error.
func (th *Threads) read(conn net.Conn) {
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := bufio.NewReaderSize(conn, 512).ReadString('\n')
	conn.SetReadDeadline(time.Time{})
	refuse := func(msg string) {
		fmt.Fprintf(conn, "error %s\n", msg)
		conn.Close()
	}
	if err != nil {
		refuse("want one line: point ID NAME")
		return
	}
	rest, ok := strings.CutPrefix(strings.TrimSuffix(line, "\n"), "point ")
	id, name, ok2 := strings.Cut(rest, " ")
	if !ok || !ok2 {
		refuse(fmt.Sprintf("want point ID NAME, not %q", strings.TrimSpace(line)))
		return
	}
	name, place, _ := strings.Cut(name, "\t")
	if err := checkName(name); err != nil {
		refuse(err.Error())
		return
	}
	at, err := ParseAt(place)
	if err != nil {
		refuse("after the tab: " + err.Error())
		return
	}
	r, p, ok := parseID(id)
	if !ok || p >= len(th.cfg.Procs) {
		refuse(fmt.Sprintf("unknown process %q (%s)", id, EnvID))
		return
	}
	th.box.put(event{run: r, proc: p, point: name, at: at, conn: conn})
}

// id is PMRUN_POINT_ID for process p of run r.
func id(r, p int) string { return fmt.Sprintf("%d.%d", r, p) }

func parseID(s string) (r, p int, ok bool) {
	a, b, ok := strings.Cut(s, ".")
	r, err1 := strconv.Atoi(a)
	p, err2 := strconv.Atoi(b)
	return r, p, ok && err1 == nil && err2 == nil && r >= 0 && p >= 0
}

// ShrinkRuns: each shrink candidate runs the processes anew.
func (th *Threads) ShrinkRuns() int { return shrinkRuns }

// Names are the processes' names.
func (th *Threads) Names() []string {
	names := make([]string, len(th.cfg.Procs))
	for i, p := range th.cfg.Procs {
		names[i] = p.Name
	}
	return names
}

// Identity is the step's name and a hash of its processes' commands: a
// schedule made for other commands is refused.
func (th *Threads) Identity() engine.Identity {
	h := fnv.New64a()
	for _, p := range th.cfg.Procs {
		fmt.Fprintf(h, "%s\x00%s\x00", p.Name, p.Cmd)
	}
	return engine.Identity{Name: th.cfg.Name, Hash: fmt.Sprintf("%016x", h.Sum64())}
}

// Drive carries d out on the caller's goroutine: a step lets a process
// go and waits for it to stop again.
func (th *Threads) Drive(ctx context.Context, d engine.Driver, _ time.Duration) error {
	outer := th.ctx
	th.ctx = ctx
	defer func() { th.ctx = outer }()
	for {
		if ctx.Err() != nil {
			return fmt.Errorf("points: stopped: %w", context.Cause(ctx))
		}
		t := d.Next()
		if t < 0 {
			return nil
		}
		d.Step(t)
	}
}

// OS are the processes and their process ids.
func (th *Threads) OS() []engine.Thread {
	out := make([]engine.Thread, len(th.cfg.Procs))
	for i, p := range th.cfg.Procs {
		out[i].Name = p.Name
		if th.cur != nil && th.cur.procs[i].p != nil {
			out[i].TID = th.cur.procs[i].p.PID()
		}
	}
	return out
}

// Shown is what the last run left: its notes, and how each process
// exited.
func (th *Threads) Shown() (notes []string, exits []proc.Exit) {
	if th.cur == nil {
		return nil, nil
	}
	for _, p := range th.cur.procs {
		exits = append(exits, p.exit)
	}
	return th.cur.notes, exits
}

// Close ends the last run and stops listening.
func (th *Threads) Close() error {
	if th.cur != nil {
		th.cur.close()
	}
	th.ln.Close()
	th.wg.Wait()
	for _, e := range th.box.q {
		if e.conn != nil {
			e.conn.Close()
		}
	}
	return os.RemoveAll(th.base)
}
