package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// Handler serves one op in the agent, for the request req. The result is
// encoded as JSON (its bulk bytes beside it, if it is a [Bulk]); return a
// [Reply] to attach files. ctx is cancelled when the runner gives up on
// the call or the connection ends, and carries the [Peer] for events.
// Handlers run concurrently.
type Handler func(ctx context.Context, req Request) (any, error)

// Request is one call, as its handler gets it.
type Request struct {
	// Args is the arguments' JSON; nil if none.
	Args json.RawMessage
	// Files are the descriptors sent with the call, now the handler's.
	Files []*os.File
	// Parts are the arguments' bulk bytes (see [Bulk]).
	Parts [][]byte
}

// Decode decodes the arguments into v, a pointer, giving it its bulk
// bytes if it is a [BulkSetter]. No arguments leave v as it is.
func (r Request) Decode(v any) error {
	if len(r.Args) > 0 {
		if err := json.Unmarshal(r.Args, v); err != nil {
			return err
		}
	}
	return setParts(v, r.Parts)
}

// Reply is a handler result with descriptors attached. Serve sends the
// files and then closes them.
type Reply struct {
	Value any
	Files []*os.File
}

// The built-in ops, always served.
const (
	OpPing = "ping" // replies {"pid": N}
	OpExit = "exit" // replies, then Serve returns nil
)

// PingReply is the result of [OpPing].
type PingReply struct {
	PID int `json:"pid"`
}

// Peer is the runner as seen from inside the agent.
type Peer struct{ conn *Conn }

type peerKey struct{}

// PeerFrom returns the peer of the connection a handler serves, or nil if
// ctx does not come from [Serve]. Code that outlives the handler (a thread
// that reports its end) may keep the Peer.
func PeerFrom(ctx context.Context) *Peer {
	p, _ := ctx.Value(peerKey{}).(*Peer)
	return p
}

// Emit sends the runner an event, such as thread_end or item_produced,
// with fields encoded as a JSON object.
func (p *Peer) Emit(event string, fields any) error {
	m := &message{Event: event}
	if fields != nil {
		b, err := json.Marshal(fields)
		if err != nil {
			return fmt.Errorf("agent: event %s: encode fields: %w", event, err)
		}
		m.Fields = b
	}
	return p.conn.send(m, nil)
}

// NewPeer returns the runner at the other end of conn, for an agent's code
// that reports events outside any one handler (a thread that ends later).
func NewPeer(conn *Conn) *Peer { return &Peer{conn: conn} }

// Emit sends an event through the peer in ctx; see [Peer.Emit].
func Emit(ctx context.Context, event string, fields any) error {
	p := PeerFrom(ctx)
	if p == nil {
		return fmt.Errorf("agent: event %s: no control connection in context", event)
	}
	return p.Emit(event, fields)
}

// Serve answers requests on conn with handlers, which it is given
// explicitly (there is no registry of ops: what an agent serves is what its
// main passes here), and the built-in ops [OpPing] and [OpExit]. A
// handler's error travels with the codes of the sentinels in errs it
// matches (see [Errors]). Serve returns nil when the runner closes the
// connection or sends [OpExit], and ctx's cause when ctx ends; either way
// only after every handler has returned. It does not close conn.
func Serve(ctx context.Context, conn *Conn, handlers map[string]Handler, errs Errors) error {
	ctx, cancel := context.WithCancel(context.WithValue(ctx, peerKey{}, &Peer{conn: conn}))
	defer cancel()
	// A blocked read returns at once when ctx ends.
	stop := context.AfterFunc(ctx, func() { conn.f.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		running = map[uint64]context.CancelFunc{}
	)
	defer wg.Wait()
	defer cancel() // runs before wg.Wait: handlers see their ctx end

	for {
		m, files, err := conn.recv()
		if err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				return nil // the runner is gone or done with us
			}
			return fmt.Errorf("agent: serve: %w", err)
		}
		switch {
		case m.Cancel != 0:
			mu.Lock()
			if stop := running[m.Cancel]; stop != nil {
				stop()
			}
			mu.Unlock()
			closeFiles(files)
			continue
		case m.Op == OpExit:
			closeFiles(files)
			conn.send(&message{ID: m.ID}, nil)
			return nil
		case m.Op == OpPing:
			closeFiles(files)
			answer(conn, m, PingReply{PID: os.Getpid()}, nil, errs)
			continue
		}
		h := handlers[m.Op]
		if h == nil {
			closeFiles(files)
			answer(conn, m, nil, fmt.Errorf("unknown op %q", m.Op), errs)
			continue
		}
		hctx, hcancel := context.WithCancel(ctx)
		mu.Lock()
		running[m.ID] = hcancel
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := h(hctx, Request{Args: m.Args, Files: files, Parts: m.parts})
			mu.Lock()
			delete(running, m.ID)
			mu.Unlock()
			hcancel()
			answer(conn, m, res, err, errs)
		}()
	}
}

// answer replies to request m. A handler may return a result beside its
// error (what it did before it failed); both are sent, the descriptors only
// with a success. A reply that cannot be sent is dropped: the runner is
// gone, and Serve's next read says so.
func answer(conn *Conn, m *message, res any, err error, errs Errors) {
	r := &message{ID: m.ID}
	var files []*os.File
	if rep, ok := res.(Reply); ok {
		res, files = rep.Value, rep.Files
		defer closeFiles(files)
	}
	if res != nil {
		b, merr := json.Marshal(res)
		switch {
		case merr == nil:
			r.Result, r.parts = b, bulkParts(res)
		case err == nil:
			err = fmt.Errorf("encode result: %w", merr)
		}
	}
	if err != nil {
		r.Error, r.Codes, files = err.Error(), errs.codes(err), nil
	}
	if serr := conn.send(r, files); serr != nil {
		// Too large, or out of memory: tell the caller rather than leave
		// it waiting, without the result. (If the runner is gone, this
		// fails too, and it does not matter.)
		if err == nil {
			err = serr
		}
		conn.send(&message{ID: m.ID, Error: err.Error(), Codes: errs.codes(err)}, nil)
	}
}

// Open returns the control socket this process was started with, at
// [ControlFD]: an agent's main opens it and then calls [Serve].
func Open() (*Conn, error) {
	return NewConn(os.NewFile(ControlFD, "pmrun-control"))
}
