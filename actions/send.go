package actions

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/channel"
)

func init() {
	Register(&Spec{
		Name:      "send",
		Summary:   "Send a message on a channel, from the runner or an agent; with count and size and no message, numbered, checksummed payloads (stress mode).",
		Shorthand: "message",
		Params: []Param{
			{Name: "channel", Kind: String, Default: DefaultChannel, Ref: ChannelRef, Doc: "the channel"},
			{Name: "message", Kind: String, Doc: "the message: any text, newlines and NUL included; may embed ${{ EXPR }}"},
			{Name: "from", Kind: String, Default: "runner", Ref: AgentRef, Doc: "who sends: runner or an agent"},
			{Name: "count", Kind: Int, Default: 1, Min: intp(1), Max: intp(100_000_000), Doc: "how many messages to send"},
			{Name: "size", Kind: Size, Min: intp(1), Max: intp(1 << 30), Doc: "stress mode: the size of each generated payload, e.g. 64 or 64KiB"},
		},
		Results: []Field{
			{Name: "sent", Type: "int", Doc: "how many messages were sent"},
			{Name: "bytes", Type: "int", Doc: "their payload bytes"},
		},
		Check: func(s Static) []error {
			switch {
			case s.Set("message") && s.Set("size"):
				return []error{Paramf("size", "size is for generated payloads: give message or size, not both")}
			case !s.Set("message") && !s.Set("size"):
				return []error{Paramf("message", "nothing to send: give message, or count and size for generated payloads")}
			}
			return nil
		},
		New: func(a Args) (Action, error) {
			return &send{from: a.String("from"), args: sendArgs{
				Channel: a.String("channel"), Message: []byte(a.String("message")),
				Stress: a.Has("size"), Count: a.Int("count"), Size: a.Int("size"),
			}}, nil
		},
	})
	handleAgent(opSend, func(ctx context.Context, raw json.RawMessage, emit Emitter) (any, error) {
		var a sendArgs
		if err := decodeArgs(opSend, raw, &a); err != nil {
			return nil, err
		}
		ch, err := agentChannel(a.Channel)
		if err != nil {
			return nil, err
		}
		return doSend(ctx, ch, a)
	})
}

const opSend = "channel.send"

// sendArgs is a send, as the runner does it or asks an agent to.
type sendArgs struct {
	Channel string `json:"channel"`
	Message []byte `json:"message,omitempty"`
	Stress  bool   `json:"stress,omitempty"`
	Count   int    `json:"count"`
	Size    int    `json:"size,omitempty"`
}

type sendReply struct {
	Sent  int   `json:"sent"`
	Bytes int64 `json:"bytes"`
}

type send struct {
	from string
	args sendArgs
}

func (s *send) Run(ctx context.Context, env *Env) (Result, error) {
	var reply sendReply
	var err error
	if s.from == "runner" {
		var ch *channel.Channel
		if ch, err = env.Host.channel(s.args.Channel); err == nil {
			reply, err = doSend(ctx, ch, s.args)
		}
	} else {
		err = env.Host.callAgent(ctx, s.from, opSend, s.args, &reply)
	}
	kv := []any{"channel", s.args.Channel, "bytes", reply.Bytes, "count", reply.Sent, "sender", s.from}
	if env.Verbose && !s.args.Stress {
		kv = append(kv, "message", string(s.args.Message))
	}
	if reply.Sent > 0 {
		env.Event("message_sent", "message sent", kv...)
	}
	res := Result{"sent": reply.Sent, "bytes": reply.Bytes}
	if err != nil {
		return res, fmt.Errorf("send on %s from %s: %w%s", s.args.Channel, s.from, err, unreadHint(ctx, env, s.args.Channel))
	}
	return res, nil
}

// unreadHint says, for a send stopped by its timeout or Ctrl-C, how much
// waits unread in the channel: a full channel nobody receives from is the
// usual reason a send never ends.
func unreadHint(ctx context.Context, env *Env, name string) string {
	if ctx.Err() == nil {
		return ""
	}
	ch, err := env.Host.channel(name)
	if err != nil {
		return ""
	}
	if n, ok := ch.Unread(); ok && n > 0 {
		return fmt.Sprintf(" (%d bytes wait unread in %s)", n, name)
	}
	return ""
}

// doSend sends on this process's end of a channel.
func doSend(ctx context.Context, ch *channel.Channel, a sendArgs) (sendReply, error) {
	if a.Stress {
		st, err := ch.SendStress(ctx, a.Count, a.Size)
		return sendReply{Sent: st.Messages, Bytes: st.Bytes}, err
	}
	var r sendReply
	for i := 0; i < a.Count; i++ {
		if err := ch.Send(ctx, a.Message); err != nil {
			return r, err
		}
		r.Sent++
		r.Bytes += int64(len(a.Message))
	}
	return r, nil
}
