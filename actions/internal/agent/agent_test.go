package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/proc"
)

// helperEnv makes the test binary an agent serving the test handlers.
const helperEnv = "PMRUN_AGENT_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) == "1" {
		conn, err := Open()
		if err == nil {
			err = Serve(context.Background(), conn, testHandlers, testErrors)
			conn.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// errTest is a sentinel that keeps its identity on the wire: both sides
// use testErrors.
var (
	errTest    = errors.New("the test's own sentinel")
	testErrors = Errors{"test": errTest}
)

// testHandlers are what the test agent serves.
var testHandlers = map[string]Handler{
	"test.echo": func(_ context.Context, req Request) (any, error) {
		return req.Args, nil
	},
	"test.fail": func(context.Context, Request) (any, error) {
		return nil, errors.New("it failed on purpose")
	},
	// test.typed fails with an error wrapping errTest and
	// context.Canceled, after doing half of the work.
	"test.typed": func(context.Context, Request) (any, error) {
		return map[string]int{"done": 1}, fmt.Errorf("stopped halfway: %w (%w)", errTest, context.Canceled)
	},
	// test.block waits until cancelled, then reports that through an event.
	"test.block": func(ctx context.Context, req Request) (any, error) {
		<-ctx.Done()
		Emit(ctx, "cancelled", req.Args)
		return nil, ctx.Err()
	},
	"test.emit": func(ctx context.Context, req Request) (any, error) {
		var n int
		if err := json.Unmarshal(req.Args, &n); err != nil {
			return nil, err
		}
		for i := range n {
			if err := Emit(ctx, "tick", map[string]int{"i": i}); err != nil {
				return nil, err
			}
		}
		return n, nil
	},
	// test.write writes its argument into the file it was given.
	"test.write": func(_ context.Context, req Request) (any, error) {
		files := req.Files
		defer closeFiles(files)
		if len(files) != 1 {
			return nil, fmt.Errorf("got %d files, want 1", len(files))
		}
		var s string
		json.Unmarshal(req.Args, &s)
		_, err := files[0].WriteString(s)
		return nil, err
	},
	// test.bulk returns its arguments, bulk bytes included.
	"test.bulk": func(_ context.Context, req Request) (any, error) {
		var v bulkValue
		err := req.Decode(&v)
		return v, err
	},
	// test.partial says it waits, waits until cancelled, then answers
	// with what it did before, beside the error.
	"test.partial": func(ctx context.Context, req Request) (any, error) {
		Emit(ctx, "waiting", nil)
		<-ctx.Done()
		return bulkValue{Name: "partial", Data: [][]byte{[]byte("taken")}}, ctx.Err()
	},
	// test.pipe returns the read end of a pipe holding its argument.
	"test.pipe": func(_ context.Context, req Request) (any, error) {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		var s string
		json.Unmarshal(req.Args, &s)
		w.WriteString(s)
		w.Close()
		return Reply{Value: "sent", Files: []*os.File{r}}, nil
	},
}

// spawnAgent starts the test binary as an agent in a table that is closed,
// and checked, when the test ends.
func spawnAgent(t testing.TB, opts ClientOptions) (*Client, *proc.Process) {
	t.Helper()
	tb, err := proc.NewTable(proc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, p, err := Spawn(tb, proc.Spec{
		Name: "worker",
		Argv: []string{"/proc/self/exe"},
		Env:  map[string]string{helperEnv: "1"},
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tb.Close(ctx, time.Second); err != nil {
			t.Error(err)
		}
		if tb.Alive("worker") {
			t.Error("agent still alive after Close")
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", p.PID())); err == nil {
			t.Errorf("agent %d still in /proc (zombie?)", p.PID())
		}
	})
	return c, p
}

func TestPing(t *testing.T) {
	t.Parallel()
	c, p := spawnAgent(t, ClientOptions{})
	var r PingReply
	if err := c.Call(t.Context(), OpPing, nil, &r); err != nil {
		t.Fatal(err)
	}
	if r.PID != p.PID() {
		t.Errorf("ping answered by pid %d, want %d", r.PID, p.PID())
	}
	var got map[string]string
	if err := c.Call(t.Context(), "test.echo", map[string]string{"a": "b"}, &got); err != nil || got["a"] != "b" {
		t.Errorf("echo: %v, %v", got, err)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	c, _ := spawnAgent(t, ClientOptions{})
	var rerr *RemoteError
	err := c.Call(t.Context(), "test.fail", nil, nil)
	if !errors.As(err, &rerr) || rerr.Message != "it failed on purpose" || rerr.Op != "test.fail" {
		t.Errorf("handler error: %v", err)
	}
	err = c.Call(t.Context(), "no.such.op", nil, nil)
	if !errors.As(err, &rerr) || !strings.Contains(err.Error(), `unknown op "no.such.op"`) {
		t.Errorf("unknown op: %v", err)
	}
	if err := c.Call(t.Context(), "test.echo", make(chan int), nil); err == nil {
		t.Error("unencodable args accepted")
	}
	// A message past MaxMessage, made of one buffer many times over, so
	// that the test need not fill a gigabyte.
	huge := make([]byte, 64<<20)
	parts := make([][]byte, MaxMessage/len(huge)+1)
	for i := range parts {
		parts[i] = huge
	}
	if err := c.Call(t.Context(), "test.bulk", bulkValue{Data: parts}, nil); !errors.Is(err, errTooLarge) {
		t.Errorf("oversized message: %v, want errTooLarge", err)
	}
	if err := c.Call(t.Context(), OpPing, nil, nil); err != nil {
		t.Errorf("agent unusable after bad calls: %v", err)
	}
}

// TestTypedErrors: a handler's error keeps its sentinels across the
// connection, and the result sent beside it still arrives.
func TestTypedErrors(t *testing.T) {
	t.Parallel()
	c, _ := spawnAgent(t, ClientOptions{Errors: testErrors})
	var got map[string]int
	err := c.Call(t.Context(), "test.typed", nil, &got)
	var rerr *RemoteError
	if !errors.As(err, &rerr) || !strings.Contains(rerr.Message, "stopped halfway") {
		t.Fatalf("call = %v, want the handler's error", err)
	}
	if !errors.Is(err, errTest) || !errors.Is(err, context.Canceled) {
		t.Errorf("%v (codes %v) does not match errTest and context.Canceled", err, rerr.Codes)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrAgentGone) {
		t.Errorf("%v matches what it is not", err)
	}
	if got["done"] != 1 {
		t.Errorf("the result beside the error: %v, want done 1", got)
	}
	// A caller that does not know a code still gets the text and the code.
	c2, _ := spawnAgent(t, ClientOptions{})
	err = c2.Call(t.Context(), "test.typed", nil, nil)
	if !errors.As(err, &rerr) || errors.Is(err, errTest) || !slices.Contains(rerr.Codes, "test") || !errors.Is(err, context.Canceled) {
		t.Errorf("without the table: %v, codes %v", err, rerr.Codes)
	}
}

// Calls are multiplexed: a blocked handler holds up nobody, and each
// caller gets its own answer.
func TestConcurrentCalls(t *testing.T) {
	t.Parallel()
	cancelled := make(chan string, 1)
	c, _ := spawnAgent(t, ClientOptions{OnEvent: func(ev Event) {
		if ev.Name == "cancelled" {
			cancelled <- string(ev.Fields)
		}
	}})
	ctx, cancel := context.WithCancel(t.Context())
	blocked := make(chan error, 1)
	go func() { blocked <- c.Call(ctx, "test.block", "slow", nil) }()

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got int
			if err := c.Call(t.Context(), "test.echo", i, &got); err != nil || got != i {
				errs <- fmt.Errorf("echo %d: got %d, %v", i, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case err := <-blocked:
		t.Fatalf("blocking call returned early: %v", err)
	default:
	}
	cancel()
	if err := <-blocked; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled call: %v", err)
	}
	// The handler in the agent was told, too.
	if got := <-cancelled; got != `"slow"` {
		t.Errorf("cancelled handler reported %s", got)
	}
}

func TestAgentKilledMidCall(t *testing.T) {
	t.Parallel()
	c, p := spawnAgent(t, ClientOptions{})
	if err := c.Call(t.Context(), OpPing, nil, nil); err != nil {
		t.Fatal(err)
	}
	result := make(chan error, 1)
	go func() { result <- c.Call(t.Context(), "test.block", nil, nil) }()
	// Killing before the request is read is fine too: the call fails either way.
	syscall.Kill(p.PID(), syscall.SIGKILL)
	err := <-result
	if !errors.Is(err, ErrAgentGone) || !strings.Contains(err.Error(), "agent worker died (signal SIGKILL)") {
		t.Errorf("pending call: %v", err)
	}
	var gerr *GoneError
	if !errors.As(err, &gerr) || gerr.Exit == nil || gerr.Exit.Signal != "SIGKILL" {
		t.Errorf("GoneError: %+v", gerr)
	}
	if err := c.Call(t.Context(), OpPing, nil, nil); !errors.Is(err, ErrAgentGone) {
		t.Errorf("call after death: %v", err)
	}
	<-c.Done()
}

func TestEvents(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	c, _ := spawnAgent(t, ClientOptions{OnEvent: func(ev Event) {
		mu.Lock()
		got = append(got, ev.Name+string(ev.Fields))
		mu.Unlock()
	}})
	var n int
	if err := c.Call(t.Context(), "test.emit", 3, &n); err != nil || n != 3 {
		t.Fatalf("emit: %d, %v", n, err)
	}
	// Events sent before the reply are delivered before Call returns.
	mu.Lock()
	defer mu.Unlock()
	if want := `tick{"i":0},tick{"i":1},tick{"i":2}`; strings.Join(got, ",") != want {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestFilePassing(t *testing.T) {
	t.Parallel()
	c, _ := spawnAgent(t, ClientOptions{})
	// Runner to agent: the agent writes into our pipe.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := c.CallFiles(t.Context(), "test.write", "to the runner", []*os.File{w}, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if b, _ := io.ReadAll(r); string(b) != "to the runner" {
		t.Errorf("pipe carried %q", b)
	}
	// Agent to runner: a pipe's read end comes back with the reply.
	var value string
	files, err := c.CallFiles(t.Context(), "test.pipe", "from the agent", nil, &value)
	if err != nil || len(files) != 1 || value != "sent" {
		t.Fatalf("test.pipe: %v %d files, %v", value, len(files), err)
	}
	defer files[0].Close()
	if b, _ := io.ReadAll(files[0]); string(b) != "from the agent" {
		t.Errorf("returned pipe carried %q", b)
	}
}

func TestExitAndClose(t *testing.T) {
	t.Parallel()
	c, p := spawnAgent(t, ClientOptions{})
	if err := c.Call(t.Context(), OpExit, nil, nil); err != nil {
		t.Fatal(err)
	}
	x, err := p.Wait(t.Context())
	if err != nil || !x.Success {
		t.Errorf("agent after exit op: %+v, %v", x, err)
	}
	<-c.Done()
	err = c.Call(t.Context(), OpPing, nil, nil)
	if !errors.Is(err, ErrAgentGone) || !strings.Contains(err.Error(), "exited (exit code 0)") {
		t.Errorf("call after exit: %v", err)
	}

	// Closing the client makes the agent exit on its own.
	c2, p2 := spawnAgent(t, ClientOptions{})
	if err := c2.Call(t.Context(), OpPing, nil, nil); err != nil {
		t.Fatal(err)
	}
	c2.Close()
	if x, err := p2.Wait(t.Context()); err != nil || !x.Success {
		t.Errorf("agent after Close: %+v, %v", x, err)
	}
	if err := c2.Call(t.Context(), OpPing, nil, nil); !errors.Is(err, ErrAgentGone) || !strings.Contains(err.Error(), "closed by the runner") {
		t.Errorf("call after Close: %v", err)
	}
}

// Serve in-process: it returns when its context ends, after its handlers.
func TestServeContext(t *testing.T) {
	t.Parallel()
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	runner, err := NewConn(a)
	if err != nil {
		t.Fatal(err)
	}
	defer runner.Close()
	agent, err := NewConn(b)
	if err != nil {
		t.Fatal(err)
	}
	defer agent.Close()
	c := NewClient(runner, ClientOptions{})
	defer c.Close()

	ctx, cancel := context.WithCancelCause(t.Context())
	started, handlerDone := make(chan struct{}), make(chan struct{})
	served := make(chan error, 1)
	go func() {
		served <- Serve(ctx, agent, map[string]Handler{
			"wait": func(ctx context.Context, _ Request) (any, error) {
				defer close(handlerDone)
				close(started)
				<-ctx.Done()
				return nil, nil
			},
		}, nil)
	}()
	if err := c.Call(t.Context(), OpPing, nil, nil); err != nil {
		t.Fatal(err)
	}
	go c.Call(t.Context(), "wait", nil, nil)
	<-started
	stopErr := errors.New("test over")
	cancel(stopErr)
	if err := <-served; !errors.Is(err, stopErr) {
		t.Errorf("Serve returned %v, want the context's cause", err)
	}
	select {
	case <-handlerDone:
	default:
		t.Error("Serve returned before its handler")
	}
}
