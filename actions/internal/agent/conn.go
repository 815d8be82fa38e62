// Package agent is the control protocol between the runner and its agents:
// pmrun re-executed (`/proc/self/exe agent`) to host threads, channel
// endpoints and producer-consumer roles in a process of their own
// (Go has no fork; docs/ARCHITECTURE.md describes the protocol).
//
// The runner and an agent talk over a socketpair of type SOCK_SEQPACKET,
// passed to the agent as file descriptor [ControlFD]: the socket keeps
// message boundaries, so each JSON message is one packet, and file
// descriptors travel beside it as SCM_RIGHTS. The runner sends requests
// {id, op, args}; the agent answers each with {id, result} or {id, error,
// codes} (an error may come with a result: what was done before it), in
// any order, and sends events {event, fields} whenever it likes. The codes
// name the sentinel errors the error matched ([Errors]), so that errors.Is
// works across the connection. The runner side is [Client]; the agent
// side is [Serve], given its handlers explicitly.
package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	// ControlFD is the control socket's descriptor number in the agent:
	// the first of the child's ExtraFiles.
	ControlFD = 3
	// MaxMessage bounds one encoded message; a SEQPACKET message must fit
	// in the socket's send buffer whole.
	MaxMessage = 128 << 10
	// MaxFiles bounds the descriptors attached to one message.
	MaxFiles = 16
)

// message is every packet on the wire; which fields are set says what it is.
type message struct {
	ID     uint64          `json:"id,omitempty"`     // request and reply
	Op     string          `json:"op,omitempty"`     // request
	Args   json.RawMessage `json:"args,omitempty"`   // request
	Result json.RawMessage `json:"result,omitempty"` // reply
	Error  string          `json:"error,omitempty"`  // reply that failed (Result may still say what was done)
	Codes  []string        `json:"codes,omitempty"`  // the sentinels Error matched; see Errors
	Event  string          `json:"event,omitempty"`  // event
	Fields json.RawMessage `json:"fields,omitempty"` // event
	Cancel uint64          `json:"cancel,omitempty"` // the runner gave up on this request id
}

// Conn is one end of a control socket. Send may be called concurrently;
// Recv only from one goroutine at a time.
//
// The socket is a non-blocking descriptor in Go's runtime poller, driven
// through its RawConn rather than a net.UnixConn: package net would link
// pmrun with cgo, and then every OS thread — and pmrun makes one for each
// of its threads — would be created through pthread_create.
type Conn struct {
	f    *os.File
	rc   syscall.RawConn
	rbuf []byte
	oob  []byte
}

// Pair makes a connected control socket pair: one end for the runner, one
// to pass to the agent. Both are close-on-exec; passing one in
// Spec.ExtraFiles clears that in the child only.
func Pair() (runner, agent *os.File, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("agent: socketpair: %w", err)
	}
	return os.NewFile(uintptr(fds[0]), "pmrun-control"), os.NewFile(uintptr(fds[1]), "pmrun-control"), nil
}

// NewConn wraps a control socket end. It takes ownership of f: f is closed
// (the Conn holds a duplicate) whether or not NewConn succeeds.
func NewConn(f *os.File) (*Conn, error) {
	defer f.Close()
	raw, err := f.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("agent: control socket %s: %w", f.Name(), err)
	}
	fd, typ := -1, 0
	cerr := raw.Control(func(s uintptr) {
		if typ, err = unix.GetsockoptInt(int(s), unix.SOL_SOCKET, unix.SO_TYPE); err == nil {
			fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
		}
	})
	switch {
	case cerr != nil:
		err = cerr
	case err == nil && typ != unix.SOCK_SEQPACKET:
		unix.Close(fd)
		return nil, fmt.Errorf("agent: control socket %s is not a SOCK_SEQPACKET socket", f.Name())
	}
	if err != nil {
		return nil, fmt.Errorf("agent: control socket %s: %w", f.Name(), err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("agent: control socket %s: %w", f.Name(), err)
	}
	// A non-blocking descriptor joins the runtime poller.
	nf := os.NewFile(uintptr(fd), f.Name())
	rc, err := nf.SyscallConn()
	if err != nil {
		nf.Close()
		return nil, fmt.Errorf("agent: control socket %s: %w", f.Name(), err)
	}
	return &Conn{
		f:    nf,
		rc:   rc,
		rbuf: make([]byte, MaxMessage+1),
		oob:  make([]byte, unix.CmsgSpace(MaxFiles*4)),
	}, nil
}

// Close closes the socket; the peer's Recv then sees EOF, and a recv of
// ours in progress returns os.ErrClosed.
func (c *Conn) Close() error { return c.f.Close() }

// send writes one message with its files, atomically: concurrent senders
// cannot interleave on a SEQPACKET socket.
func (c *Conn) send(m *message, files []*os.File) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("agent: encode message: %w", err)
	}
	if len(b) > MaxMessage {
		return fmt.Errorf("agent: message of %d bytes exceeds %d", len(b), MaxMessage)
	}
	if len(files) > MaxFiles {
		return fmt.Errorf("agent: %d files exceed %d a message", len(files), MaxFiles)
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	var serr error
	err = c.rc.Write(func(fd uintptr) bool {
		serr = unix.Sendmsg(int(fd), b, oob, nil, unix.MSG_NOSIGNAL)
		return serr != unix.EAGAIN
	})
	runtime.KeepAlive(files) // no finalizer may close them before sendmsg copied them
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("agent: send: %w", err)
	}
	return nil
}

// recv reads one message and the files that came with it, which the caller
// owns. The kernel marks received descriptors close-on-exec.
func (c *Conn) recv() (*message, []*os.File, error) {
	var n, oobn, flags int
	var rerr error
	err := c.rc.Read(func(fd uintptr) bool {
		n, oobn, flags, _, rerr = unix.Recvmsg(int(fd), c.rbuf, c.oob, unix.MSG_CMSG_CLOEXEC)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	if err != nil {
		return nil, nil, err // os.ErrClosed once we closed it
	}
	if n == 0 && oobn == 0 {
		return nil, nil, io.EOF // the peer is gone: no message is empty
	}
	files, ferr := parseRights(c.oob[:oobn])
	switch {
	case ferr != nil:
		closeFiles(files)
		return nil, nil, ferr
	case flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0:
		closeFiles(files)
		return nil, nil, errors.New("agent: message or its descriptors truncated")
	}
	m := new(message)
	if err := json.Unmarshal(c.rbuf[:n], m); err != nil {
		closeFiles(files)
		return nil, nil, fmt.Errorf("agent: decode message: %w", err)
	}
	return m, files, nil
}

func parseRights(oob []byte) ([]*os.File, error) {
	if len(oob) == 0 {
		return nil, nil
	}
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil, fmt.Errorf("agent: control message: %w", err)
	}
	var files []*os.File
	for i := range msgs {
		fds, err := unix.ParseUnixRights(&msgs[i])
		if err != nil {
			continue // not SCM_RIGHTS
		}
		for _, fd := range fds {
			files = append(files, os.NewFile(uintptr(fd), "received"))
		}
	}
	return files, nil
}

func closeFiles(files []*os.File) {
	for _, f := range files {
		f.Close()
	}
}
