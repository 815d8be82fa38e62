package place

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/channel"
)

var (
	_ Place = (*Local)(nil)
	_ Place = (*Agent)(nil)
)

// places returns the two sides of the seam over one channel: a Local, and
// an Agent whose "agent" is another Local served in this process through a
// real control socket, with the handler map an agent process serves.
// events receives what the served side emits.
func places(t *testing.T) (local *Local, proxy *Agent, events func() []string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil { // a run's directory is private
		t.Fatal(err)
	}
	ch, err := channel.Create(dir, "c", channel.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.Close() })
	channels := func(name string) (*channel.Channel, error) {
		if name != "c" {
			return nil, errors.New("no channel named " + name)
		}
		return ch, nil
	}
	var mu sync.Mutex
	var got []string
	emit := func(event, msg string, kv ...any) {
		mu.Lock()
		got = append(got, event)
		mu.Unlock()
	}
	a, b, err := agent.Pair()
	if err != nil {
		t.Fatal(err)
	}
	runnerEnd, err := agent.NewConn(a)
	if err != nil {
		t.Fatal(err)
	}
	agentEnd, err := agent.NewConn(b)
	if err != nil {
		t.Fatal(err)
	}
	served := &agentProcess{local: NewLocal("a", channels, emit), emit: emit}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- agent.Serve(ctx, agentEnd, served.handlers(), Errors) }()
	proxy = NewAgent("a", agent.NewClient(runnerEnd, agent.ClientOptions{Errors: Errors}))
	t.Cleanup(func() {
		served.local.CloseThreads(context.Background())
		proxy.Close()
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Serve: %v", err)
		}
		agentEnd.Close()
	})
	return NewLocal("runner", channels, emit), proxy, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// TestBothSidesAgree runs the same life of a thread through the runner's
// own place and through an agent's, and expects the same answers, errors
// of the same kind included.
func TestBothSidesAgree(t *testing.T) {
	t.Parallel()
	local, proxy, events := places(t)
	for _, p := range []Place{local, proxy} {
		t.Run(p.Name(), func(t *testing.T) {
			ctx := t.Context()
			started, err := p.StartThread(ctx, ThreadSpec{Name: "x", Run: RunIdle})
			if err != nil || started.TID == 0 {
				t.Fatalf("StartThread = %+v, %v", started, err)
			}
			if _, err := p.StartThread(ctx, ThreadSpec{Name: "x"}); !errors.Is(err, ErrThreadExists) {
				t.Errorf("a second x: %v, want ErrThreadExists", err)
			}
			if alive, err := p.ThreadAlive(ctx, "x"); !alive || err != nil {
				t.Errorf("ThreadAlive = %v, %v", alive, err)
			}
			items, err := p.Threads(ctx)
			marked := false
			for _, it := range items {
				marked = marked || (it.TID == started.TID && it.PMRun && it.Name == "x")
			}
			if err != nil || !marked {
				t.Errorf("Threads = %v, %v: x (tid %d) not marked", items, err, started.TID)
			}
			end, err := p.CancelThread(ctx, "x")
			if err != nil || end.State != "cancelled" || end.TID != started.TID {
				t.Errorf("CancelThread = %+v, %v", end, err)
			}
			_, err = p.CancelThread(ctx, "x")
			if !errors.Is(err, ErrThreadEnded) || !strings.Contains(err.Error(), `thread "x" was already terminated`) {
				t.Errorf("cancel again: %v, want ErrThreadEnded", err)
			}
			if again, err := p.WaitThread(ctx, "x"); err != nil || again != end {
				t.Errorf("WaitThread after the join = %+v, %v; want %+v again", again, err, end)
			}
			if _, err := p.WaitThread(ctx, "nobody"); !errors.Is(err, ErrNoSuchThread) || errors.Is(err, ErrThreadEnded) {
				t.Errorf("wait for nobody: %v, want ErrNoSuchThread only", err)
			}
			if _, err := p.StartThread(ctx, ThreadSpec{Name: "left", Run: RunSpin}); err != nil {
				t.Fatal(err)
			}
			if err := p.CloseThreads(ctx); err != nil {
				t.Errorf("CloseThreads: %v", err)
			}
			if alive, _ := p.ThreadAlive(ctx, "left"); alive {
				t.Error("a thread is alive after CloseThreads")
			}
		})
	}
	if got := strings.Join(events(), ","); got != "thread_end,thread_end,thread_end,thread_end" {
		t.Errorf("events %s, want a thread_end for each of the four threads", got)
	}
	// The agent's error names the agent; the runner's does not need to.
	_, err := proxy.CancelThread(t.Context(), "x")
	if !strings.HasPrefix(err.Error(), "agent a: ") {
		t.Errorf("agent's error %q does not name it", err)
	}
}

// TestChannelEndsAgree: a message sent through one side is received
// through the other, and what both say of an empty channel is the same.
func TestChannelEndsAgree(t *testing.T) {
	t.Parallel()
	local, proxy, _ := places(t)
	ctx := t.Context()
	for _, pair := range [][2]Place{{local, proxy}, {proxy, local}} {
		from, to := pair[0], pair[1]
		sent, err := from.Send(ctx, SendArgs{Channel: "c", Message: []byte("hi"), Count: 2})
		if err != nil || sent.Sent != 2 || sent.Bytes != 4 {
			t.Fatalf("%s: Send = %+v, %v", from.Name(), sent, err)
		}
		got, err := to.Receive(ctx, ReceiveArgs{Channel: "c", Count: 3})
		if err != nil || got.Count != 2 || string(got.Messages[1]) != "hi" || !got.Verified {
			t.Errorf("%s: Receive = %+v, %v; want the two messages", to.Name(), got, err)
		}
		if _, err := to.Send(ctx, SendArgs{Channel: "nope", Message: []byte("x"), Count: 1}); err == nil {
			t.Errorf("%s: a send on no channel worked", to.Name())
		}
	}
}
