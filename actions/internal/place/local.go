package place

import (
	"context"
	"errors"
	"os"

	"github.com/pmrun/pmrun/actions/internal/channel"
)

// Local is the [Place] of this process: its pmrun threads and its ends of
// the run's channels. The runner has one for itself; an agent serves its
// own to the runner.
type Local struct {
	name     string
	channels func(name string) (*channel.Channel, error)
	emit     Emitter
	threads  threads
}

// NewLocal returns the place called name (runner, or the agent's name).
// channels finds this process's end of a channel; emit, which may be nil,
// reports the events of what outlives a call, such as a thread's end.
func NewLocal(name string, channels func(name string) (*channel.Channel, error), emit Emitter) *Local {
	return &Local{name: name, channels: channels, emit: emit}
}

// Name returns the place's name.
func (l *Local) Name() string { return l.name }

// ThreadEndEvent is the event a place logs when a thread it started ends
// (the action that declares it, and thread_start, is package actions').
const ThreadEndEvent = "thread_end"

// StartThread starts a thread; its end is reported as a [ThreadEndEvent].
func (l *Local) StartThread(_ context.Context, spec ThreadSpec) (ThreadStarted, error) {
	pid := os.Getpid()
	var onEnd func(ThreadEnd)
	if emit := l.emit; emit != nil {
		onEnd = func(e ThreadEnd) { emit(ThreadEndEvent, "thread ended", e.Fields(pid)...) }
	}
	th, err := l.threads.start(spec, onEnd)
	if err != nil {
		return ThreadStarted{}, err
	}
	return ThreadStarted{TID: th.TID(), PID: pid}, nil
}

// CancelThread cancels the thread and joins it.
func (l *Local) CancelThread(ctx context.Context, name string) (ThreadEnd, error) {
	return l.threads.cancel(ctx, name)
}

// WaitThread joins the thread.
func (l *Local) WaitThread(ctx context.Context, name string) (ThreadEnd, error) {
	return l.threads.wait(ctx, name)
}

// ThreadAlive reports whether the thread's body still runs.
func (l *Local) ThreadAlive(_ context.Context, name string) (bool, error) {
	return l.threads.alive(name), nil
}

// Threads lists this process's OS threads.
func (l *Local) Threads(context.Context) ([]ThreadItem, error) { return l.threads.list() }

// CloseThreads cancels and joins every thread still running.
func (l *Local) CloseThreads(ctx context.Context) error { return l.threads.close(ctx) }

// Send sends on this process's end of the channel.
func (l *Local) Send(ctx context.Context, a SendArgs) (SendReply, error) {
	ch, err := l.channel(a.Channel)
	if err != nil {
		return SendReply{}, err
	}
	if a.Stress {
		st, err := ch.SendStress(ctx, a.Count, a.Size)
		return SendReply{Sent: st.Messages, Bytes: st.Bytes}, err
	}
	var r SendReply
	for range a.Count {
		if err := ch.Send(ctx, a.Message); err != nil {
			return r, err
		}
		r.Sent++
		r.Bytes += int64(len(a.Message))
	}
	return r, nil
}

// Receive receives on this process's end of the channel. Finding nothing
// waiting, or fewer messages than asked before the timeout, is not an
// error: the reply says how many came. The reply keeps the first messages
// only ([Keep]); it counts them all. A failure after some messages came
// returns them, unverified, with the error.
func (l *Local) Receive(ctx context.Context, a ReceiveArgs) (ReceiveReply, error) {
	ch, err := l.channel(a.Channel)
	if err != nil {
		return ReceiveReply{}, err
	}
	if a.Verify {
		st, err := ch.ReceiveStress(ctx, a.Count, a.Timeout)
		r := ReceiveReply{Count: st.Messages, Bytes: st.Bytes, Verified: st.Verified}
		if errors.Is(err, channel.ErrEmpty) || errors.Is(err, channel.ErrTimeout) {
			err = nil
		}
		return r, err
	}
	msgs, st, err := ch.ReceiveKeep(ctx, a.Count, a.Timeout, Keep)
	r := ReceiveReply{Messages: msgs, Count: st.Messages, Bytes: st.Bytes, Verified: err == nil}
	if errors.Is(err, channel.ErrEmpty) || errors.Is(err, channel.ErrTimeout) {
		r.Verified = true
		return r, nil
	}
	return r, err
}

// TakeReceive takes the receive state of this process's end of the
// channel.
func (l *Local) TakeReceive(ctx context.Context, name string) (Handoff, error) {
	ch, err := l.channel(name)
	if err != nil {
		return Handoff{}, err
	}
	st, err := ch.TakeReceiveState(ctx)
	return Handoff{Channel: name, State: st}, err
}

// PutReceive gives this process's end of the channel a receive state.
func (l *Local) PutReceive(ctx context.Context, h Handoff) error {
	ch, err := l.channel(h.Channel)
	if err != nil {
		return err
	}
	return ch.PutReceiveState(ctx, h.State)
}

func (l *Local) channel(name string) (*channel.Channel, error) {
	if l.channels == nil {
		return nil, errors.New("no channels here")
	}
	return l.channels(name)
}
