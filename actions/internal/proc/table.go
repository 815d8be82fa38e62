// Package proc keeps the table of the child processes one pmrun run starts:
// it spawns them, collects their output and exit statuses, signals their
// process groups and cleans up everything they leave behind.
//
// pmrun is a child subreaper (PR_SET_CHILD_SUBREAPER), so orphaned
// grandchildren are reparented to it. It reaps with wait4(-1), under one
// lock, from two triggers: a child's pidfd turning readable (watched with
// its output pipes by one epoll set) and SIGCHLD, which is what an orphan's
// exit raises. That is the only reaping the process may have: a program
// that uses this package must not start children any other way (os/exec,
// os.StartProcess), because their Wait would race with it and lose.
//
// Children are forked from one OS thread locked for good, because the
// kernel sends Pdeathsig when the forking thread ends, not the process.
// Pdeathsig reaches the children only; every child also carries the mark
// of this process's guard (package guard) in its environment, so that
// after a SIGKILL of pmrun the guard finds and kills its descendants too.
// Under a process limit (package nproc) Start fails before it forks.
package proc

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/nproc"
)

// Errors returned by [Table] methods, matched with errors.Is.
var (
	// ErrDuplicate means a process of that name was already started by the table.
	ErrDuplicate = errors.New("process name already in use")
	// ErrUnknown means the table has no process of that name.
	ErrUnknown = errors.New("no such process")
	// ErrClosed means the table was closed.
	ErrClosed = errors.New("process table closed")
)

// DefaultWaitDelay is how long, after a child exits, its output pipes may
// stay open (held by a grandchild) before [Table.Wait] stops waiting for them.
const DefaultWaitDelay = time.Second

// Options tune a [Table].
type Options struct {
	// WaitDelay bounds the wait for a child's output to reach EOF once the
	// child itself has exited, like exec.Cmd.WaitDelay; 0 means
	// [DefaultWaitDelay].
	WaitDelay time.Duration
}

// Table is the set of processes one run started. Its methods are safe for
// concurrent use. Several tables may exist in one process (they share the
// one reaper); each cleans up only its own processes.
type Table struct {
	e         *engine
	waitDelay time.Duration

	// Guarded by e.mu.
	byName map[string]*Process
	order  []*Process       // in start order, for List
	pgids  map[int]struct{} // every group this table created, to claim orphans
	closed bool
}

// NewTable makes the process a child subreaper, starts the reaper on first
// use and returns an empty table.
func NewTable(opts Options) (*Table, error) {
	e, err := getEngine()
	if err != nil {
		return nil, err
	}
	if opts.WaitDelay <= 0 {
		opts.WaitDelay = DefaultWaitDelay
	}
	t := &Table{
		e:         e,
		waitDelay: opts.WaitDelay,
		byName:    make(map[string]*Process),
		pgids:     make(map[int]struct{}),
	}
	e.mu.Lock()
	e.tables[t] = struct{}{}
	e.mu.Unlock()
	return t, nil
}

// Spec describes a process to start.
type Spec struct {
	// Name identifies the process in the table; it must be unique.
	Name string
	// Argv is the command and its arguments, run without a shell. A command
	// without a slash is looked up in $PATH.
	Argv []string
	// Shell, when Argv is empty, is a command line run by /bin/sh -c.
	Shell string
	// Env is added to the runner's environment, replacing variables of the
	// same name.
	Env map[string]string
	// Dir is the working directory; empty means the runner's.
	Dir string
	// Stdin is written to the child's standard input, which is then closed.
	// Empty means /dev/null.
	Stdin string
	// ExtraFiles become file descriptors 3, 4, … in the child. The caller
	// keeps ownership and may close them once Start returns.
	ExtraFiles []*os.File
	// OnOutput, if set, receives every line of stdout and stderr (stream is
	// "stdout" or "stderr"), without its newline; a line longer than 64 KiB
	// comes cut to its first 64 KiB with truncated set, and the rest of it
	// never comes (Exit's tails keep it all the same). It is called from the
	// one goroutine that reads every child's output, so it must return
	// quickly and must not call back into the Table; line is only valid
	// during the call.
	OnOutput func(stream string, line []byte, truncated bool)
	// OnStart, if set, is called once the process runs, before anything of
	// it (an output line, its exit) can be reported: from the spawning
	// thread with the table's lock held, so it must return quickly and
	// must not call back into the Table (p's PID, PGID and Name are fine).
	// An event it logs comes before every other event of the process.
	OnStart func(p *Process)
	// OnExit, if set, is called once the process has exited and its output
	// is collected, just before Done is closed: with the table's lock
	// held, so like OnOutput it must return quickly and must not call back
	// into the Table (p's PID and Name are fine). It spares the caller a
	// goroutine a process just to learn of its end.
	OnExit func(p *Process, e Exit)
}

// SpawnError reports a process that could not be started, with the reason
// the operating system gave.
type SpawnError struct {
	Name string // the process name from the Spec
	Op   string // "exec" or "chdir"
	Path string
	Err  error
}

func (e *SpawnError) Error() string {
	return fmt.Sprintf("spawn %q: %s %s: %v", e.Name, e.Op, e.Path, e.Err)
}

// Unwrap returns the underlying error, often a syscall.Errno.
func (e *SpawnError) Unwrap() error { return e.Err }

// Is makes a command not found in $PATH match fs.ErrNotExist too, like a
// missing file given by path does.
func (e *SpawnError) Is(target error) bool {
	return target == fs.ErrNotExist && errors.Is(e.Err, exec.ErrNotFound)
}

// State is what a process in the table is doing.
type State string

// The states of [Info.State].
const (
	Running State = "running"
	Exited  State = "exited" // on its own; see Info.ExitCode
	Killed  State = "killed" // by a signal; see Info.Signal
)

// Info describes a process of the table.
type Info struct {
	Name     string
	PID      int
	PGID     int
	Started  time.Time
	State    State
	ExitCode int    // valid when State is Exited
	Signal   string // valid when State is Killed, e.g. "SIGKILL"
}

// Exit is how a process ended.
type Exit struct {
	// ExitCode is the status passed to exit, or -1 when a signal killed it.
	ExitCode int
	// Signal names the signal that killed it ("SIGKILL"), or is empty.
	Signal string
	// Success is true for exit code 0.
	Success bool
	// Stdout and Stderr are the last 64 KiB of each.
	Stdout, Stderr string
	// Runtime is the time from start to exit.
	Runtime time.Duration
	// CPUUser and CPUSystem come from the child's rusage, and so include
	// the children it waited for.
	CPUUser, CPUSystem time.Duration
	// MaxRSS is the peak resident set size, in bytes.
	MaxRSS int64
}

// Process is one child of a [Table].
type Process struct {
	t        *Table
	name     string
	started  time.Time
	onOutput func(stream string, line []byte, truncated bool)
	onStart  func(p *Process)
	onExit   func(p *Process, e Exit)
	stdout   stream
	stderr   stream

	// Set by the spawner under e.mu; fixed once Start returns.
	pid, pgid int
	pidfd     int // -1 once reaped, or if the kernel gave none

	// Guarded by t.e.mu.
	open   int // output streams not yet at EOF
	exited bool
	status unix.WaitStatus
	rusage unix.Rusage
	ended  time.Time
	delay  *time.Timer // WaitDelay for the output after exit

	exit Exit          // set before done is closed
	done chan struct{} // closed when exited and output is complete
}

// Name returns the name the process was started under.
func (p *Process) Name() string { return p.name }

// PID returns the process id.
func (p *Process) PID() int { return p.pid }

// PGID returns the process group id; every process leads its own group.
func (p *Process) PGID() int { return p.pgid }

// Started returns when the process was started.
func (p *Process) Started() time.Time { return p.started }

// Done is closed once the process has exited and its output is collected.
func (p *Process) Done() <-chan struct{} { return p.done }

// Start starts a process and returns once it has exec'd. The child leads a
// new process group and gets SIGKILL if pmrun dies. If exec fails the error
// is a [*SpawnError] carrying the OS's reason, so errors.Is(err,
// fs.ErrNotExist) and errors.Is(err, fs.ErrPermission) work.
func (t *Table) Start(spec Spec) (*Process, error) {
	argv := spec.Argv
	if len(argv) == 0 {
		if spec.Shell == "" {
			return nil, fmt.Errorf("spawn %q: no command", spec.Name)
		}
		argv = []string{"/bin/sh", "-c", spec.Shell}
	}
	if spec.Name == "" {
		return nil, fmt.Errorf("spawn %s: empty process name", argv[0])
	}
	path := argv[0]
	if !strings.Contains(path, "/") {
		lp, err := exec.LookPath(path)
		if err != nil {
			if errors.Is(err, exec.ErrNotFound) {
				err = exec.ErrNotFound // the wrapper would repeat the name
			}
			return nil, &SpawnError{Name: spec.Name, Op: "exec", Path: path, Err: err}
		}
		path = lp
	}
	if spec.Dir != "" {
		// ForkExec reports a bad directory with the same errno as a missing
		// binary; check first so the error names the right culprit.
		fi, err := os.Stat(spec.Dir)
		if err != nil {
			return nil, &SpawnError{Name: spec.Name, Op: "chdir", Path: spec.Dir, Err: errors.Unwrap(err)}
		}
		if !fi.IsDir() {
			return nil, &SpawnError{Name: spec.Name, Op: "chdir", Path: spec.Dir, Err: syscall.ENOTDIR}
		}
	}
	if i := slices.Index(spec.ExtraFiles, nil); i >= 0 {
		return nil, fmt.Errorf("spawn %q: extra file %d is nil", spec.Name, i)
	}
	// Under a process limit, fail here rather than let a Go runtime, ours
	// or the child's, abort for want of a thread.
	if err := nproc.Check(tasksAtStart(argv)); err != nil {
		return nil, &SpawnError{Name: spec.Name, Op: "fork", Path: path, Err: err}
	}

	p := &Process{
		t:        t,
		name:     spec.Name,
		onOutput: spec.OnOutput,
		onStart:  spec.OnStart,
		onExit:   spec.OnExit,
		open:     2,
		pidfd:    -1,
		done:     make(chan struct{}),
	}
	p.stdout = stream{name: "stdout", p: p, fd: -1}
	p.stderr = stream{name: "stderr", p: p, fd: -1}
	if err := t.reserve(p); err != nil {
		return nil, err
	}
	if err := t.spawn(p, path, argv, spec); err != nil {
		t.release(p)
		return nil, err
	}
	return p, nil
}

// reserve claims the name, so two concurrent Starts cannot both get it.
func (t *Table) reserve(p *Process) error {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	if t.closed {
		return fmt.Errorf("spawn %q: %w", p.name, ErrClosed)
	}
	if _, dup := t.byName[p.name]; dup {
		return fmt.Errorf("spawn %q: %w", p.name, ErrDuplicate)
	}
	t.byName[p.name] = p
	t.order = append(t.order, p)
	return nil
}

func (t *Table) release(p *Process) {
	t.e.mu.Lock()
	defer t.e.mu.Unlock()
	delete(t.byName, p.name)
	if i := slices.Index(t.order, p); i >= 0 {
		t.order = slices.Delete(t.order, i, i+1)
	}
	close(p.done) // Close may be waiting for this reservation
}

// spawn does the fork and exec and wires up the pipes; on error nothing is
// left open.
func (t *Table) spawn(p *Process, path string, argv []string, spec Spec) (err error) {
	fail := func(op string, err error) error {
		return fmt.Errorf("spawn %q: %s: %w", p.name, op, err)
	}
	var out, errp [2]int
	if err := unix.Pipe2(out[:], unix.O_CLOEXEC); err != nil {
		return fail("pipe", err)
	}
	if err := unix.Pipe2(errp[:], unix.O_CLOEXEC); err != nil {
		closeFDs(out[0], out[1])
		return fail("pipe", err)
	}
	// Known before the fork, so that nothing the reaper or the pump does
	// for this child can see them change.
	p.stdout.fd, p.stderr.fd = out[0], errp[0]
	stdin, input, rest, err := t.stdinPipe(spec.Stdin)
	if err != nil {
		closeFDs(out[0], out[1], errp[0], errp[1])
		return fail("stdin pipe", err)
	}
	files := make([]uintptr, 3, 3+len(spec.ExtraFiles))
	files[0], files[1], files[2] = stdin, uintptr(out[1]), uintptr(errp[1])
	for _, f := range spec.ExtraFiles {
		files = append(files, f.Fd())
	}
	req := &spawnRequest{
		path: path,
		argv: argv,
		attr: syscall.ProcAttr{
			Dir:   spec.Dir,
			Env:   environ(spec.Env, t.e.mark),
			Files: files,
			Sys: &syscall.SysProcAttr{
				Setpgid:   true,
				Pdeathsig: syscall.SIGKILL,
				PidFD:     &p.pidfd, // clone(CLONE_PIDFD): no extra syscall
			},
		},
		p:   p,
		err: make(chan error, 1),
	}
	p.started = time.Now()
	t.e.spawns <- req
	err = <-req.err
	runtime.KeepAlive(spec.ExtraFiles) // their fds were passed as numbers
	// The child has its copies (or never will); ours would only hide EOF.
	closeFDs(out[1], errp[1])
	if stdin != t.e.devNull {
		closeFDs(int(stdin))
	}
	if err != nil {
		closeFDs(out[0], errp[0])
		if input != nil {
			input.Close()
		}
		op := "exec"
		if errors.Is(err, syscall.EAGAIN) {
			op, err = "fork", nproc.Explain(err, 1)
		}
		return &SpawnError{Name: p.name, Op: op, Path: path, Err: err}
	}

	t.e.mu.Lock()
	t.pgids[p.pgid] = struct{}{}
	t.e.mu.Unlock()
	if input != nil {
		go feed(input, rest)
	}
	for _, s := range []*stream{&p.stdout, &p.stderr} {
		err := unix.SetNonblock(s.fd, true)
		if err == nil {
			err = t.e.pump.add(s)
		}
		if err != nil {
			// Cannot happen short of running out of memory; the child is
			// running, so account for the stream as closed rather than fail.
			closeFDs(s.fd)
			p.streamClosed()
		}
	}
	return nil
}

// tasksAtStart is how many threads a child has once started: a Go
// program's runtime starts several at once, and this binary re-executed
// (an agent) is one.
func tasksAtStart(argv []string) int {
	if argv[0] == "/proc/self/exe" {
		return 6
	}
	return 1
}

// stdinPipe returns the fd the child reads as stdin. Input that fits in the
// pipe is written right away, so most children need no feeding goroutine;
// what did not fit comes back with the pipe's write end, to [feed].
func (t *Table) stdinPipe(data string) (fd uintptr, w *os.File, rest string, err error) {
	if data == "" {
		return t.e.devNull, nil, "", nil
	}
	var fds [2]int
	if err := unix.Pipe2(fds[:], unix.O_CLOEXEC); err != nil {
		return 0, nil, "", err
	}
	// Non-blocking on our end only: the two ends are separate open files.
	if err := unix.SetNonblock(fds[1], true); err != nil {
		closeFDs(fds[0], fds[1])
		return 0, nil, "", err
	}
	n, err := unix.Write(fds[1], []byte(data))
	if err != nil && err != unix.EAGAIN {
		closeFDs(fds[0], fds[1])
		return 0, nil, "", err
	}
	n = max(n, 0)
	if n == len(data) {
		closeFDs(fds[1])
		return uintptr(fds[0]), nil, "", nil
	}
	// os.NewFile sees the fd is non-blocking and uses the poller, so the
	// feeding goroutine parks instead of holding a thread.
	return uintptr(fds[0]), os.NewFile(uintptr(fds[1]), "stdin"), data[n:], nil
}

// feed writes the rest of stdin and closes it. It ends once the child has
// read everything or exited (EPIPE), so it does not outlive the child.
func feed(w *os.File, rest string) {
	w.WriteString(rest)
	w.Close()
}

// environ is the runner's environment with extra set, and mark (the
// guard's NAME=token, if any) last, so that the child and everything it
// starts can be found by the guard.
func environ(extra map[string]string, mark string) []string {
	env := os.Environ()
	if len(extra) == 0 && mark == "" {
		return env
	}
	markName, _, _ := strings.Cut(mark, "=")
	// Drop the runner's variables that are overridden: libc's getenv
	// returns the first match, so appending alone would not override.
	env = slices.DeleteFunc(env, func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		_, over := extra[k]
		return over || (mark != "" && k == markName)
	})
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if mark == "" || k != markName {
			env = append(env, k+"="+extra[k])
		}
	}
	if mark != "" {
		env = append(env, mark)
	}
	return env
}

func closeFDs(fds ...int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}
