package proc

import (
	"bytes"
	"fmt"
	"os"
	"sync"

	"golang.org/x/sys/unix"
)

const (
	// tailSize is how much of each output stream is kept for [Exit].
	tailSize = 64 << 10
	// maxLine caps a line handed to OnOutput (and so logged); the README
	// promises it. A longer line is cut and marked truncated, so a child
	// writing one endless line costs neither memory nor log beyond it.
	maxLine = 64 << 10
)

// pump reads the stdout and stderr pipes of every child on one goroutine
// with one epoll set and one read buffer. A goroutine and a buffer per pipe
// would cost tens of KiB per child; with a thousand children alive that is
// most of the 30 MiB budget of the runner's memory row (make bench;
// docs/ARCHITECTURE.md).
type pump struct {
	epfd int
	wake int // eventfd: forceClose requests are pending

	// onExit reaps; it is called when a child's pidfd turns readable.
	onExit func()

	mu      sync.Mutex
	streams map[int32]*stream  // by read fd; guards the map only
	exits   map[int32]struct{} // pidfds of children not yet reaped
	closing []*stream          // streams to close before EOF (WaitDelay ran out)
}

// stream is one output pipe of one child. Everything but fd is owned by
// the pump goroutine until the stream is closed, and read by Wait only after.
type stream struct {
	fd   int
	name string // "stdout" or "stderr"
	p    *Process
	tail tail
	line []byte // partial line; used only when the process has OnOutput
	skip bool   // the line was cut at maxLine: drop until its newline
}

func newPump(onExit func()) (*pump, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("proc: epoll_create1: %w", err)
	}
	// Non-blocking, so that os.NewFile hands it to the runtime's poller.
	if err := unix.SetNonblock(epfd, true); err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("proc: epoll fd: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("proc: eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(wake)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, fmt.Errorf("proc: epoll_ctl eventfd: %w", err)
	}
	return &pump{
		epfd:    epfd,
		wake:    wake,
		onExit:  onExit,
		streams: make(map[int32]*stream),
		exits:   make(map[int32]struct{}),
	}, nil
}

// watchExit reaps as soon as the child behind pidfd exits. The child's exit
// then wakes this one thread for its output and its status alike, instead
// of also going through SIGCHLD's relay of signal handler, os/signal and
// reaper goroutines: on two cores that relay cost a fifth of a spawn+wait.
// SIGCHLD still reaps grandchildren, which have no pidfd here.
func (pp *pump) watchExit(pidfd int) error {
	pp.mu.Lock()
	pp.exits[int32(pidfd)] = struct{}{}
	pp.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(pidfd)}
	if err := unix.EpollCtl(pp.epfd, unix.EPOLL_CTL_ADD, pidfd, &ev); err != nil {
		pp.mu.Lock()
		delete(pp.exits, int32(pidfd))
		pp.mu.Unlock()
		return fmt.Errorf("proc: epoll_ctl pidfd: %w", err)
	}
	return nil
}

// unwatchExit closes pidfd once its child is reaped.
func (pp *pump) unwatchExit(pidfd int) {
	pp.mu.Lock()
	delete(pp.exits, int32(pidfd))
	pp.mu.Unlock()
	unix.EpollCtl(pp.epfd, unix.EPOLL_CTL_DEL, pidfd, nil)
	unix.Close(pidfd)
}

// add starts reading s; its fd must be non-blocking. On error the caller
// still owns the fd.
func (pp *pump) add(s *stream) error {
	pp.mu.Lock()
	pp.streams[int32(s.fd)] = s
	pp.mu.Unlock()
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(s.fd)}
	if err := unix.EpollCtl(pp.epfd, unix.EPOLL_CTL_ADD, s.fd, &ev); err != nil {
		pp.mu.Lock()
		delete(pp.streams, int32(s.fd))
		pp.mu.Unlock()
		return fmt.Errorf("proc: epoll_ctl %s: %w", s.name, err)
	}
	return nil
}

// forceClose asks the pump to stop waiting for EOF on the given streams:
// a grandchild still holds the write end, and Wait must not hang on it.
func (pp *pump) forceClose(ss ...*stream) {
	pp.mu.Lock()
	pp.closing = append(pp.closing, ss...)
	pp.mu.Unlock()
	var one = [8]byte{1}
	unix.Write(pp.wake, one[:]) // EAGAIN means a wake-up is already pending
}

// loop waits for the epoll set through the Go runtime's own poller (an
// epoll fd is itself pollable) rather than blocking a thread in
// epoll_wait. A child's exit then costs one kernel wake-up of the thread
// already parked in the runtime's poller; the pump runs there and readies
// the waiting goroutine on the same P. A dedicated blocked thread instead
// had to wake a second thread for the waiter: a tenth of a spawn+wait on
// two cores.
func (pp *pump) loop(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		panic(fmt.Sprintf("proc: epoll fd: %v", err)) // only for a closed file
	}
	events := make([]unix.EpollEvent, 128)
	buf := make([]byte, 64<<10)
	rc.Read(func(fd uintptr) bool {
		// The runtime watches the set edge-triggered, and level-triggered
		// members still ready after a round raise no new edge: drain
		// until a round finds nothing before waiting again.
		for {
			n, err := unix.EpollWait(int(fd), events, 0)
			if err == unix.EINTR {
				continue
			}
			if err != nil || n == 0 {
				return false // wait for the next edge
			}
			pp.handle(events[:n], buf)
		}
	})
}

// handle serves one round of events: output first, then exits, so that a
// child whose EOF and exit arrive together is finished without arming its
// WaitDelay timer.
func (pp *pump) handle(events []unix.EpollEvent, buf []byte) {
	exits := false
	for _, ev := range events {
		if int(ev.Fd) == pp.wake {
			pp.closeRequested(buf)
			continue
		}
		pp.mu.Lock()
		s := pp.streams[ev.Fd]
		pp.mu.Unlock()
		if s != nil {
			pp.readOnce(s, buf)
		} else {
			exits = true
		}
	}
	if !exits {
		return
	}
	reap := false
	for _, ev := range events {
		pp.mu.Lock()
		_, exited := pp.exits[ev.Fd]
		pp.mu.Unlock()
		if exited {
			// Stop watching before reaping, so that a status taken by the
			// SIGCHLD path meanwhile cannot make this spin.
			unix.EpollCtl(pp.epfd, unix.EPOLL_CTL_DEL, int(ev.Fd), nil)
			reap = true
		}
	}
	if reap {
		pp.onExit() // one wait4 pass reaps every child that exited
	}
}

// readOnce does one read: the set is level-triggered, so whatever is left
// comes back on the next round and one chatty child cannot starve others.
func (pp *pump) readOnce(s *stream, buf []byte) (eof bool) {
	n, err := unix.Read(s.fd, buf)
	switch {
	case n > 0:
		s.consume(buf[:n])
		return false
	case err == unix.EAGAIN || err == unix.EINTR:
		return false
	default: // EOF: every write end is closed
		pp.finish(s)
		return true
	}
}

func (pp *pump) closeRequested(buf []byte) {
	var b [8]byte
	unix.Read(pp.wake, b[:])
	pp.mu.Lock()
	closing := pp.closing
	pp.closing = nil
	pp.mu.Unlock()
	for _, s := range closing {
		pp.mu.Lock()
		open := pp.streams[int32(s.fd)] == s
		pp.mu.Unlock()
		if !open {
			continue
		}
		// Take what is already in the pipe, but no more than its capacity:
		// the grandchild holding it open may be writing without end.
		for range 16 {
			if pp.readOnce(s, buf) {
				break
			}
		}
		pp.mu.Lock()
		open = pp.streams[int32(s.fd)] == s
		pp.mu.Unlock()
		if open {
			pp.finish(s)
		}
	}
}

func (pp *pump) finish(s *stream) {
	pp.mu.Lock()
	delete(pp.streams, int32(s.fd))
	pp.mu.Unlock()
	// Deregister before closing: a child being forked right now shares the
	// open file until its exec, which would keep the registration alive.
	unix.EpollCtl(pp.epfd, unix.EPOLL_CTL_DEL, s.fd, nil)
	unix.Close(s.fd)
	if len(s.line) > 0 {
		s.p.onOutput(s.name, s.line, false)
	}
	s.line, s.skip = nil, false
	s.p.streamClosed()
}

// consume keeps data for Exit and hands complete lines to OnOutput. A
// line longer than maxLine is handed over cut to its first maxLine bytes
// and marked truncated; the rest of it, up to its newline, is dropped, so
// one endless line costs the log maxLine bytes, not its length.
func (s *stream) consume(data []byte) {
	s.tail.write(data)
	if s.p.onOutput == nil {
		return
	}
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if s.skip {
			if i < 0 {
				return
			}
			s.skip = false
			data = data[i+1:]
			continue
		}
		end := i
		if i < 0 {
			end = len(data)
		}
		if room := maxLine - len(s.line); end > room {
			s.emit(data[:room], true)
			s.skip = true
			data = data[room:]
			continue
		}
		if i < 0 {
			s.line = append(s.line, data...)
			return
		}
		s.emit(data[:i], false)
		data = data[i+1:]
	}
}

// emit delivers the pending partial line followed by more.
func (s *stream) emit(more []byte, truncated bool) {
	line := more
	if len(s.line) > 0 {
		s.line = append(s.line, more...)
		line = s.line
	}
	s.p.onOutput(s.name, line, truncated)
	s.line = s.line[:0]
}

// tail keeps the last tailSize bytes written to it. It grows only as output
// arrives, so a silent child costs nothing.
type tail struct {
	buf  []byte
	pos  int // next write position once full
	full bool
}

func (t *tail) write(p []byte) {
	if len(p) >= tailSize {
		p = p[len(p)-tailSize:]
	}
	if !t.full {
		if len(t.buf)+len(p) <= tailSize {
			t.buf = append(t.buf, p...)
			return
		}
		grown := make([]byte, tailSize)
		n := copy(grown, t.buf)
		k := copy(grown[n:], p)
		t.buf, t.full, t.pos, p = grown, true, 0, p[k:]
	}
	n := copy(t.buf[t.pos:], p)
	copy(t.buf, p[n:])
	t.pos = (t.pos + len(p)) % tailSize
}

func (t *tail) String() string {
	if !t.full {
		return string(t.buf)
	}
	return string(t.buf[t.pos:]) + string(t.buf[:t.pos])
}
