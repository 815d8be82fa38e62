package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Tests that need another process re-execute the test binary with
// PMRUN_CHANNEL_HELPER naming what to do; the channel spec travels in
// PMRUN_CHANNEL_SPEC and its files from fd 3 on, as an agent's would.
const (
	envHelper = "PMRUN_CHANNEL_HELPER"
	envSpec   = "PMRUN_CHANNEL_SPEC"
	envArgs   = "PMRUN_CHANNEL_ARGS"
)

func TestMain(m *testing.M) {
	// A race-built helper sleeps a second before it exits (GORACE's
	// atexit_sleep_ms).
	if !strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	if mode := os.Getenv(envHelper); mode != "" {
		os.Exit(helperMain(mode, strings.Fields(os.Getenv(envArgs))))
	}
	os.Exit(m.Run())
}

func helperMain(mode string, args []string) int {
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "helper %s: %v\n", mode, err)
		return 1
	}
	if mode == "fds" {
		// Report which descriptors this process was started with.
		for fd, target := range openFDs() {
			fmt.Println(fd, target)
		}
		return 0
	}
	var spec Spec
	if err := json.Unmarshal([]byte(os.Getenv(envSpec)), &spec); err != nil {
		return fail(err)
	}
	files := make([]*os.File, len(spec.Files))
	for i := range files {
		files[i] = os.NewFile(uintptr(3+i), string(spec.Files[i]))
	}
	c, err := Attach(spec, files)
	if err != nil {
		return fail(err)
	}
	defer c.Close()
	if path := os.Getenv("PMRUN_CHANNEL_HELPER_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fail(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail(err)
		}
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	num := func(i int) int {
		n, _ := strconv.Atoi(args[i])
		return n
	}
	switch mode {
	case "stress-send": // COUNT SIZE [wait]
		if len(args) > 2 {
			// Start when the parent says so, to time the transfer
			// alone.
			fmt.Println("ready")
			if _, err := os.Stdin.Read(make([]byte, 1)); err != nil {
				return fail(err)
			}
		}
		if _, err := c.SendStress(ctx, num(0), num(1)); err != nil {
			return fail(err)
		}
	case "stress-receive": // COUNT: prints "messages senders verified"
		st, err := c.ReceiveStress(ctx, num(0), time.Minute)
		fmt.Println(st.Messages, st.Senders, st.Verified)
		if err != nil {
			return fail(err)
		}
	case "die-mid-message": // SIZE: a message bigger than the pipe holds
		ctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- c.Send(ctx, make([]byte, num(0))) }()
		// Once the pipe is full, part of the message is in it.
		for writable(c) {
			time.Sleep(time.Millisecond)
		}
		cancel()
		if err := <-done; err == nil {
			return fail(fmt.Errorf("send of %s bytes into a full pipe succeeded", args[0]))
		}
		// Exit without closing anything, as a crash would.
		os.Exit(3)
	case "receive-one":
		msg, err := c.Receive(ctx, time.Minute)
		if err != nil {
			return fail(err)
		}
		fmt.Printf("%s\n", msg)
	default:
		return fail(fmt.Errorf("unknown mode"))
	}
	return 0
}

// openFDs returns this process's open descriptors and what each refers
// to (a path, "pipe:[inode]", "socket:[inode]"), but the one reading them.
func openFDs() map[int]string {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return map[int]string{-1: err.Error()}
	}
	fds := make(map[int]string)
	for _, e := range entries {
		target, err := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if err != nil {
			continue // the directory's own descriptor, closed by now
		}
		if strings.HasPrefix(target, "/proc/") && strings.HasSuffix(target, "/fd") {
			continue
		}
		fd, _ := strconv.Atoi(e.Name())
		fds[fd] = target
	}
	return fds
}

// writable reports whether c's write end would take a small write now:
// false means the channel is full.
func writable(c *Channel) bool {
	ready := true
	_ = rawControl(c.w.f, func(fd int) {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLOUT}}
		n, err := unix.Poll(fds, 0)
		ready = err != nil || n > 0 && fds[0].Revents&unix.POLLOUT != 0
	})
	return ready
}

// helper is a child process attached to a channel.
type helper struct {
	cmd    *exec.Cmd
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan error
}

// helperCommand returns the command that starts the test binary in mode
// with c's spec and files, as a spawner starts an agent; start it with
// startCommand.
func helperCommand(tb testing.TB, c *Channel, mode string, args ...string) *exec.Cmd {
	tb.Helper()
	files, err := c.Files()
	if err != nil {
		tb.Fatal(err)
	}
	spec, err := json.Marshal(c.Spec())
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), envHelper+"="+mode, envSpec+"="+string(spec), envArgs+"="+strings.Join(args, " "))
	cmd.ExtraFiles = files
	return cmd
}

// startCommand starts cmd and closes the parent's copies of its channel
// files, as a spawner must.
func startCommand(tb testing.TB, cmd *exec.Cmd) {
	tb.Helper()
	err := cmd.Start()
	for _, f := range cmd.ExtraFiles {
		f.Close()
	}
	if err != nil {
		tb.Fatal(err)
	}
}

// startHelper starts the test binary in mode, attached to c.
func startHelper(tb testing.TB, c *Channel, mode string, args ...string) *helper {
	tb.Helper()
	h := &helper{done: make(chan error, 1)}
	h.cmd = helperCommand(tb, c, mode, args...)
	h.cmd.Stdout, h.cmd.Stderr = &h.stdout, &h.stderr
	startCommand(tb, h.cmd)
	go func() { h.done <- h.cmd.Wait() }()
	tb.Cleanup(func() {
		h.cmd.Process.Kill()
		<-h.done
	})
	return h
}

// wait waits for the helper to exit and returns its exit code.
func (h *helper) wait(t testing.TB) int {
	t.Helper()
	select {
	case err := <-h.done:
		h.done <- err
		if h.cmd.ProcessState == nil {
			t.Fatalf("helper did not run: %v", err)
		}
		return h.cmd.ProcessState.ExitCode()
	case <-time.After(time.Minute):
		t.Fatalf("helper %v did not exit; stderr: %s", h.cmd.Env[len(h.cmd.Env)-3:], h.stderr.String())
	}
	return -1
}

// mustExit0 waits for the helper and fails the test unless it succeeded.
func (h *helper) mustExit0(t testing.TB) {
	t.Helper()
	if code := h.wait(t); code != 0 {
		t.Fatalf("helper exited %d; stderr: %s", code, h.stderr.String())
	}
}

// privateDir returns a fresh directory of mode 0700, as a run's.
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newTestChannel creates a channel in a fresh private directory, closed
// when the test ends.
func newTestChannel(t *testing.T, name string, opt Options) *Channel {
	t.Helper()
	c, err := Create(privateDir(t), name, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// peer returns a second endpoint of c in this process, as an agent would
// get it.
func peer(t *testing.T, c *Channel) *Channel {
	t.Helper()
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	p, err := Attach(c.Spec(), files)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}
