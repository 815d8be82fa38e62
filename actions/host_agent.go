package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/channel"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// Agents are pmrun itself re-executed (`pmrun agent`), controlled by the
// runner over a socketpair (package agent): they host threads, channel ends
// and prodcons workers in a process of their own. An action that needs an
// agent to do something registers an operation with [handleAgent] in its
// init; the runner side calls it with [Host.callAgent].
//
// At spawn an agent gets, after its control socket, one end of every
// channel and then the files its starter passes; the environment variable
// agentLayoutEnv tells it which descriptor is what.

// Emitter logs an event from inside an agent; the runner writes it to the
// run's log with the agent's name as process.
type Emitter func(event, msg string, kv ...any)

// AgentHandler runs an operation inside an agent process. args is the JSON
// the runner sent; the returned value is sent back as JSON.
type AgentHandler func(ctx context.Context, args json.RawMessage, emit Emitter) (any, error)

// agentOps are the registered operations, by name, for tests that call
// one in-process.
var agentOps = map[string]AgentHandler{}

// handleAgent registers an agent operation; call it from init.
func handleAgent(op string, h AgentHandler) {
	agentOps[op] = h
	agent.Handle(op, func(ctx context.Context, args json.RawMessage, files []*os.File) (any, error) {
		for _, f := range files {
			f.Close() // operations take what they need from agentFiles
		}
		return h(ctx, args, peerEmitter(agent.PeerFrom(ctx)))
	})
}

// peerEmitter sends events to the runner through p.
func peerEmitter(p *agent.Peer) Emitter {
	if p == nil {
		return nil
	}
	return func(event, msg string, kv ...any) {
		fields := make(map[string]any, len(kv)/2+1)
		fields["msg"] = msg
		for i := 0; i+1 < len(kv); i += 2 {
			if k, ok := kv[i].(string); ok {
				fields[k] = kv[i+1]
			}
		}
		_ = p.Emit(event, fields)
	}
}

const agentLayoutEnv = "PMRUN_AGENT_LAYOUT"

// agentLayout tells an agent what the descriptors after its control
// socket are.
type agentLayout struct {
	Name     string         `json:"name"`
	Channels []channel.Spec `json:"channels"`
	Files    int            `json:"files"` // passed by the starter, after the channels'
}

// agentProc is an agent process of the run and its control connection.
type agentProc struct {
	client *agent.Client
	proc   *proc.Process
}

// startAgent starts an agent called name; files are passed to it at spawn
// (after the control socket and the channels) and may be closed by the
// caller once it returns.
func (h *Host) startAgent(ctx context.Context, name string, env map[string]string, files ...*os.File) (*proc.Process, error) {
	t, err := h.table()
	if err != nil {
		return nil, err
	}
	specs, chanFiles, err := h.channelFiles()
	if err != nil {
		return nil, err
	}
	defer func() {
		for _, f := range chanFiles {
			f.Close()
		}
	}()
	layout, err := json.Marshal(agentLayout{Name: name, Channels: specs, Files: len(files)})
	if err != nil {
		return nil, err
	}
	spec := proc.Spec{Name: name, Env: map[string]string{agentLayoutEnv: string(layout)}, ExtraFiles: append(chanFiles, files...)}
	for k, v := range env {
		spec.Env[k] = v
	}
	spec = h.withEvents(spec, []string{"pmrun", "agent"})
	log := h.log
	client, p, err := agent.Spawn(t, spec, agent.ClientOptions{OnEvent: func(ev agent.Event) {
		var fields map[string]any
		if err := json.Unmarshal(ev.Fields, &fields); err != nil {
			log.Warn("bad event from agent", "event", ev.Name, "process", name, "error", err.Error())
			return
		}
		msg, _ := fields["msg"].(string)
		args := []any{"event", ev.Name, "process", name}
		for _, k := range slices.Sorted(maps.Keys(fields)) { // the same order every time
			if k != "msg" && k != "event" && k != "process" {
				args = append(args, k, fields[k])
			}
		}
		log.Info(msg, args...)
	}})
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	if h.agents == nil {
		h.agents = map[string]*agentProc{}
	}
	h.agents[name] = &agentProc{client: client, proc: p}
	h.mu.Unlock()
	// An agent is ready once it answers: a failure here is the agent's
	// failure to start, reported by the spawn step.
	var pong agent.PingReply
	if err := client.Call(ctx, agent.OpPing, nil, &pong); err != nil {
		return nil, fmt.Errorf("agent %s did not start: %w", name, err)
	}
	return p, nil
}

// isAgent reports whether name is an agent of this run.
func (h *Host) isAgent(name string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.agents[name] != nil
}

// callAgent runs op in the agent called name and decodes its reply into
// reply (unless nil). It fails at once if the agent has died.
func (h *Host) callAgent(ctx context.Context, name, op string, args, reply any) error {
	h.mu.Lock()
	a := h.agents[name]
	h.mu.Unlock()
	if a == nil {
		if h.processAlive(name) || h.hasProcess(name) {
			return fmt.Errorf("process %q is not an agent: spawn it with agent: true", name)
		}
		return fmt.Errorf("no agent named %q", name)
	}
	return a.client.Call(ctx, op, args, reply)
}

func (h *Host) hasProcess(name string) bool {
	_, err := h.process(name)
	return err == nil
}

// closeAgents closes every agent's control connection, which tells it to
// exit, and gives them the grace period to do so; the process table then
// reaps them, or kills those that linger.
func (h *Host) closeAgents(ctx context.Context) {
	h.mu.Lock()
	agents := h.agents
	h.agents = nil
	h.mu.Unlock()
	for _, a := range agents {
		a.client.Close()
	}
	deadline := time.NewTimer(h.cfg.Grace)
	defer deadline.Stop()
	for _, a := range agents {
		select {
		case <-a.proc.Done():
		case <-deadline.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

// agentSide is, inside an agent process, what its runner passed at spawn.
// ServeAgent fills it in before serving the first request.
var agentSide struct {
	name     string
	channels map[string]*channel.Channel
	files    []*os.File
}

// agentChannel returns, inside an agent, its end of the run's channel
// called name.
func agentChannel(name string) (*channel.Channel, error) {
	if agentSide.channels == nil {
		return nil, errors.New("not running as a pmrun agent")
	}
	ch := agentSide.channels[name]
	if ch == nil {
		return nil, fmt.Errorf("agent %s: no channel named %q", agentSide.name, name)
	}
	return ch, nil
}

// agentFiles returns, inside an agent, the files the runner passed to
// startAgent, in order.
func agentFiles() []*os.File { return agentSide.files }

// ServeAgent is the main of `pmrun agent`: it takes the channels and files
// its runner passed at spawn, then serves the runner's requests until the
// runner closes the control socket or says exit.
func ServeAgent(ctx context.Context) error {
	raw := os.Getenv(agentLayoutEnv)
	if raw == "" {
		return errors.New("pmrun agent is started by pmrun itself (spawn: {agent: true}), not by hand")
	}
	var layout agentLayout
	if err := json.Unmarshal([]byte(raw), &layout); err != nil {
		return fmt.Errorf("agent: bad %s: %w", agentLayoutEnv, err)
	}
	os.Unsetenv(agentLayoutEnv) // the agent's own children must not inherit it
	agentSide.name = layout.Name
	agentSide.channels = map[string]*channel.Channel{}
	fd := agent.ControlFD + 1
	for _, spec := range layout.Channels {
		files := make([]*os.File, len(spec.Files))
		for i := range files {
			files[i] = os.NewFile(uintptr(fd), "channel-"+spec.Name+"-"+strconv.Itoa(i))
			fd++
		}
		ch, err := channel.Attach(spec, files)
		if err != nil {
			return fmt.Errorf("agent %s: channel %s: %w", layout.Name, spec.Name, err)
		}
		agentSide.channels[spec.Name] = ch
	}
	for i := 0; i < layout.Files; i++ {
		agentSide.files = append(agentSide.files, os.NewFile(uintptr(fd), "file-"+strconv.Itoa(i)))
		fd++
	}
	defer func() {
		for _, ch := range agentSide.channels {
			ch.Close()
		}
	}()
	return agent.Run(ctx)
}
