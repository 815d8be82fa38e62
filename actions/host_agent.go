package actions

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/place"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// Agents are pmrun itself re-executed (`pmrun agent`), controlled by the
// runner over a socketpair (package agent): they host threads, channel
// ends and prodcons workers in a process of their own. The runner reaches
// one through its [place.Agent]; the agent's side, which serves the
// operations, is [ServeAgent] (package place). docs/ARCHITECTURE.md
// describes the protocol.

// ServeAgent is the main of `pmrun agent`: it takes the channels and files
// its runner passed at spawn, then serves the runner's requests until the
// runner closes the control socket or says exit.
func ServeAgent(ctx context.Context) error { return place.Serve(ctx) }

// agentProc is an agent process of the run and its place.
type agentProc struct {
	place *place.Agent
	proc  *proc.Process
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
	layout, err := json.Marshal(place.Layout{Name: name, Channels: specs, Files: len(files)})
	if err != nil {
		return nil, err
	}
	spec := proc.Spec{Name: name, Env: map[string]string{place.LayoutEnv: string(layout)}, ExtraFiles: append(chanFiles, files...)}
	for k, v := range env {
		spec.Env[k] = v
	}
	spec = h.withEvents(spec, []string{"pmrun", "agent"})
	log := h.log
	client, p, err := agent.Spawn(t, spec, agent.ClientOptions{Errors: place.Errors, OnEvent: func(ev agent.Event) {
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
	a := &agentProc{place: place.NewAgent(name, client), proc: p}
	h.mu.Lock()
	if h.agents == nil {
		h.agents = map[string]*agentProc{}
	}
	h.agents[name] = a
	h.mu.Unlock()
	// An agent is ready once it answers: a failure here is the agent's
	// failure to start, reported by the spawn step.
	if err := a.place.Ping(ctx); err != nil {
		return nil, fmt.Errorf("agent %s did not start: %w", name, err)
	}
	return p, nil
}

// agent returns the agent of the run called name, or an error that says
// why there is none.
func (h *Host) agent(name string) (*place.Agent, error) {
	h.mu.Lock()
	a := h.agents[name]
	h.mu.Unlock()
	if a != nil {
		return a.place, nil
	}
	if h.processAlive(name) || h.hasProcess(name) {
		return nil, fmt.Errorf("process %q is not an agent: spawn it with agent: true", name)
	}
	return nil, fmt.Errorf("no agent named %q in this run: use %s or the name of a spawn with agent: true", name, RunnerName)
}

// place returns the process called in where threads and channel ends
// live: the runner itself, or one of its agents.
func (h *Host) place(in string) (place.Place, error) {
	if in == RunnerName {
		return h.local, nil
	}
	return h.agent(in)
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
		a.place.Close()
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
