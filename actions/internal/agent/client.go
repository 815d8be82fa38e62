package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/internal/proc"
)

// ErrAgentGone is matched (errors.Is) by every error of a call that failed
// because the agent is no longer there: it died, exited, or the client was
// closed. The error itself is a [*GoneError] saying which.
var ErrAgentGone = errors.New("agent gone")

// GoneError explains why an agent can no longer answer.
type GoneError struct {
	Name string // the agent's process name, if known
	// Exit is how the agent process ended, if known.
	Exit *proc.Exit
	// Err is what the control socket reported, e.g. io.EOF.
	Err error
	// Closed is set when the runner itself closed the client.
	Closed bool
}

func (e *GoneError) Error() string {
	who := "agent"
	if e.Name != "" {
		who = fmt.Sprintf("agent %s", e.Name)
	}
	switch {
	case e.Closed:
		return who + ": connection closed by the runner"
	case e.Exit != nil && e.Exit.Signal != "":
		return fmt.Sprintf("%s died (signal %s)", who, e.Exit.Signal)
	case e.Exit != nil:
		return fmt.Sprintf("%s exited (exit code %d)", who, e.Exit.ExitCode)
	default:
		return fmt.Sprintf("%s is gone: control socket: %v", who, e.Err)
	}
}

// Is makes every GoneError match [ErrAgentGone].
func (e *GoneError) Is(target error) bool { return target == ErrAgentGone }

// Unwrap returns the socket error.
func (e *GoneError) Unwrap() error { return e.Err }

// Event is something the agent reported without being asked.
type Event struct {
	Name   string
	Fields json.RawMessage
}

// ClientOptions tune a [Client].
type ClientOptions struct {
	// Name is the agent's name, for error messages.
	Name string
	// OnEvent receives every event, in the order sent, from the client's
	// one reading goroutine; it must not block for long, nor Call the
	// agent (the reply would wait behind it). Nil drops events.
	OnEvent func(Event)
	// Exit, if set, tells how the agent process ended once its socket
	// closed, so that errors can say "died (signal SIGKILL)". It is given
	// a context bounding the wait.
	Exit func(ctx context.Context) (proc.Exit, error)
	// Errors are the sentinels that keep their identity on the wire; the
	// agent must serve with the same (see [Errors]).
	Errors Errors
}

// exitWait bounds how long a client waits for the agent's exit status
// after its socket closed: normally milliseconds.
const exitWait = 2 * time.Second

// Client is the runner's side of one agent's control connection. Calls may
// be made concurrently; each waits only for its own reply.
type Client struct {
	conn *Conn
	opts ClientOptions
	done chan struct{} // closed when the reading goroutine has ended

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan response
	err     error // set once, when the agent is gone
	closed  bool
}

type response struct {
	m     *message
	files []*os.File
	err   error
}

// NewClient starts reading conn, which it owns from now on.
func NewClient(conn *Conn, opts ClientOptions) *Client {
	c := &Client{
		conn:    conn,
		opts:    opts,
		done:    make(chan struct{}),
		pending: make(map[uint64]chan response),
	}
	go c.read()
	return c
}

func (c *Client) read() {
	defer close(c.done)
	for {
		m, files, err := c.conn.recv()
		if err != nil {
			c.gone(err)
			return
		}
		switch {
		case m.Event != "":
			closeFiles(files) // events carry no files
			if c.opts.OnEvent != nil {
				c.opts.OnEvent(Event{Name: m.Event, Fields: m.Fields})
			}
		case m.ID != 0:
			c.mu.Lock()
			ch := c.pending[m.ID]
			delete(c.pending, m.ID)
			c.mu.Unlock()
			if ch == nil {
				closeFiles(files) // the caller gave up on it
				continue
			}
			ch <- response{m: m, files: files}
		default:
			closeFiles(files)
		}
	}
}

// gone fails every pending and future call with why the agent is gone.
func (c *Client) gone(err error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	gerr := &GoneError{Name: c.opts.Name, Err: err, Closed: closed}
	if !closed && c.opts.Exit != nil {
		ctx, cancel := context.WithTimeout(context.Background(), exitWait)
		if x, xerr := c.opts.Exit(ctx); xerr == nil {
			gerr.Exit = &x
		}
		cancel()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.err = gerr
	for id, ch := range c.pending {
		ch <- response{err: gerr}
		delete(c.pending, id)
	}
}

// Call sends op with args (encoded as JSON, bulk bytes beside it if args
// is a [Bulk]) and decodes the agent's result into reply, which may be
// nil. It returns when the reply arrives, when the agent is gone
// ([ErrAgentGone]), or when ctx ends: then the agent is told to cancel
// the handler, and the call waits a moment for the handler's answer, to
// decode into reply what it did before it stopped. A handler's own error
// comes back as a [*RemoteError]; a result sent beside it is still decoded
// into reply.
func (c *Client) Call(ctx context.Context, op string, args, reply any) error {
	files, err := c.CallFiles(ctx, op, args, nil, reply)
	closeFiles(files)
	return err
}

// CallFiles is [Client.Call] with descriptors: files go to the handler
// (the caller keeps its own copies open or closes them), and the files
// the handler returned with its reply come back, owned by the caller.
func (c *Client) CallFiles(ctx context.Context, op string, args any, files []*os.File, reply any) ([]*os.File, error) {
	m := &message{Op: op}
	if args != nil {
		b, err := json.Marshal(args)
		if err != nil {
			return nil, fmt.Errorf("agent %s: encode args: %w", op, err)
		}
		m.Args, m.parts = b, bulkParts(args)
	}
	ch := make(chan response, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return nil, fmt.Errorf("agent %s: %w", op, err)
	}
	c.next++
	m.ID = c.next
	c.pending[m.ID] = ch
	c.mu.Unlock()

	if err := c.conn.send(m, files); err != nil {
		c.forget(m.ID)
		if errors.Is(err, errTooLarge) {
			return nil, fmt.Errorf("agent %s: %w", op, err)
		}
		// A write to a dead agent fails (EPIPE) before the reading side has
		// seen the end: give it a moment, so the error says how it ended.
		select {
		case <-c.Done():
		case <-time.After(time.Second):
		}
		if gerr := c.Err(); gerr != nil {
			return nil, fmt.Errorf("agent %s: %w", op, gerr)
		}
		return nil, fmt.Errorf("agent %s: %w", op, err)
	}
	select {
	case r := <-ch:
		switch {
		case r.err != nil:
			return nil, fmt.Errorf("agent %s: %w", op, r.err)
		case r.m.Error != "":
			closeFiles(r.files)
			_ = decodeResult(r.m, reply) // what was done before the error, if it decodes
			return nil, &RemoteError{Op: op, Message: r.m.Error, Codes: r.m.Codes, kinds: c.opts.Errors.sentinels(r.m.Codes)}
		}
		if err := decodeResult(r.m, reply); err != nil {
			closeFiles(r.files)
			return nil, fmt.Errorf("agent %s: decode result: %w", op, err)
		}
		return r.files, nil
	case <-ctx.Done():
		// The handler is told to stop, and answers with what it did
		// before it stopped: for a receive, the messages it took from
		// the channel. Wait a moment for that answer, so that nothing it
		// took is lost; the call still fails with ctx's cause.
		c.conn.send(&message{Cancel: m.ID}, nil)
		t := time.NewTimer(cancelGrace)
		defer t.Stop()
		select {
		case r := <-ch:
			if r.err == nil {
				closeFiles(r.files)
				_ = decodeResult(r.m, reply)
			}
		case <-t.C:
			c.forget(m.ID)
		}
		return nil, fmt.Errorf("agent %s: %w", op, context.Cause(ctx))
	}
}

// cancelGrace bounds how long a cancelled call waits for the handler's
// last answer: normally microseconds, since handlers stop at the cancel.
const cancelGrace = 2 * time.Second

// decodeResult decodes m's result into reply, a pointer or nil, bulk
// parts included.
func decodeResult(m *message, reply any) error {
	if reply == nil || len(m.Result) == 0 {
		return nil
	}
	if err := json.Unmarshal(m.Result, reply); err != nil {
		return err
	}
	return setParts(reply, m.parts)
}

func (c *Client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// Err returns why the agent is gone, or nil while it answers.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed once the connection has ended, for whatever reason.
func (c *Client) Done() <-chan struct{} { return c.done }

// Close closes the connection and waits for the reading goroutine. The
// agent sees EOF and exits; the process itself is the [proc.Table]'s to
// wait for.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	err := c.conn.Close()
	<-c.done
	return err
}
