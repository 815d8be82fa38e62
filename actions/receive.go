package actions

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/pmrun/pmrun/actions/internal/place"
)

func init() {
	register(&Spec{
		Name:    "receive",
		Summary: "Receive messages from a channel, in the runner or an agent; timeout 0 does not wait. Running out of time or messages is ok: false, not a failure; a damaged or cut-off message fails the step.",
		Params: []Param{
			{Name: "channel", Kind: String, Default: DefaultChannel, Ref: ChannelRef, Doc: "the channel"},
			{Name: "to", Kind: String, Default: RunnerName, Ref: AgentRef, Doc: "who receives: runner or an agent"},
			{Name: "timeout", Kind: Duration, Default: time.Duration(0), Doc: "how long to wait for count messages; 0 takes only what is waiting"},
			{Name: "count", Kind: Int, Default: 1, Min: intp(1), Max: intp(100_000_000), Doc: "how many messages to receive"},
			{Name: "verify", Kind: Bool, Default: false, Doc: "the messages are send's generated payloads: check each arrived whole, once and in order, without keeping them"},
		},
		Results: fieldsOf[receiveResult](),
		New: func(a Args) (Action, error) {
			return &receiveStep{to: a.String("to"), args: place.ReceiveArgs{
				Channel: a.String("channel"), Timeout: a.Duration("timeout"),
				Count: a.Int("count"), Verify: a.Bool("verify"),
			}}, nil
		},
	})
}

// receiveResult is what a receive got.
type receiveResult struct {
	OK       bool   `result:"ok" doc:"all count messages arrived"`
	Message  string `result:"message" doc:"the first message"`
	Messages []any  `result:"messages" doc:"the messages received, in order: the first ones, up to 1,000 messages and 1 MiB (the first always, whole); none with verify"`
	Count    int    `result:"count" doc:"how many arrived"`
	Bytes    int64  `result:"bytes" doc:"their payload bytes"`
	Verified bool   `result:"verified" doc:"every message passed its checks: checksum and sequence, and with verify the payload's number and pattern"`
}

type receiveStep struct {
	to   string
	args place.ReceiveArgs
}

func (r *receiveStep) Run(ctx context.Context, env *Env) (Result, error) {
	reply, err := hostOf(env).receive(ctx, env, r.to, r.args)
	messages := make([]any, len(reply.Messages))
	first := ""
	for i, m := range reply.Messages {
		s := text(m)
		if i == 0 {
			first = s // the same string, not a second copy
		}
		messages[i] = s
	}
	if reply.Count > 0 {
		kv := []any{"channel", r.args.Channel, "bytes", reply.Bytes, "count", reply.Count, "receiver", r.to}
		if env.Verbose && !r.args.Verify {
			kv = append(kv, "message", first)
		}
		env.Event(evMessageReceived, "message received", kv...)
	}
	res := resultOf(receiveResult{
		OK: reply.Count == r.args.Count && err == nil, Message: first, Messages: messages,
		Count: reply.Count, Bytes: reply.Bytes, Verified: reply.Verified && err == nil,
	})
	if err != nil {
		return res, fmt.Errorf("receive on %s in %s: %w", r.args.Channel, r.to, err)
	}
	return res, nil
}

// text returns m as a string without copying it: a message may be as
// large as 1 GiB, and a copy would double what the runner holds (issue
// 27, item 7). Safe because a receive's messages are each in memory of
// their own that nothing writes once received ([place.ReceiveReply]).
func text(m []byte) string {
	if len(m) == 0 {
		return ""
	}
	return unsafe.String(&m[0], len(m))
}
