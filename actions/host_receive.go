package actions

import (
	"context"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/internal/place"
)

// A channel can be received from in several places: the runner and any
// agent hold an end of it. An end reads ahead of what it returns and
// checks each sender's sequence, so the places take turns: one receive at
// a time per channel, and before a place receives, the receive state of
// the place that received last moves to it (place.Handoff): the bytes it
// read ahead, each sender's sequence and unfinished message. No receiver
// holds back another's messages, and none sees a gap where another
// received.

// receiveTurn is one channel's turn to receive.
type receiveTurn struct {
	sem    chan struct{} // held by the receive in progress
	holder string        // the place that received last: its end holds the state
}

// turn returns the channel's receiveTurn, made on first use.
func (h *Host) turn(channel string) *receiveTurn {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.turns == nil {
		h.turns = map[string]*receiveTurn{}
	}
	t := h.turns[channel]
	if t == nil {
		t = &receiveTurn{sem: make(chan struct{}, 1)}
		h.turns[channel] = t
	}
	return t
}

// receive receives in the place called to, when it is that place's turn.
// Waiting for the turn counts against the receive's timeout: a receive
// that does not wait (timeout 0) finds nothing while another receives.
func (h *Host) receive(ctx context.Context, env *Env, to string, args place.ReceiveArgs) (place.ReceiveReply, error) {
	p, err := h.place(to)
	if err != nil {
		return place.ReceiveReply{}, err
	}
	t := h.turn(args.Channel)
	nothing := place.ReceiveReply{Verified: !args.Verify}
	start := time.Now()
	select {
	case t.sem <- struct{}{}:
	default:
		if args.Timeout <= 0 {
			return nothing, nil
		}
		wait := time.NewTimer(args.Timeout)
		defer wait.Stop()
		select {
		case t.sem <- struct{}{}:
		case <-wait.C:
			return nothing, nil
		case <-ctx.Done():
			return place.ReceiveReply{}, context.Cause(ctx)
		}
		// What is left of the timeout; none left takes what is waiting.
		args.Timeout = max(0, args.Timeout-time.Since(start))
	}
	defer func() { <-t.sem }()
	if t.holder != "" && t.holder != to {
		if err := h.handOver(ctx, env, args.Channel, t.holder, p); err != nil {
			return place.ReceiveReply{}, err
		}
	}
	t.holder = to
	return p.Receive(ctx, args)
}

// handOver moves a channel's receive state from the place called from to
// the place to. An agent that has gone took what it had read with it:
// a warning says so, and the receive goes on without it.
func (h *Host) handOver(ctx context.Context, env *Env, channel, from string, to place.Place) error {
	src, err := h.place(from)
	var hand place.Handoff
	if err == nil {
		hand, err = src.TakeReceive(ctx, channel)
	}
	if err != nil {
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		env.EventLevel(hclog.Warn, evReceiveStateLost, "what a receiver had read of a channel is lost",
			"channel", channel, "process", from, "error", err.Error())
		return nil
	}
	if hand.State.Empty() {
		return nil
	}
	return to.PutReceive(ctx, hand)
}
