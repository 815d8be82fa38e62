// Package channel implements pmrun's IPC channels: loss-free, ordered
// messages between the runner, its agents and plain programs, over an
// anonymous pipe, a FIFO or a Unix datagram socket.
//
// # Kinds
//
//   - [Pipe] (the default) is an anonymous pipe. Its ends reach agents as
//     inherited file descriptors (see [Channel.Files] and [Attach]); a plain
//     program has no path to open, so pipe channels reach agents only. Use
//     a FIFO for plain programs.
//   - [FIFO] is a named pipe, <dir>/<name>.fifo, in the run's private
//     directory, so any program can open it: a spawned process finds the
//     path in PMRUN_CHANNEL_<NAME> ([Channel.EnvVar]).
//   - [Socket] is an AF_UNIX SOCK_DGRAM socket bound to <dir>/<name>.sock.
//     Datagrams keep message boundaries and are never interleaved, any
//     number of senders connect to the path with no accept step (SEQPACKET
//     would need one connection, and one accepted socket to read, per
//     sender), and on a lines channel the datagrams of plain tools (socat,
//     nc -uU) just work.
//
// # Framing
//
// [Framed] channels carry any bytes: messages are cut into chunks as
// described in package frame, and the receiver checks every chunk's CRC-32
// and every sender's sequence numbers; a damaged chunk, a missing message,
// or a message its sender did not finish is an error, never silent data.
// On a pipe or FIFO chunks are at most PIPE_BUF (4 KiB) and are written so
// that no writer can split another's chunk, whatever they write at the
// same time, with no lock between them; on a socket every datagram arrives
// whole, so chunks are up to 64 KiB.
//
// A message cut short because its sender died is reported as truncated
// when every writer has closed the pipe or FIFO, or, while a receive
// waits, as soon as the sender's process is seen gone (checked every
// 100ms), not only when the receive's timeout runs out.
//
// [Lines] channels carry newline-ended text with no header, for programs
// such as `echo hi > "$PMRUN_CHANNEL_JOBS"`. A line (with its newline) sent
// through a pipe or FIFO is at most PIPE_BUF bytes, so that it is written
// whole; over a socket it is one datagram.
//
// # Endpoints and receivers
//
// A *Channel is one process's endpoint. It buffers what it has read and not
// yet returned, so nothing read is lost between calls, and may read ahead:
// a message goes to exactly one receiver, the endpoint that read it. Two
// endpoints receiving from one channel at the same time each get some of the
// messages, and the sequence checks will report the gaps; a channel is meant
// to have one receiver at a time.
//
// Sends and receives honour their context: every descriptor is
// non-blocking and waits in Go's runtime poller, so a full pipe or an empty
// one never blocks a caller past its step's timeout or Ctrl-C.
//
// A write to a channel no one reads fails with EPIPE ([ErrReceiverGone]);
// the Go runtime ignores SIGPIPE for descriptors other than stdout and
// stderr, so the process lives on.
package channel

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/frame"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// Kind is the operating-system object behind a channel.
type Kind string

// Channel kinds.
const (
	Pipe   Kind = "pipe"
	FIFO   Kind = "fifo"
	Socket Kind = "socket"
)

// Framing is how messages are delimited on the wire.
type Framing string

// Framings.
const (
	Framed Framing = "framed"
	Lines  Framing = "lines"
)

const (
	// DefaultMaxMessage is the largest message a channel accepts unless
	// [Options] say otherwise.
	DefaultMaxMessage = 16 << 20
	// LimitMaxMessage is the largest MaxMessage that may be configured.
	LimitMaxMessage = 1 << 30

	// socketChunk is the largest datagram a socket channel sends or
	// accepts. The default socket send buffer (about 208 KiB) holds a few.
	socketChunk = 64 << 10
	// pipeSize is the capacity asked for with F_SETPIPE_SZ (the default
	// unprivileged limit): more data in flight means fewer wake-ups.
	pipeSize = 1 << 20
	// readBuf is how much one read(2) may take from a pipe.
	readBuf = 64 << 10
)

// Options configure a channel; the zero value is a framed pipe.
type Options struct {
	Kind       Kind    // Pipe if empty
	Framing    Framing // Framed if empty
	MaxMessage int     // DefaultMaxMessage if 0
}

func (o Options) withDefaults() Options {
	if o.Kind == "" {
		o.Kind = Pipe
	}
	if o.Framing == "" {
		o.Framing = Framed
	}
	if o.MaxMessage == 0 {
		o.MaxMessage = DefaultMaxMessage
	}
	return o
}

// Role names one end of a channel.
type Role string

// Roles.
const (
	ReadEnd  Role = "read"
	WriteEnd Role = "write"
)

// Spec describes a channel endpoint so that an agent can [Attach] to it;
// it is meant to travel as JSON next to the descriptors of [Channel.Files].
type Spec struct {
	Name       string  `json:"name"`
	Kind       Kind    `json:"kind"`
	Framing    Framing `json:"framing"`
	MaxMessage int     `json:"max_message"`
	// Path of a FIFO or socket.
	Path string `json:"path,omitempty"`
	// Files says what each file passed with the Spec is, in order.
	Files []Role `json:"files,omitempty"`
}

// Errors returned by channel operations, inside an [*Error]; match them
// with errors.Is. Errors of package frame ([frame.ErrCorrupt],
// [frame.ErrSequence], [frame.ErrTruncated], [frame.ErrTooLarge],
// [frame.ErrNewline]) come through as they are, and a receive on a pipe
// whose writers are all gone ends with io.EOF.
var (
	// ErrEmpty means a non-blocking receive found no message waiting.
	ErrEmpty = errors.New("no message waiting")
	// ErrTimeout means a receive's timeout ran out first.
	ErrTimeout = errors.New("timed out waiting for a message")
	// ErrReceiverGone means no process has the channel open for reading
	// any more (EPIPE, or ECONNREFUSED on a socket).
	ErrReceiverGone = errors.New("receiver gone")
	// ErrNoReader means a FIFO that no process has open for reading
	// (ENXIO): opening it to write would block until one does.
	ErrNoReader = errors.New("no reader has the fifo open")
	// ErrNoEnd means this endpoint does not hold the end an operation
	// needs, e.g. a send through an agent given only the read end.
	ErrNoEnd = errors.New("endpoint does not hold this end of the channel")
	// ErrInvalid means a bad name, option or spec.
	ErrInvalid = errors.New("invalid channel")
)

// Error reports a failed channel operation.
type Error struct {
	Channel string
	Op      string // create, attach, files, send, receive, close
	Err     error
}

func (e *Error) Error() string { return "channel " + e.Channel + ": " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// errnoError is a channel error caused by a system call: it reads
// "receiver gone (EPIPE)" and matches both the sentinel and the errno.
type errnoError struct {
	sentinel error
	errno    unix.Errno
}

func (e *errnoError) Error() string {
	return e.sentinel.Error() + " (" + unix.ErrnoName(e.errno) + ")"
}

func (e *errnoError) Unwrap() []error { return []error{e.sentinel, e.errno} }

// Validate checks a channel name and options without creating anything, so
// a scenario can be checked before it runs. Names are [a-z_][a-z0-9_]*, at
// most 64 bytes: they become file names and PMRUN_CHANNEL_<NAME>.
func Validate(name string, opt Options) error {
	err := validate(name, opt.withDefaults())
	if err != nil {
		return &Error{Channel: name, Op: "create", Err: err}
	}
	return nil
}

func validate(name string, o Options) error {
	if name == "" || len(name) > 64 {
		return fmt.Errorf("%w: name must be 1 to 64 bytes", ErrInvalid)
	}
	for i, r := range name {
		if !(r == '_' || 'a' <= r && r <= 'z' || i > 0 && '0' <= r && r <= '9') {
			return fmt.Errorf("%w: name %q: want lower-case letters, digits and _, not starting with a digit", ErrInvalid, name)
		}
	}
	switch o.Kind {
	case Pipe, FIFO, Socket:
	default:
		return fmt.Errorf("%w: unknown kind %q (want pipe, fifo or socket)", ErrInvalid, o.Kind)
	}
	switch o.Framing {
	case Framed, Lines:
	default:
		return fmt.Errorf("%w: unknown framing %q (want framed or lines)", ErrInvalid, o.Framing)
	}
	if o.MaxMessage < 0 || o.MaxMessage > LimitMaxMessage {
		return fmt.Errorf("%w: max message %d bytes out of range [1, %d]", ErrInvalid, o.MaxMessage, LimitMaxMessage)
	}
	return nil
}

// end is one open descriptor of the channel with its runtime-poller handle.
type end struct {
	f  *os.File
	rc syscall.RawConn
}

func newEnd(fd int, name string) (*end, error) {
	f := os.NewFile(uintptr(fd), name)
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &end{f: f, rc: rc}, nil
}

// senderCount numbers the sending endpoints of this process, so that
// endpoints in one process are distinct senders.
var senderCount atomic.Uint32

// Channel is one process's endpoint of a channel. Its methods are safe for
// concurrent use; sends are serialised with each other, and so are
// receives.
type Channel struct {
	name  string
	opt   Options
	path  string
	owner bool // created here: Close removes path

	mu     sync.Mutex // guards the fields below
	closed bool
	r      *end // read end (pipe, FIFO) or bound socket
	w      *end // write end (pipe, FIFO) or connected socket

	sendSem chan struct{}
	send    sendState

	recvSem chan struct{}
	recv    recvState
}

func newChannel(name string, opt Options, path string, owner bool) *Channel {
	c := &Channel{name: name, opt: opt, path: path, owner: owner,
		sendSem: make(chan struct{}, 1), recvSem: make(chan struct{}, 1)}
	c.send.init(c)
	c.recv.init(c)
	return c
}

func (c *Channel) err(op string, err error) error {
	if err == nil {
		return nil
	}
	return &Error{Channel: c.name, Op: op, Err: err}
}

// Name returns the channel's name.
func (c *Channel) Name() string { return c.name }

// Path returns the FIFO or socket path, "" for a pipe.
func (c *Channel) Path() string { return c.path }

// EnvVar returns "PMRUN_CHANNEL_<NAME>=<path>" for a FIFO or socket
// channel, to put in a spawned program's environment, and "" for a pipe,
// which has no path.
func (c *Channel) EnvVar() string {
	if c.path == "" {
		return ""
	}
	return "PMRUN_CHANNEL_" + strings.ToUpper(c.name) + "=" + c.path
}

// CloseRead closes this endpoint's read end, so that once every process
// has closed it, senders get [ErrReceiverGone]. The runner calls it when
// only agents are to receive.
func (c *Channel) CloseRead() error {
	c.mu.Lock()
	r := c.r
	c.r = nil
	c.mu.Unlock()
	if r == nil {
		return nil
	}
	return c.err("close", r.f.Close())
}

// CloseWrite closes this endpoint's write end, so that once every process
// has closed it, a receiver on a pipe sees the end of the stream.
func (c *Channel) CloseWrite() error {
	c.mu.Lock()
	w := c.w
	c.w = nil
	c.mu.Unlock()
	if w == nil {
		return nil
	}
	return c.err("close", w.f.Close())
}

// Close closes the endpoint; a send or receive waiting in another
// goroutine returns an error matching os.ErrClosed. The endpoint that
// created a FIFO or socket channel also removes its file.
func (c *Channel) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	r, w := c.r, c.w
	c.r, c.w = nil, nil
	c.mu.Unlock()
	var errs []error
	for _, e := range []*end{r, w} {
		if e != nil {
			errs = append(errs, e.f.Close())
		}
	}
	if c.owner && c.path != "" {
		if err := os.Remove(c.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return c.err("close", errors.Join(errs...))
}

// reader returns the read end, or an error if there is none.
func (c *Channel) reader() (*end, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, os.ErrClosed
	case c.r != nil:
		return c.r, nil
	case c.opt.Kind == FIFO && !c.owner:
		// An agent opens a FIFO's read end on first use, so that agents
		// that only send do not count as readers.
		r, err := openFIFO(c.path, unix.O_RDONLY)
		if err != nil {
			return nil, err
		}
		c.r = r
		return r, nil
	}
	return nil, fmt.Errorf("%w: no read end", ErrNoEnd)
}

// writer returns the write end, opening a FIFO's or connecting a socket on
// first use.
func (c *Channel) writer() (*end, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case c.closed:
		return nil, os.ErrClosed
	case c.w != nil:
		return c.w, nil
	case c.opt.Kind == FIFO:
		w, err := openFIFO(c.path, unix.O_WRONLY)
		if err != nil {
			return nil, err
		}
		c.w = w
		return w, nil
	case c.opt.Kind == Socket:
		w, err := connectSocket(c.path)
		if err != nil {
			return nil, err
		}
		c.w = w
		return w, nil
	}
	return nil, fmt.Errorf("%w: no write end", ErrNoEnd)
}

// limits says how messages are cut into writes on this kind of channel:
// chunks of PIPE_BUF bytes in bursts on pipes and FIFOs, one datagram per
// chunk on sockets.
func (c *Channel) limits() frame.Limits {
	if c.opt.Kind == Socket {
		return frame.Limits{Chunk: socketChunk}
	}
	return frame.PipeLimits
}

// Unread returns how many bytes wait in a pipe or FIFO channel for a
// receiver, from this process's read end (FIONREAD, which x/sys calls
// TIOCINQ); ok is false for a socket, or without a read end here. A send
// that timed out says so: a full channel nobody reads is the usual reason.
func (c *Channel) Unread() (n int, ok bool) {
	c.mu.Lock()
	r := c.r
	closed := c.closed
	c.mu.Unlock()
	if closed || r == nil || c.opt.Kind == Socket {
		return 0, false
	}
	var ioErr error
	err := r.rc.Control(func(fd uintptr) { n, ioErr = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	if err != nil || ioErr != nil {
		return 0, false
	}
	return n, true
}
