package actions

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/pmrun/pmrun/actions/internal/channel"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// Agents are pmrun itself re-executed (`pmrun agent`), controlled by the
// runner over a socketpair: they host threads, channel ends and prodcons
// workers in a process of their own. An action that needs an agent to do
// something registers an operation with [handleAgent] in its init; the
// runner side calls it with [Host.callAgent].

// Emitter logs an event from inside an agent; the runner writes it to the
// run's log with the agent's name as process.
type Emitter func(event, msg string, kv ...any)

// AgentHandler runs an operation inside an agent process. args is the JSON
// the runner sent; the returned value is sent back as JSON.
type AgentHandler func(ctx context.Context, args json.RawMessage, emit Emitter) (any, error)

var agentOps = map[string]AgentHandler{}

// handleAgent registers an agent operation; call it from init.
func handleAgent(op string, h AgentHandler) {
	if _, dup := agentOps[op]; dup {
		panic("actions: duplicate agent operation " + op)
	}
	agentOps[op] = h
}

// errNoAgents is returned until agents are wired in.
var errNoAgents = errors.New("agents are not available yet")

// agent is a pmrun agent process of the run.
type agent struct{}

// startAgent starts an agent called name; files are passed to it at spawn
// (after the control socket and the channels) and may be closed by the
// caller once it returns.
func (h *Host) startAgent(ctx context.Context, name string, env map[string]string, files ...*os.File) (*proc.Process, error) {
	return nil, errNoAgents
}

// isAgent reports whether name is an agent of this run.
func (h *Host) isAgent(name string) bool { return false }

// callAgent runs op in the agent called name and decodes its reply into
// reply (unless nil). It fails at once if the agent has died.
func (h *Host) callAgent(ctx context.Context, name, op string, args, reply any) error {
	return errNoAgents
}

// agentChannel returns, inside an agent, its end of the run's channel
// called name.
func agentChannel(name string) (*channel.Channel, error) { return nil, errNoAgents }

// agentFiles returns, inside an agent, the files the runner passed to
// startAgent, in order.
func agentFiles() []*os.File { return nil }

func (h *Host) closeAgents(ctx context.Context) {}
