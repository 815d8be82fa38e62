// Package agent is the control protocol between the runner and its agents:
// pmrun re-executed (`/proc/self/exe agent`) to host threads, channel
// endpoints and producer-consumer roles in a process of their own
// (Go has no fork; docs/ARCHITECTURE.md describes the protocol).
//
// The runner and an agent talk over a socketpair of type SOCK_SEQPACKET,
// passed to the agent as file descriptor [ControlFD]: the socket keeps
// message boundaries, so each JSON message is one packet, and file
// descriptors travel beside it as SCM_RIGHTS. A message longer than a
// packet ([MaxPacket]) is announced by a small header packet and streamed
// in the packets after it; bulk bytes, such as channel messages, travel
// beside the JSON as they are ([Bulk]). The runner sends requests
// {id, op, args}; the agent answers each with {id, result} or {id, error,
// codes} (an error may come with a result: what was done before it), in
// any order, and sends events {event, fields} whenever it likes. The codes
// name the sentinel errors the error matched ([Errors]), so that errors.Is
// works across the connection. The runner side is [Client]; the agent
// side is [Serve], given its handlers explicitly.
package agent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

const (
	// ControlFD is the control socket's descriptor number in the agent:
	// the first of the child's ExtraFiles.
	ControlFD = 3
	// MaxPacket bounds one packet: a SEQPACKET packet must fit in the
	// socket's send buffer (about 208 KiB by default) whole. A longer
	// message is streamed in packets of this size.
	MaxPacket = 128 << 10
	// MaxMessage bounds one message, bulk bytes included: room for the
	// largest message a channel may carry (1 GiB) and the call around it.
	MaxMessage = 1<<30 + 16<<20
	// MaxFiles bounds the descriptors attached to one message.
	MaxFiles = 16
)

// errTooLarge is a message longer than MaxMessage; nothing was sent.
var errTooLarge = errors.New("message too large")

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
	// More makes the packet a header: the message itself is the next
	// More bytes on the socket, in as many packets as it takes, and the
	// header's descriptors are the message's.
	More int `json:"more,omitempty"`
	// Parts are the lengths of the bulk parts of Args or Result (see
	// [Bulk]): after the JSON come a newline and then the parts, one after
	// the other. JSON as Marshal writes it has no newline.
	Parts []int `json:"parts,omitempty"`

	parts [][]byte // the bulk parts themselves
}

// Bulk is implemented by the arguments and results of calls that carry
// bulk bytes, such as channel messages: the bytes travel beside the JSON,
// as they are, and the JSON leaves them out (`json:"-"`). In JSON, []byte
// is base64, whose decoding runs at about 160 MiB/s: slower than the
// rest of a call by far. A pointer to such a type is a [BulkSetter].
type Bulk interface {
	// BulkParts returns the bytes to send beside the JSON.
	BulkParts() [][]byte
}

// BulkSetter is implemented by a pointer to a [Bulk] type: it gives a
// value decoded from the JSON its bytes back.
type BulkSetter interface {
	SetBulkParts(parts [][]byte) error
}

// setParts gives v (a pointer) the parts that came with its JSON.
func setParts(v any, parts [][]byte) error {
	if b, ok := v.(BulkSetter); ok {
		return b.SetBulkParts(parts)
	}
	if len(parts) > 0 {
		return fmt.Errorf("%d bulk parts for a %T, which takes none", len(parts), v)
	}
	return nil
}

// bulkParts returns the parts of v to send beside its JSON.
func bulkParts(v any) [][]byte {
	if b, ok := v.(Bulk); ok {
		return b.BulkParts()
	}
	return nil
}

// Conn is one end of a control socket. Send may be called concurrently;
// Recv only from one goroutine at a time.
//
// The socket is a non-blocking descriptor in Go's runtime poller, driven
// through its RawConn rather than a net.UnixConn: package net would link
// pmrun with cgo, and then every OS thread — and pmrun makes one for each
// of its threads — would be created through pthread_create.
//
// A message of one packet is sent by one sendmsg, which no other sender
// can split, so such sends need no lock between them; the packets of a
// longer message must follow one another on the socket, so it is sent
// holding wmu exclusively.
type Conn struct {
	f    *os.File
	rc   syscall.RawConn
	wmu  sync.RWMutex
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
		rbuf: make([]byte, MaxPacket+1),
		oob:  make([]byte, unix.CmsgSpace(MaxFiles*4)),
	}, nil
}

// Close closes the socket; the peer's Recv then sees EOF, and a recv of
// ours in progress returns os.ErrClosed.
func (c *Conn) Close() error { return c.f.Close() }

// send writes one message with its files, atomically: concurrent senders
// cannot interleave with it.
func (c *Conn) send(m *message, files []*os.File) error {
	if len(files) > MaxFiles {
		return fmt.Errorf("agent: %d files exceed %d a message", len(files), MaxFiles)
	}
	m.Parts = m.Parts[:0]
	for _, p := range m.parts {
		m.Parts = append(m.Parts, len(p))
	}
	js, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("agent: encode message: %w", err)
	}
	body := [][]byte{js}
	size := len(js)
	if len(m.parts) > 0 {
		body = append(body, newline)
		size++
		for _, p := range m.parts {
			body = append(body, p)
			size += len(p)
		}
	}
	if size > MaxMessage {
		return fmt.Errorf("agent: %w: %d bytes, at most %d", errTooLarge, size, MaxMessage)
	}
	var oob []byte
	if len(files) > 0 {
		fds := make([]int, len(files))
		for i, f := range files {
			fds[i] = int(f.Fd())
		}
		oob = unix.UnixRights(fds...)
	}
	if size <= MaxPacket {
		c.wmu.RLock()
		err = c.write(&stream{body: body, oob: oob}, size)
		c.wmu.RUnlock()
	} else {
		hdr, _ := json.Marshal(message{More: size})
		c.wmu.Lock()
		err = c.write(&stream{body: [][]byte{hdr}, oob: oob}, len(hdr))
		if err == nil {
			err = c.write(&stream{body: body}, MaxPacket)
		}
		c.wmu.Unlock()
	}
	runtime.KeepAlive(files) // no finalizer may close them before sendmsg copied them
	if err != nil {
		return fmt.Errorf("agent: send: %w", err)
	}
	return nil
}

var newline = []byte{'\n'}

// stream is what write sends: body, cut into packets, the first of them
// with oob.
type stream struct {
	body [][]byte
	oob  []byte
	iov  [][]byte // the packet being sent
}

// next returns the next packet of at most n bytes, nil at the end.
func (s *stream) next(n int) [][]byte {
	s.iov = s.iov[:0]
	for len(s.body) > 0 {
		p := s.body[0]
		if len(p) == 0 {
			// An empty part takes no room, and must not make an empty
			// packet, which the peer would take for the end.
			s.body = s.body[1:]
			continue
		}
		if n == 0 {
			break
		}
		if len(p) > n {
			s.iov = append(s.iov, p[:n])
			s.body[0] = p[n:]
			break
		}
		s.iov = append(s.iov, p)
		s.body = s.body[1:]
		n -= len(p)
	}
	if len(s.iov) == 0 {
		return nil
	}
	return s.iov
}

// write sends s in packets of at most n bytes, waiting in the poller while
// the socket is full.
func (c *Conn) write(s *stream, n int) error {
	var serr error
	pkt := s.next(n)
	err := c.rc.Write(func(fd uintptr) bool {
		for pkt != nil {
			if len(pkt) == 1 {
				serr = unix.Sendmsg(int(fd), pkt[0], s.oob, nil, unix.MSG_NOSIGNAL)
			} else {
				_, serr = unix.SendmsgBuffers(int(fd), pkt, s.oob, nil, unix.MSG_NOSIGNAL)
			}
			switch serr {
			case unix.EAGAIN:
				return false
			case unix.EINTR:
				continue
			case nil:
				s.oob = nil
				pkt = s.next(n)
			default:
				return true
			}
		}
		return true
	})
	if err == nil {
		err = serr
	}
	return err
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
	m, err := decode(c.rbuf[:n], false)
	if err == nil && m.More > 0 {
		var body []byte
		if body, err = c.recvBody(m.More); err == nil {
			m, err = decode(body, true)
		}
	}
	if err != nil {
		closeFiles(files)
		return nil, nil, err
	}
	return m, files, nil
}

// recvBody reads the size bytes of a message announced by a header, in
// the packets that follow it.
func (c *Conn) recvBody(size int) ([]byte, error) {
	if size > MaxMessage {
		return nil, fmt.Errorf("agent: a message of %d bytes announced, at most %d allowed", size, MaxMessage)
	}
	body := make([]byte, size)
	got := 0
	var rerr error
	bad := ""
	err := c.rc.Read(func(fd uintptr) bool {
		for got < size {
			n, oobn, flags, _, err := unix.Recvmsg(int(fd), body[got:], c.oob, unix.MSG_CMSG_CLOEXEC)
			switch {
			case err == unix.EAGAIN:
				return false
			case err == unix.EINTR:
				continue
			case err != nil:
				rerr = err
				return true
			case n == 0 && oobn == 0:
				rerr = io.EOF
				return true
			case oobn > 0 || flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0:
				files, _ := parseRights(c.oob[:oobn])
				closeFiles(files)
				bad = "a packet of a message streamed is longer than announced, or carries descriptors"
				return true
			}
			got += n
		}
		return true
	})
	switch {
	case err != nil:
		return nil, err
	case rerr != nil:
		return nil, fmt.Errorf("agent: a message of %d bytes stopped after %d: %w", size, got, rerr)
	case bad != "":
		return nil, errors.New("agent: " + bad)
	}
	return body, nil
}

// decode decodes a message: its JSON and, after a newline, its bulk
// parts. The parts point into b if owned, and are copied otherwise.
func decode(b []byte, owned bool) (*message, error) {
	js, rest := b, []byte(nil)
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		js, rest = b[:i], b[i+1:]
	}
	m := new(message)
	if err := json.Unmarshal(js, m); err != nil {
		return nil, fmt.Errorf("agent: decode message: %w", err)
	}
	total := 0
	for _, n := range m.Parts {
		if n < 0 || n > len(rest)-total {
			return nil, fmt.Errorf("agent: decode message: a bulk part of %d bytes, %d bytes left", n, len(rest)-total)
		}
		total += n
	}
	if total != len(rest) {
		return nil, fmt.Errorf("agent: decode message: %d bytes of bulk parts, %d announced", len(rest), total)
	}
	if !owned && len(rest) > 0 {
		rest = bytes.Clone(rest)
	}
	for _, n := range m.Parts {
		m.parts = append(m.parts, rest[:n:n])
		rest = rest[n:]
	}
	return m, nil
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
