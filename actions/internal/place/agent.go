package place

import (
	"context"
	"errors"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/agent"
)

// Agent is the [Place] of an agent process, seen from the runner: each
// method runs the matching operation in the agent. Its errors name the
// agent; those of a dead agent match [ErrGone].
type Agent struct {
	name   string
	client *agent.Client
}

// NewAgent returns the place of the agent called name, reached through
// client, which must use [Errors].
func NewAgent(name string, client *agent.Client) *Agent {
	return &Agent{name: name, client: client}
}

// Name returns the agent's name.
func (a *Agent) Name() string { return a.name }

// StartThread starts a thread in the agent.
func (a *Agent) StartThread(ctx context.Context, spec ThreadSpec) (ThreadStarted, error) {
	r, err := opThreadStart.call(ctx, a.client, spec)
	return r, a.threadErr(ctx, spec.Name, err)
}

// CancelThread cancels a thread of the agent and joins it.
func (a *Agent) CancelThread(ctx context.Context, name string) (ThreadEnd, error) {
	r, err := opThreadCancel.call(ctx, a.client, threadRef{name})
	return r, a.threadErr(ctx, name, err)
}

// WaitThread joins a thread of the agent.
func (a *Agent) WaitThread(ctx context.Context, name string) (ThreadEnd, error) {
	r, err := opThreadWait.call(ctx, a.client, threadRef{name})
	return r, a.threadErr(ctx, name, err)
}

// ThreadAlive asks the agent whether the thread's body still runs.
func (a *Agent) ThreadAlive(ctx context.Context, name string) (bool, error) {
	r, err := opThreadAlive.call(ctx, a.client, threadRef{name})
	return r, a.threadErr(ctx, name, err)
}

// Threads lists the agent's OS threads.
func (a *Agent) Threads(ctx context.Context) ([]ThreadItem, error) {
	r, err := opThreadList.call(ctx, a.client, none{})
	return r, a.err(err)
}

// CloseThreads cancels and joins every thread of the agent.
func (a *Agent) CloseThreads(ctx context.Context) error {
	_, err := opThreadClose.call(ctx, a.client, none{})
	return a.err(err)
}

// Send sends on the agent's end of a channel.
func (a *Agent) Send(ctx context.Context, args SendArgs) (SendReply, error) {
	r, err := opSend.call(ctx, a.client, args)
	return r, a.err(err)
}

// Receive receives on the agent's end of a channel.
func (a *Agent) Receive(ctx context.Context, args ReceiveArgs) (ReceiveReply, error) {
	r, err := opReceive.call(ctx, a.client, args)
	return r, a.err(err)
}

// TakeReceive takes the receive state of the agent's end of a channel.
func (a *Agent) TakeReceive(ctx context.Context, channel string) (Handoff, error) {
	r, err := opTakeReceive.call(ctx, a.client, channelRef{channel})
	return r, a.err(err)
}

// PutReceive gives the agent's end of a channel a receive state.
func (a *Agent) PutReceive(ctx context.Context, h Handoff) error {
	_, err := opPutReceive.call(ctx, a.client, h)
	return a.err(err)
}

// RunWorker runs a prodcons worker in the agent, which must have been
// started with the run's shared region as its first file, and returns the
// worker's error.
func (a *Agent) RunWorker(ctx context.Context, args WorkerArgs) error {
	_, err := opWorker.call(ctx, a.client, args)
	return a.err(err)
}

// Ping returns once the agent answers: it has started.
func (a *Agent) Ping(ctx context.Context) error {
	return a.client.Call(ctx, agent.OpPing, nil, nil)
}

// Exit asks the agent to exit (with status 0).
func (a *Agent) Exit(ctx context.Context) error {
	return a.client.Call(ctx, agent.OpExit, nil, nil)
}

// Close closes the control connection, which tells the agent to exit.
func (a *Agent) Close() error { return a.client.Close() }

// err names the agent in an error its handler returned; the sentinels the
// error matched still match.
func (a *Agent) err(err error) error {
	var re *agent.RemoteError
	if errors.As(err, &re) {
		return &remoteError{agent: a.name, err: re}
	}
	return err
}

// threadErr is err of an operation on thread name: a dead agent's error
// as it is (the runner says the thread is lost), the step's time running
// out as that, and the rest naming the agent.
func (a *Agent) threadErr(ctx context.Context, name string, err error) error {
	var re *agent.RemoteError
	switch {
	case err == nil || errors.Is(err, ErrGone):
		return err
	case ctx.Err() != nil:
		// The step's or the run's time ran out: say that, not how the
		// call was given up.
		return fmt.Errorf("thread %q in agent %s: %w", name, a.name, context.Cause(ctx))
	case errors.As(err, &re):
		return &remoteError{agent: a.name, err: re}
	}
	return fmt.Errorf("thread %q in agent %s: %w", name, a.name, err)
}

// remoteError is an agent's handler's error, named by the agent rather
// than by the operation.
type remoteError struct {
	agent string
	err   *agent.RemoteError
}

func (e *remoteError) Error() string { return "agent " + e.agent + ": " + e.err.Message }
func (e *remoteError) Unwrap() error { return e.err }
