package actions

import (
	"context"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/place"
)

func init() {
	register(&Spec{
		Name:      "send",
		Summary:   "Send a message on a channel, from the runner or an agent; with count and size and no message, numbered, checksummed payloads (stress mode).",
		Shorthand: "message",
		Params: []Param{
			{Name: "channel", Kind: String, Default: DefaultChannel, Ref: ChannelRef, Doc: "the channel"},
			{Name: "message", Kind: String, Doc: "the message: any text, newlines and NUL included; may embed ${{ EXPR }}"},
			{Name: "from", Kind: String, Default: RunnerName, Ref: AgentRef, Doc: "who sends: runner or an agent"},
			{Name: "count", Kind: Int, Default: 1, Min: intp(1), Max: intp(100_000_000), Doc: "how many messages to send"},
			{Name: "size", Kind: Size, Min: intp(1), Max: intp(1 << 30), Doc: "stress mode: the size of each generated payload, e.g. 64 or 64KiB"},
		},
		Results: fieldsOf[sendResult](),
		Check: func(s Static) []error {
			switch {
			case s.Set("message") && s.Set("size"):
				return []error{Paramf("size", "size is for generated payloads: give message or size, not both")}
			case !s.Set("message") && !s.Set("size"):
				return []error{Paramf("message", "nothing to send: give message, or count and size for generated payloads")}
			}
			return checkMessageSize(s)
		},
		New: func(a Args) (Action, error) {
			return &sendStep{from: a.String("from"), args: place.SendArgs{
				Channel: a.String("channel"), Message: []byte(a.String("message")),
				Stress: a.Has("size"), Count: a.Int("count"), Size: a.Int("size"),
			}}, nil
		},
	})
}

// checkMessageSize refuses, at load, a message or generated payload larger
// than its channel's max_message, which the send would refuse when it ran.
func checkMessageSize(s Static) []error {
	if s.Channel == nil || s.Dynamic("channel") {
		return nil
	}
	ch, ok := s.Channel(s.String("channel"))
	if !ok {
		return nil
	}
	for _, p := range []struct {
		name string
		size int
	}{{"size", s.Int("size")}, {"message", len(s.String("message"))}} {
		if s.Has(p.name) && p.size > ch.MaxMessage {
			return []error{Paramf(p.name, "%d bytes is more than channel %s takes in one message (max_message: %d)", p.size, ch.Name, ch.MaxMessage)}
		}
	}
	return nil
}

// sendResult is what a send sent.
type sendResult struct {
	Sent  int   `result:"sent" doc:"how many messages were sent"`
	Bytes int64 `result:"bytes" doc:"their payload bytes"`
}

type sendStep struct {
	from string
	args place.SendArgs
}

func (s *sendStep) Run(ctx context.Context, env *Env) (Result, error) {
	var reply place.SendReply
	p, err := hostOf(env).place(s.from)
	if err == nil {
		reply, err = p.Send(ctx, s.args)
	}
	kv := []any{"channel", s.args.Channel, "bytes", reply.Bytes, "count", reply.Sent, "sender", s.from}
	if env.Verbose && !s.args.Stress {
		kv = append(kv, "message", string(s.args.Message))
	}
	if reply.Sent > 0 {
		env.Event(evMessageSent, "message sent", kv...)
	}
	res := resultOf(sendResult{Sent: reply.Sent, Bytes: reply.Bytes})
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
	ch, err := hostOf(env).channel(name)
	if err != nil {
		return ""
	}
	if n, ok := ch.Unread(); ok && n > 0 {
		return fmt.Sprintf(" (%d bytes wait unread in %s)", n, name)
	}
	return ""
}
