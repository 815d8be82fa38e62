package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
)

// The agent operations behind thread, terminate {thread}, wait {thread},
// list {threads} and alive() for threads that live in an agent. Each works
// on the agent's own thread table, agentThreads; their arguments are a
// [threadSpec] (only the name, but for thread.start).
const (
	opThreadStart  = "thread.start"  // start a thread; replies threadStarted
	opThreadCancel = "thread.cancel" // cancel and join; replies threadEnd
	opThreadWait   = "thread.wait"   // join; replies threadEnd
	opThreadAlive  = "thread.alive"  // replies whether its body still runs
	opThreadList   = "thread.list"   // replies []threadItem from /proc/self/task
	opThreadClose  = "thread.close"  // cancel and join every thread
)

// agentThreads are the pmrun threads of this process when it is an agent.
var agentThreads localThreads

func init() {
	handleAgent(opThreadStart, func(ctx context.Context, args json.RawMessage, emit Emitter) (any, error) {
		spec, err := threadArgs(opThreadStart, args)
		if err != nil {
			return nil, err
		}
		pid := os.Getpid()
		var onEnd func(threadEnd)
		if emit != nil {
			// The emitter outlives this call: the thread reports its own end.
			onEnd = func(e threadEnd) { emit("thread_end", "thread ended", endFields(e, pid)...) }
		}
		th, err := agentThreads.start(spec, onEnd)
		if err != nil {
			return nil, err
		}
		return threadStarted{TID: th.TID(), PID: pid}, nil
	})
	handleAgent(opThreadCancel, func(ctx context.Context, args json.RawMessage, _ Emitter) (any, error) {
		spec, err := threadArgs(opThreadCancel, args)
		if err != nil {
			return nil, err
		}
		return agentThreads.cancel(ctx, spec.Name)
	})
	handleAgent(opThreadWait, func(ctx context.Context, args json.RawMessage, _ Emitter) (any, error) {
		spec, err := threadArgs(opThreadWait, args)
		if err != nil {
			return nil, err
		}
		return agentThreads.wait(ctx, spec.Name)
	})
	handleAgent(opThreadAlive, func(ctx context.Context, args json.RawMessage, _ Emitter) (any, error) {
		spec, err := threadArgs(opThreadAlive, args)
		if err != nil {
			return nil, err
		}
		return agentThreads.alive(spec.Name), nil
	})
	handleAgent(opThreadList, func(ctx context.Context, _ json.RawMessage, _ Emitter) (any, error) {
		return agentThreads.list()
	})
	handleAgent(opThreadClose, func(ctx context.Context, _ json.RawMessage, _ Emitter) (any, error) {
		return nil, agentThreads.close(ctx)
	})
}

// threadArgs decodes an operation's arguments.
func threadArgs(op string, args json.RawMessage) (threadSpec, error) {
	var spec threadSpec
	if err := json.Unmarshal(args, &spec); err != nil {
		return spec, fmt.Errorf("%s: bad arguments %s: %w", op, args, err)
	}
	if spec.Name == "" {
		return spec, fmt.Errorf("%s: no thread name in %s", op, args)
	}
	return spec, nil
}
