package channel

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/frame"
)

// Every descriptor made here is O_CLOEXEC, so only what a spawner passes
// in ExtraFiles reaches a child. Those an endpoint keeps are O_NONBLOCK
// too, so that they wait in the runtime poller, where deadlines and
// cancellation reach them; the ones made for a child are blocking, as
// plain programs expect.

func newPipe() (r, w *end, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC|unix.O_NONBLOCK); err != nil {
		return nil, nil, fmt.Errorf("pipe2: %w", err)
	}
	// Best effort: past the per-user limit the pipe keeps its default
	// size, which is slower but correct.
	_, _ = unix.FcntlInt(uintptr(p[1]), unix.F_SETPIPE_SZ, pipeSize)
	if r, err = newEnd(p[0], "|0"); err != nil {
		unix.Close(p[1])
		return nil, nil, err
	}
	if w, err = newEnd(p[1], "|1"); err != nil {
		r.f.Close()
		return nil, nil, err
	}
	return r, w, nil
}

// makeFIFO creates a FIFO at path and opens its read end, which keeps data
// written while no one receives and lets writers open it without ENXIO.
func makeFIFO(path string) (*end, error) {
	if err := unix.Mkfifo(path, 0o600); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	r, err := openFIFO(path, unix.O_RDONLY)
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	_ = rawControl(r.f, func(fd int) { _, _ = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, pipeSize) })
	return r, nil
}

// openFIFO opens one end of the FIFO at path without blocking: the write
// end of a FIFO no one reads fails with ENXIO instead of waiting.
func openFIFO(path string, mode int) (*end, error) {
	fd, err := unix.Open(path, mode|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, unix.ENXIO) {
			return nil, &errnoError{ErrNoReader, unix.ENXIO}
		}
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		unix.Close(fd)
		return nil, fmt.Errorf("%w: %s is not a fifo", ErrInvalid, path)
	}
	return newEnd(fd, path)
}

func bindSocket(path string) (*end, error) {
	if len(path) >= len(unix.RawSockaddrUnix{}.Path) {
		return nil, fmt.Errorf("%w: socket path %s is %d bytes, at most %d fit", ErrInvalid, path, len(path), len(unix.RawSockaddrUnix{}.Path)-1)
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "bind", Path: path, Err: err}
	}
	e, err := newEnd(fd, path)
	if err != nil {
		os.Remove(path)
	}
	return e, err
}

func connectSocket(path string) (*end, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	// Room for several full datagrams in flight; the kernel caps it.
	_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1<<20)
	if err := unix.Connect(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		var errno unix.Errno
		if errors.As(err, &errno) && (errno == unix.ECONNREFUSED || errno == unix.ENOENT) {
			return nil, &errnoError{ErrReceiverGone, errno}
		}
		return nil, &os.PathError{Op: "connect", Path: path, Err: err}
	}
	return newEnd(fd, path)
}

// reopen opens the pipe end f anew through /proc/self/fd: a new open file
// description of the same pipe, whose O_NONBLOCK flag is its own. Opening
// a pipe end this way never blocks. The result is blocking, for a child.
func reopen(f *os.File, mode int) (*os.File, error) {
	fd, err := reopenFD(f, mode)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

// reopenFD opens f's pipe anew while f's descriptor is held open, so the
// /proc path cannot come to name another file meanwhile.
func reopenFD(f *os.File, mode int) (int, error) {
	var name string
	var fd int
	var oerr error
	if err := rawControl(f, func(sysfd int) {
		name = "/proc/self/fd/" + strconv.Itoa(sysfd)
		fd, oerr = unix.Open(name, mode|unix.O_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if oerr != nil {
		return -1, &os.PathError{Op: "reopen", Path: name, Err: oerr}
	}
	return fd, nil
}

// dupFile duplicates f's descriptor (same open file description).
func dupFile(f *os.File) (int, error) {
	var fd int
	var derr error
	if err := rawControl(f, func(sysfd int) {
		fd, derr = unix.FcntlInt(uintptr(sysfd), unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return -1, err
	}
	if derr != nil {
		return -1, fmt.Errorf("dup: %w", derr)
	}
	return fd, nil
}

func rawControl(f *os.File, fn func(fd int)) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	return rc.Control(func(fd uintptr) { fn(int(fd)) })
}

// attachEnd turns a file an agent inherited into an endpoint descriptor
// of its own: a reopened pipe end, or a non-blocking duplicate of a socket.
func attachEnd(kind Kind, role Role, f *os.File) (*end, error) {
	var st unix.Stat_t
	var serr error
	if err := rawControl(f, func(fd int) { serr = unix.Fstat(fd, &st) }); err != nil {
		return nil, err
	}
	if serr != nil {
		return nil, fmt.Errorf("fstat: %w", serr)
	}
	switch kind {
	case Pipe:
		if st.Mode&unix.S_IFMT != unix.S_IFIFO {
			return nil, fmt.Errorf("%w: not a pipe", ErrInvalid)
		}
		mode := unix.O_RDONLY
		if role == WriteEnd {
			mode = unix.O_WRONLY
		}
		fd, err := reopenFD(f, mode|unix.O_NONBLOCK)
		if err != nil {
			return nil, err
		}
		return newEnd(fd, f.Name())
	case Socket:
		if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
			return nil, fmt.Errorf("%w: not a socket", ErrInvalid)
		}
		fd, err := dupFile(f)
		if err != nil {
			return nil, err
		}
		// The description is shared with the parent and may be made
		// blocking again by a later spawn; receives pass MSG_DONTWAIT
		// so that does not matter. The poller needs it non-blocking
		// now to take the descriptor.
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			return nil, fmt.Errorf("set non-blocking: %w", err)
		}
		return newEnd(fd, f.Name())
	}
	return nil, fmt.Errorf("%w: a %s channel takes no files", ErrInvalid, kind)
}

// senderGone reports whether the process that sent as s has exited (and
// may be a zombie not yet reaped). A sender in this process counts as
// alive. A PID reused by a new process reads as alive: the receive then
// times out instead of reporting the truncation.
func senderGone(s frame.Sender) bool {
	pid := s.PID()
	if pid <= 0 {
		return true
	}
	if pid == os.Getpid() {
		return false
	}
	if err := unix.Kill(pid, 0); errors.Is(err, unix.ESRCH) {
		return true
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return errors.Is(err, os.ErrNotExist)
	}
	// The state follows the last ')', which ends the command name.
	if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) {
		state := stat[i+2]
		return state == 'Z' || state == 'X'
	}
	return false
}
