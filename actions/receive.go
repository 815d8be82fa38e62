package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pmrun/pmrun/actions/internal/channel"
)

func init() {
	Register(&Spec{
		Name:    "receive",
		Summary: "Receive messages from a channel, in the runner or an agent; timeout 0 does not wait. Running out of time or messages is ok: false, not a failure; a damaged or cut-off message fails the step.",
		Params: []Param{
			{Name: "channel", Kind: String, Default: DefaultChannel, Ref: ChannelRef, Doc: "the channel"},
			{Name: "to", Kind: String, Default: "runner", Ref: AgentRef, Doc: "who receives: runner or an agent"},
			{Name: "timeout", Kind: Duration, Default: time.Duration(0), Doc: "how long to wait for count messages; 0 takes only what is waiting"},
			{Name: "count", Kind: Int, Default: 1, Min: intp(1), Max: intp(100_000_000), Doc: "how many messages to receive"},
			{Name: "verify", Kind: Bool, Default: false, Doc: "the messages are send's generated payloads: check each arrived whole, once and in order, without keeping them"},
		},
		Results: []Field{
			{Name: "ok", Type: "bool", Doc: "all count messages arrived"},
			{Name: "message", Type: "string", Doc: "the first message"},
			{Name: "messages", Type: "list", Doc: "every message received (not kept with verify)"},
			{Name: "count", Type: "int", Doc: "how many arrived"},
			{Name: "bytes", Type: "int", Doc: "their payload bytes"},
			{Name: "verified", Type: "bool", Doc: "every message passed its checks: checksum and sequence, and with verify the payload's number and pattern"},
		},
		New: func(a Args) (Action, error) {
			return &receive{to: a.String("to"), args: receiveArgs{
				Channel: a.String("channel"), Timeout: a.Duration("timeout"),
				Count: a.Int("count"), Verify: a.Bool("verify"),
			}}, nil
		},
	})
	handleAgent(opReceive, func(ctx context.Context, raw json.RawMessage, emit Emitter) (any, error) {
		var a receiveArgs
		if err := decodeArgs(opReceive, raw, &a); err != nil {
			return nil, err
		}
		ch, err := agentChannel(a.Channel)
		if err != nil {
			return nil, err
		}
		return doReceive(ctx, ch, a)
	})
}

const opReceive = "channel.receive"

type receiveArgs struct {
	Channel string        `json:"channel"`
	Timeout time.Duration `json:"timeout"`
	Count   int           `json:"count"`
	Verify  bool          `json:"verify,omitempty"`
}

// receiveReply is what arrived; Err is a failure that still leaves the
// messages before it, sent back from an agent as text.
type receiveReply struct {
	Messages [][]byte `json:"messages,omitempty"`
	Count    int      `json:"count"`
	Bytes    int64    `json:"bytes"`
	Verified bool     `json:"verified"`
	Err      string   `json:"err,omitempty"`
}

type receive struct {
	to   string
	args receiveArgs
}

func (r *receive) Run(ctx context.Context, env *Env) (Result, error) {
	var reply receiveReply
	var err error
	if r.to == "runner" {
		var ch *channel.Channel
		if ch, err = env.Host.channel(r.args.Channel); err == nil {
			reply, err = doReceive(ctx, ch, r.args)
		}
	} else {
		err = env.Host.callAgent(ctx, r.to, opReceive, r.args, &reply)
	}
	if err == nil && reply.Err != "" {
		err = errors.New(reply.Err)
	}
	messages := make([]any, len(reply.Messages))
	first := ""
	for i, m := range reply.Messages {
		messages[i] = string(m)
	}
	if len(reply.Messages) > 0 {
		first = string(reply.Messages[0])
	}
	if reply.Count > 0 {
		kv := []any{"channel", r.args.Channel, "bytes", reply.Bytes, "count", reply.Count, "receiver", r.to}
		if env.Verbose && !r.args.Verify {
			kv = append(kv, "message", first)
		}
		env.Event("message_received", "message received", kv...)
	}
	res := Result{
		"ok": reply.Count == r.args.Count && err == nil, "message": first, "messages": messages,
		"count": reply.Count, "bytes": reply.Bytes, "verified": reply.Verified && err == nil,
	}
	if err != nil {
		return res, fmt.Errorf("receive on %s in %s: %w", r.args.Channel, r.to, err)
	}
	return res, nil
}

// doReceive receives on this process's end of a channel. Finding nothing
// waiting, or fewer messages than asked before the timeout, is not an
// error: the reply says how many came.
func doReceive(ctx context.Context, ch *channel.Channel, a receiveArgs) (receiveReply, error) {
	if a.Verify {
		st, err := ch.ReceiveStress(ctx, a.Count, a.Timeout)
		r := receiveReply{Count: st.Messages, Bytes: st.Bytes, Verified: st.Verified}
		if errors.Is(err, channel.ErrEmpty) || errors.Is(err, channel.ErrTimeout) {
			err = nil
		}
		return r, err
	}
	msgs, err := ch.ReceiveN(ctx, a.Count, a.Timeout)
	r := receiveReply{Messages: msgs, Count: len(msgs), Verified: true}
	for _, m := range msgs {
		r.Bytes += int64(len(m))
	}
	if errors.Is(err, channel.ErrEmpty) || errors.Is(err, channel.ErrTimeout) {
		return r, nil
	}
	if err != nil && len(msgs) > 0 {
		// Keep what came before the failure, and say what failed.
		r.Verified, r.Err = false, err.Error()
		return r, nil
	}
	return r, err
}

// decodeArgs decodes an agent operation's arguments.
func decodeArgs(op string, raw json.RawMessage, v any) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: bad arguments %s: %w", op, raw, err)
	}
	return nil
}
