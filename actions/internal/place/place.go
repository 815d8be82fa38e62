// Package place is where a run's threads and channel ends live: a
// process, either the runner itself or one of its agents (pmrun
// re-executed, see package agent). [Place] says what a place can do, and
// has one implementation for each side of the agent boundary: [Local] does
// it in this process, [Agent] asks an agent to do it over its control
// connection. An agent's main, [Serve], serves its own Local to the runner.
//
// The operations between the two sides, each with its arguments and reply,
// are declared once, in ops.go; [Serve]'s handler map (serve.go) and
// [Agent]'s methods (agent.go) both use those declarations. To add an
// operation: declare it in ops.go, serve it in agentProcess.handlers, and
// give [Agent] a method that calls it (and, if both sides can do it, add it
// to [Place] and [Local]). docs/ARCHITECTURE.md draws the whole protocol.
package place

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/channel"
	"github.com/pmrun/pmrun/actions/internal/osthread"
)

// Place is a process where threads and channel ends live: the runner
// itself ([Local]) or one of its agents ([Agent]). Action code goes through
// a Place and never asks which kind it has.
type Place interface {
	// Name is how steps call the place: runner, or the agent's name.
	Name() string

	// StartThread starts a thread running spec's body; the place reports
	// its end as a thread_end event.
	StartThread(ctx context.Context, spec ThreadSpec) (ThreadStarted, error)
	// CancelThread asks the thread to stop at its next cancellation point
	// and joins it. A thread that has already ended, or is being
	// terminated, is an error matching [ErrThreadEnded].
	CancelThread(ctx context.Context, name string) (ThreadEnd, error)
	// WaitThread joins the thread; joined again, it gives the same end.
	WaitThread(ctx context.Context, name string) (ThreadEnd, error)
	// ThreadAlive reports whether the thread's body still runs.
	ThreadAlive(ctx context.Context, name string) (bool, error)
	// Threads lists the place's OS threads, from /proc/PID/task, marking
	// pmrun's.
	Threads(ctx context.Context) ([]ThreadItem, error)
	// CloseThreads cancels and joins every thread still running.
	CloseThreads(ctx context.Context) error

	// Send sends on the place's end of a channel.
	Send(ctx context.Context, a SendArgs) (SendReply, error)
	// Receive receives on the place's end of a channel. Finding nothing,
	// or fewer messages than asked before the timeout, is not an error;
	// an error may come with the messages received before it.
	Receive(ctx context.Context, a ReceiveArgs) (ReceiveReply, error)
	// TakeReceive returns the receive state of the place's end of a
	// channel, and leaves the end as new; PutReceive gives an end the
	// state another took. The places that receive from one channel take
	// turns this way (see [channel.ReceiveState]).
	TakeReceive(ctx context.Context, channel string) (Handoff, error)
	PutReceive(ctx context.Context, h Handoff) error
}

// Emitter reports an event of a place: the runner writes it to the run's
// log with the place's name as process.
type Emitter func(event, msg string, kv ...any)

// Errors a place returns, which keep their identity across the agent
// boundary ([Errors]): errors.Is matches them in the runner whether the
// thread lives there or in an agent.
var (
	// ErrNoSuchThread: no thread of that name.
	ErrNoSuchThread = errors.New("no such thread")
	// ErrThreadExists: a thread of that name is still running (or being
	// started); names are unique until the thread is joined.
	ErrThreadExists = errors.New("a thread of that name is still running")
	// ErrThreadEnded: the thread has ended, or is being terminated, so
	// there is nothing (more) to terminate.
	ErrThreadEnded = errors.New("the thread has already ended")
	// ErrGone: the place is an agent that can no longer answer (it died or
	// exited); the error is an [*agent.GoneError] saying how.
	ErrGone = agent.ErrAgentGone
)

// kindError is an error with a message of its own that wraps another,
// such as a sentinel, without repeating its text.
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// Errorf returns an error with the formatted message that wraps kind, a
// sentinel or any error whose text the message already says: errors.Is
// matches what kind matches.
func Errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}

// Thread bodies, the values of the thread action's run parameter.
const (
	RunIdle  = "idle"
	RunSleep = "sleep"
	RunSpin  = "spin"
)

// ThreadSpec is what a thread runs: its body, for how long (0: until
// terminated).
type ThreadSpec struct {
	Name string        `json:"name"`
	Run  string        `json:"run"`
	For  time.Duration `json:"for"`
}

// body returns the thread's body.
func (s ThreadSpec) body() func(*osthread.Thread) error {
	switch s.Run {
	case RunSleep:
		if s.For <= 0 {
			return (*osthread.Thread).Idle
		}
		return func(t *osthread.Thread) error { return t.Sleep(s.For) }
	case RunSpin:
		d := s.For
		if d <= 0 {
			d = time.Duration(1<<63 - 1)
		}
		return func(t *osthread.Thread) error { return t.Spin(d) }
	default:
		return (*osthread.Thread).Idle
	}
}

// ThreadStarted is a started thread's ids.
type ThreadStarted struct {
	TID int `json:"tid"`
	PID int `json:"pid"`
}

// ThreadEnd is how a joined thread ended.
type ThreadEnd struct {
	Name    string        `json:"name"`
	TID     int           `json:"tid"`
	State   string        `json:"state"` // finished, cancelled or failed
	Error   string        `json:"error,omitempty"`
	Runtime time.Duration `json:"runtime"`
	Latency time.Duration `json:"latency"` // from the cancel request to the end; 0 without one
}

func endOf(th *osthread.Thread, e osthread.Exit) ThreadEnd {
	end := ThreadEnd{Name: th.Name(), TID: th.TID(), State: string(e.State), Runtime: e.Runtime, Latency: e.CancelLatency}
	if e.State == osthread.Failed && e.Err != nil {
		end.Error = e.Err.Error()
	}
	return end
}

// Fields are a thread_end event's fields, but for event and process.
func (e ThreadEnd) Fields(pid int) []any {
	kv := []any{"thread", e.Name, "tid", e.TID, "pid", pid,
		"state", e.State, "runtime_ms", float64(e.Runtime.Microseconds()) / 1000}
	if e.Latency > 0 {
		kv = append(kv, "latency_us", float64(e.Latency.Nanoseconds())/1000)
	}
	if e.Error != "" {
		kv = append(kv, "error", e.Error)
	}
	return kv
}

// ThreadItem is one OS thread of a place, as list {threads} shows it.
type ThreadItem struct {
	TID   int    `json:"tid"`
	Name  string `json:"name"`  // the pmrun thread's name, or the kernel's (comm)
	Comm  string `json:"comm"`  // the kernel's name: at most 15 bytes
	State string `json:"state"` // the kernel's: running, sleeping, …
	PMRun bool   `json:"pmrun"` // a thread started by the thread action
}

// SendArgs is a send: a message count times, or count generated payloads
// of size bytes (stress mode). To an agent, the message travels beside
// the JSON (see [agent.Bulk]).
type SendArgs struct {
	Channel string `json:"channel"`
	Message []byte `json:"-"`
	Stress  bool   `json:"stress,omitempty"`
	Count   int    `json:"count"`
	Size    int    `json:"size,omitempty"`
}

// BulkParts returns the message, to send beside the JSON.
func (a SendArgs) BulkParts() [][]byte {
	if a.Message == nil {
		return nil
	}
	return [][]byte{a.Message}
}

// SetBulkParts takes the message back.
func (a *SendArgs) SetBulkParts(parts [][]byte) error {
	switch len(parts) {
	case 0:
		a.Message = nil
	case 1:
		a.Message = parts[0]
	default:
		return fmt.Errorf("a send takes one message, not %d", len(parts))
	}
	return nil
}

// SendReply is what a send sent, also when it failed partway.
type SendReply struct {
	Sent  int   `json:"sent"`
	Bytes int64 `json:"bytes"`
}

// ReceiveArgs is a receive: up to count messages within timeout; Verify
// checks generated payloads without keeping them.
type ReceiveArgs struct {
	Channel string        `json:"channel"`
	Timeout time.Duration `json:"timeout"`
	Count   int           `json:"count"`
	Verify  bool          `json:"verify,omitempty"`
}

// ReceiveReply is what arrived: Count and Bytes count every message, and
// Messages holds the first ones (see [Keep]), each in memory of its own
// that nothing writes after: the caller may keep it as a string without
// a copy. From an agent, the messages
// travel beside the JSON (see [agent.Bulk]).
type ReceiveReply struct {
	Messages [][]byte `json:"-"`
	Count    int      `json:"count"`
	Bytes    int64    `json:"bytes"`
	Verified bool     `json:"verified"`
}

// BulkParts returns the messages, to send beside the JSON.
func (r ReceiveReply) BulkParts() [][]byte { return r.Messages }

// SetBulkParts takes the messages back.
func (r *ReceiveReply) SetBulkParts(parts [][]byte) error {
	r.Messages = parts
	return nil
}

// Handoff is a channel's receive state on its way from the place that
// received last to the one that receives next; its buffered bytes and
// unfinished messages travel beside the JSON.
type Handoff struct {
	Channel string               `json:"channel"`
	State   channel.ReceiveState `json:"state"`
}

// BulkParts returns the buffered bytes, then each unfinished message.
func (h Handoff) BulkParts() [][]byte {
	parts := [][]byte{h.State.Buffered}
	for _, s := range h.State.Decoder.Senders {
		if s.Assembling {
			parts = append(parts, s.Partial)
		}
	}
	return parts
}

// SetBulkParts takes them back.
func (h *Handoff) SetBulkParts(parts [][]byte) error {
	if len(parts) == 0 {
		return errors.New("a receive state without its buffered bytes")
	}
	h.State.Buffered, parts = parts[0], parts[1:]
	for i := range h.State.Decoder.Senders {
		s := &h.State.Decoder.Senders[i]
		if !s.Assembling {
			continue
		}
		if len(parts) == 0 {
			return errors.New("a receive state lacks an unfinished message")
		}
		s.Partial, parts = parts[0], parts[1:]
	}
	if len(parts) > 0 {
		return fmt.Errorf("a receive state with %d parts too many", len(parts))
	}
	return nil
}

// Keep bounds the messages a receive keeps in its reply, and so in its
// step's result: the first messages received, as many as fit in 1,000
// messages and 1 MiB, and always the first one, whole. Count and Bytes
// still count every message. Without a bound, memory would grow with
// every message received (the README says so too).
var Keep = channel.Keep{Messages: 1000, Bytes: 1 << 20}
