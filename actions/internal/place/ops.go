package place

import (
	"context"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/channel"
	"github.com/pmrun/pmrun/actions/internal/frame"
	"github.com/pmrun/pmrun/actions/internal/sem"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

// The operations an agent serves, besides package agent's ping and exit:
// each one's name on the wire, its arguments and its reply. [Agent] calls
// them; agentProcess.handlers serves them.
var (
	opThreadStart  = op[ThreadSpec, ThreadStarted]{"thread.start"}
	opThreadCancel = op[threadRef, ThreadEnd]{"thread.cancel"}
	opThreadWait   = op[threadRef, ThreadEnd]{"thread.wait"}
	opThreadAlive  = op[threadRef, bool]{"thread.alive"}
	opThreadList   = op[none, []ThreadItem]{"thread.list"}
	opThreadClose  = op[none, none]{"thread.close"}
	opSend         = op[SendArgs, SendReply]{"channel.send"}
	opReceive      = op[ReceiveArgs, ReceiveReply]{"channel.receive"}
	opTakeReceive  = op[channelRef, Handoff]{"channel.take_receive"}
	opPutReceive   = op[Handoff, none]{"channel.put_receive"}
	// opWorker runs one prodcons worker of a processes-mode run.
	opWorker = op[WorkerArgs, none]{"prodcons.worker"}
)

// threadRef names a thread, as the arguments of an operation on it.
type threadRef struct {
	Name string `json:"name"`
}

// channelRef names a channel, as the arguments of an operation on it.
type channelRef struct {
	Name string `json:"name"`
}

// none is the arguments or the reply of an operation that has none.
type none struct{}

// Errors are the sentinels that keep their identity between the runner and
// its agents (see [agent.Errors]), by code. Add one here when the runner
// needs to tell it apart in an agent's error.
var Errors = agent.Errors{
	"no_such_thread":   ErrNoSuchThread,
	"thread_exists":    ErrThreadExists,
	"thread_ended":     ErrThreadEnded,
	"cancelled":        sem.ErrCancelled,
	"owner_dead":       sem.ErrOwnerDead,
	"sem_timeout":      sem.ErrTimeout,
	"no_region":        errNoRegion,
	"region_closed":    shm.ErrClosed,
	"receive_timeout":  channel.ErrTimeout,
	"empty":            channel.ErrEmpty,
	"receiver_gone":    channel.ErrReceiverGone,
	"no_reader":        channel.ErrNoReader,
	"no_end":           channel.ErrNoEnd,
	"invalid_channel":  channel.ErrInvalid,
	"verify_failed":    channel.ErrVerify,
	"corrupt":          frame.ErrCorrupt,
	"sequence_gap":     frame.ErrSequence,
	"truncated":        frame.ErrTruncated,
	"too_large":        frame.ErrTooLarge,
	"newline_in_lines": frame.ErrNewline,
}

// op is one agent operation: its name on the wire, arguments A and
// reply R, both JSON.
type op[A, R any] struct{ name string }

// call runs the operation in the agent c reaches. The reply is returned
// with an error too: what was done before it.
func (o op[A, R]) call(ctx context.Context, c *agent.Client, args A) (R, error) {
	var reply R
	err := c.Call(ctx, o.name, args, &reply)
	return reply, err
}

// serve is the agent's handler of the operation, doing it with f. The
// operations take no descriptors: an agent gets its files at spawn.
func (o op[A, R]) serve(f func(context.Context, A) (R, error)) agent.Handler {
	return func(ctx context.Context, req agent.Request) (any, error) {
		for _, f := range req.Files {
			f.Close()
		}
		var args A
		if err := req.Decode(&args); err != nil {
			return nil, fmt.Errorf("%s: bad arguments %.200s: %w", o.name, req.Args, err)
		}
		return f(ctx, args)
	}
}
