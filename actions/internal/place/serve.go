package place

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/channel"
)

// LayoutEnv is the environment variable that gives an agent its [Layout].
const LayoutEnv = "PMRUN_AGENT_LAYOUT"

// Layout tells an agent what the descriptors after its control socket
// are: one end of every channel of the run, then the files its starter
// passed.
type Layout struct {
	Name     string         `json:"name"`
	Channels []channel.Spec `json:"channels"`
	Files    int            `json:"files"` // passed by the starter, after the channels'
}

// agentProcess is what an agent holds: its own place, and the files its
// runner passed at spawn.
type agentProcess struct {
	local *Local
	files []*os.File
	emit  Emitter
}

// handlers are every operation an agent serves, by name: the one list of
// them (package agent adds ping and exit).
func (a *agentProcess) handlers() map[string]agent.Handler {
	l := a.local
	return map[string]agent.Handler{
		opThreadStart.name: opThreadStart.serve(l.StartThread),
		opThreadCancel.name: opThreadCancel.serve(func(ctx context.Context, t threadRef) (ThreadEnd, error) {
			return l.CancelThread(ctx, t.Name)
		}),
		opThreadWait.name: opThreadWait.serve(func(ctx context.Context, t threadRef) (ThreadEnd, error) {
			return l.WaitThread(ctx, t.Name)
		}),
		opThreadAlive.name: opThreadAlive.serve(func(ctx context.Context, t threadRef) (bool, error) {
			return l.ThreadAlive(ctx, t.Name)
		}),
		opThreadList.name: opThreadList.serve(func(ctx context.Context, _ none) ([]ThreadItem, error) {
			return l.Threads(ctx)
		}),
		opThreadClose.name: opThreadClose.serve(func(ctx context.Context, _ none) (none, error) {
			return none{}, l.CloseThreads(ctx)
		}),
		opSend.name:    opSend.serve(l.Send),
		opReceive.name: opReceive.serve(l.Receive),
		opTakeReceive.name: opTakeReceive.serve(func(ctx context.Context, c channelRef) (Handoff, error) {
			return l.TakeReceive(ctx, c.Name)
		}),
		opPutReceive.name: opPutReceive.serve(func(ctx context.Context, h Handoff) (none, error) {
			return none{}, l.PutReceive(ctx, h)
		}),
		opWorker.name: opWorker.serve(func(ctx context.Context, w WorkerArgs) (none, error) {
			return none{}, runWorker(ctx, a.files, w, a.emit)
		}),
	}
}

// Serve is the main of `pmrun agent`: it takes the channels and files its
// runner passed at spawn (described by [LayoutEnv]), then serves the
// runner's requests on its control socket until the runner closes it or
// says exit.
func Serve(ctx context.Context) error {
	raw := os.Getenv(LayoutEnv)
	if raw == "" {
		return errors.New("pmrun agent is started by pmrun itself (spawn: {agent: true}), not by hand")
	}
	var layout Layout
	if err := json.Unmarshal([]byte(raw), &layout); err != nil {
		return fmt.Errorf("agent: bad %s: %w", LayoutEnv, err)
	}
	os.Unsetenv(LayoutEnv) // the agent's own children must not inherit it
	channels := map[string]*channel.Channel{}
	defer func() {
		for _, ch := range channels {
			ch.Close()
		}
	}()
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
		channels[spec.Name] = ch
	}
	a := &agentProcess{}
	for i := range layout.Files {
		a.files = append(a.files, os.NewFile(uintptr(fd), "file-"+strconv.Itoa(i)))
		fd++
	}
	conn, err := agent.Open()
	if err != nil {
		return fmt.Errorf("agent %s: %w", layout.Name, err)
	}
	defer conn.Close()
	a.emit = peerEmitter(agent.NewPeer(conn))
	a.local = NewLocal(layout.Name, func(name string) (*channel.Channel, error) {
		if ch := channels[name]; ch != nil {
			return ch, nil
		}
		return nil, fmt.Errorf("agent %s: no channel named %q", layout.Name, name)
	}, a.emit)
	return agent.Serve(ctx, conn, a.handlers(), Errors)
}

// peerEmitter sends events to the runner through p.
func peerEmitter(p *agent.Peer) Emitter {
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
