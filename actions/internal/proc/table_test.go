package proc

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// newTable returns a table that is closed, and checked to have left
// nothing running, when the test ends.
func newTable(t *testing.T, opts Options) *Table {
	t.Helper()
	tb, err := NewTable(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := tb.Close(ctx, 100*time.Millisecond); err != nil {
			t.Errorf("Close: %v", err)
		}
		for _, in := range tb.List() {
			if in.State == Running {
				t.Errorf("%s (pid %d) still running after Close", in.Name, in.PID)
			}
			if !gone(in.PID, 5*time.Second) {
				t.Errorf("%s (pid %d) still in /proc after Close", in.Name, in.PID)
			}
		}
	})
	return tb
}

func start(t *testing.T, tb *Table, spec Spec) *Process {
	t.Helper()
	p, err := tb.Start(spec)
	if err != nil {
		t.Fatalf("Start(%s): %v", spec.Name, err)
	}
	return p
}

func wait(t *testing.T, tb *Table, name string) Exit {
	t.Helper()
	x, err := tb.Wait(t.Context(), name)
	if err != nil {
		t.Fatalf("Wait(%s): %v", name, err)
	}
	return x
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	noexec := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		spec Spec
		is   error
		msg  string
	}{
		{"missing", Spec{Argv: []string{"/nope"}}, fs.ErrNotExist, `spawn "missing": exec /nope: no such file or directory`},
		{"notinpath", Spec{Argv: []string{"pmrun-no-such-command"}}, exec.ErrNotFound, `exec pmrun-no-such-command: executable file not found in $PATH`},
		{"notinpath2", Spec{Argv: []string{"pmrun-no-such-command"}}, fs.ErrNotExist, ""},
		{"noexec", Spec{Argv: []string{noexec}}, fs.ErrPermission, "permission denied"},
		{"baddir", Spec{Argv: []string{"/bin/true"}, Dir: "/nope/dir"}, fs.ErrNotExist, `spawn "baddir": chdir /nope/dir: no such file or directory`},
		{"notdir", Spec{Argv: []string{"/bin/true"}, Dir: noexec}, syscall.ENOTDIR, `chdir ` + noexec + `: not a directory`},
		{"nocommand", Spec{}, nil, `spawn "nocommand": no command`},
		{"nilfile", Spec{Argv: []string{"/bin/true"}, ExtraFiles: []*os.File{nil}}, nil, `spawn "nilfile": extra file 0 is nil`},
		{"", Spec{Argv: []string{"/bin/true"}}, nil, "empty process name"},
	}
	for _, tc := range tests {
		tc.spec.Name = tc.name
		_, err := tb.Start(tc.spec)
		if err == nil {
			t.Errorf("%s: Start succeeded", tc.name)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%s: error %v is not %v", tc.name, err, tc.is)
		}
		if !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: error %q does not say %q", tc.name, err, tc.msg)
		}
	}
	// A failed start does not keep the name.
	start(t, tb, Spec{Name: "missing", Argv: []string{"/bin/true"}})
	if x := wait(t, tb, "missing"); !x.Success {
		t.Errorf("/bin/true: %+v", x)
	}
	if n := len(tb.List()); n != 1 {
		t.Errorf("List has %d entries, want only the process that started", n)
	}
}

func TestExitStatusAndOutput(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	var mu sync.Mutex
	var lines []string
	spec := helperSpec("three", "exit", "3")
	spec.OnOutput = func(stream string, line []byte, _ bool) {
		mu.Lock()
		lines = append(lines, stream+":"+string(line))
		mu.Unlock()
	}
	p := start(t, tb, spec)
	if p.PID() <= 0 || p.PGID() != p.PID() || p.Started().IsZero() || p.Name() != "three" {
		t.Errorf("info: pid %d pgid %d started %v name %q", p.PID(), p.PGID(), p.Started(), p.Name())
	}
	if pgid, err := syscall.Getpgid(p.PID()); err == nil && pgid != p.PID() {
		t.Errorf("child pgid %d, want its own group %d", pgid, p.PID())
	}
	x := wait(t, tb, "three")
	if x.ExitCode != 3 || x.Success || x.Signal != "" {
		t.Errorf("exit: %+v", x)
	}
	if x.Stdout != "out\n" || x.Stderr != "err\n" {
		t.Errorf("stdout %q stderr %q", x.Stdout, x.Stderr)
	}
	if x.Runtime <= 0 || x.MaxRSS <= 0 {
		t.Errorf("runtime %v maxrss %d: rusage not filled in", x.Runtime, x.MaxRSS)
	}
	mu.Lock()
	got := strings.Join(lines, ",")
	mu.Unlock()
	if got != "stdout:out,stderr:err" && got != "stderr:err,stdout:out" {
		t.Errorf("OnOutput got %q", got)
	}
	in := tb.List()
	if len(in) != 1 || in[0].State != Exited || in[0].ExitCode != 3 || in[0].Name != "three" {
		t.Errorf("List: %+v", in)
	}
	if tb.Alive("three") {
		t.Error("Alive after exit")
	}

	start(t, tb, Spec{Name: "true", Argv: []string{"true"}}) // found in $PATH
	if x := wait(t, tb, "true"); !x.Success || x.ExitCode != 0 {
		t.Errorf("true: %+v", x)
	}
}

func TestShellEnvDir(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	dir := t.TempDir()
	start(t, tb, Spec{
		Name:  "sh",
		Shell: `echo "${PATH:+kept} $PMRUN_TEST_VAR $(pwd)"; exit 4`, // PATH: inherited
		Env:   map[string]string{"PMRUN_TEST_VAR": "set", "HOME": "/elsewhere"},
		Dir:   dir,
	})
	x := wait(t, tb, "sh")
	if want := "kept set " + dir + "\n"; x.Stdout != want || x.ExitCode != 4 {
		t.Errorf("got %q exit %d, want %q exit 4", x.Stdout, x.ExitCode, want)
	}
	// An overridden variable appears once, with the new value.
	start(t, tb, Spec{Name: "home", Argv: []string{"/bin/sh", "-c", `env | grep -c '^HOME='; echo $HOME`}, Env: map[string]string{"HOME": "/elsewhere"}})
	if x := wait(t, tb, "home"); x.Stdout != "1\n/elsewhere\n" {
		t.Errorf("HOME override: %q", x.Stdout)
	}
}

func TestStdin(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	start(t, tb, Spec{Name: "small", Argv: []string{"cat"}, Stdin: "hello\n"})
	if x := wait(t, tb, "small"); x.Stdout != "hello\n" {
		t.Errorf("small stdin echoed as %q", x.Stdout)
	}
	// More than a pipe holds: the rest is fed while the child reads.
	var b bytes.Buffer
	writeLines(&b, 300<<10)
	start(t, tb, Spec{Name: "big", Argv: []string{"cat"}, Stdin: b.String()})
	x := wait(t, tb, "big")
	if want := b.String()[b.Len()-tailSize:]; x.Stdout != want {
		t.Errorf("big stdin: got %d bytes of tail, want the last %d bytes of input", len(x.Stdout), len(want))
	}
	// A child that never reads its input still exits and is waited.
	start(t, tb, Spec{Name: "deaf", Argv: []string{"/bin/true"}, Stdin: b.String()})
	if x := wait(t, tb, "deaf"); !x.Success {
		t.Errorf("deaf: %+v", x)
	}
}

func TestLotsOfOutput(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	const size = 7 * 300_000 // whole lines of 7 bytes, 2 MiB
	var mu sync.Mutex
	got := map[string]int{}
	var bad []string
	spec := helperSpec("spew", "spew", strconv.Itoa(size))
	spec.OnOutput = func(stream string, line []byte, _ bool) {
		mu.Lock()
		defer mu.Unlock()
		got[stream] += len(line) + 1
		if len(line) != 6 && len(bad) < 3 {
			bad = append(bad, string(line))
		}
	}
	start(t, tb, spec)
	x := wait(t, tb, "spew")
	if !x.Success {
		t.Fatalf("spew: %+v", x)
	}
	var want bytes.Buffer
	writeLines(&want, size)
	tailWant := want.String()[size-tailSize:]
	if x.Stdout != tailWant || x.Stderr != tailWant {
		t.Errorf("tails: stdout %d bytes, stderr %d bytes, not the last %d bytes written", len(x.Stdout), len(x.Stderr), tailSize)
	}
	mu.Lock()
	defer mu.Unlock()
	if got["stdout"] != size || got["stderr"] != size {
		t.Errorf("OnOutput saw %v bytes, want %d on each", got, size)
	}
	if len(bad) > 0 {
		t.Errorf("lines split wrongly: %q", bad)
	}
}

// TestLongLine: a line longer than maxLine is handed over cut to maxLine
// bytes and marked, the rest of it dropped; the line after it comes whole,
// and so does one of exactly maxLine bytes. The tail keeps everything.
func TestLongLine(t *testing.T) {
	t.Parallel()
	type line struct {
		size      int
		text      string
		truncated bool
	}
	for _, tc := range []struct {
		name, after string // what follows the run of x's
		xs          int
		want        []line
	}{
		{"endless", "", 3*maxLine + 10, []line{{size: maxLine, truncated: true}}},
		{"then-next", "\nnext\n", 2*maxLine + 10, []line{{size: maxLine, truncated: true}, {size: 4, text: "next"}}},
		{"exact", "\nnext", maxLine, []line{{size: maxLine}, {size: 4, text: "next"}}},
		{"one-over", "\n", maxLine + 1, []line{{size: maxLine, truncated: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tb := newTable(t, Options{})
			var mu sync.Mutex
			var got []line
			spec := helperSpec("long", "longline", strconv.Itoa(tc.xs), tc.after)
			spec.OnOutput = func(_ string, b []byte, truncated bool) {
				mu.Lock()
				l := line{size: len(b), truncated: truncated}
				if len(b) < 10 {
					l.text = string(b)
				}
				got = append(got, l)
				mu.Unlock()
			}
			start(t, tb, spec)
			x := wait(t, tb, "long")
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(got, tc.want) {
				t.Errorf("lines %+v, want %+v", got, tc.want)
			}
			if want := min(tc.xs+len(tc.after), tailSize); len(x.Stdout) != want {
				t.Errorf("tail of %d bytes, want %d", len(x.Stdout), want)
			}
		})
	}
}

func TestExtraFiles(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	spec := helperSpec("fd3", "fd3")
	spec.ExtraFiles = []*os.File{w}
	start(t, tb, spec)
	w.Close()
	wait(t, tb, "fd3")
	var b bytes.Buffer
	b.ReadFrom(r)
	if b.String() != "hello via fd 3" {
		t.Errorf("fd 3 carried %q", b.String())
	}
}

func TestKilledBehindOurBack(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	p := start(t, tb, helperSpec("victim", "sleep"))
	if !tb.Alive("victim") {
		t.Error("not Alive while running")
	}
	if in := p.Info(); in.State != Running {
		t.Errorf("state %q while running", in.State)
	}
	syscall.Kill(p.PID(), syscall.SIGKILL)
	x := wait(t, tb, "victim")
	if x.Signal != "SIGKILL" || x.ExitCode != -1 || x.Success {
		t.Errorf("exit: %+v", x)
	}
	if in := p.Info(); in.State != Killed || in.Signal != "SIGKILL" {
		t.Errorf("info: %+v", in)
	}
}

func TestWaitContext(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	start(t, tb, helperSpec("sleeper", "sleep"))
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if _, err := tb.Wait(ctx, "sleeper"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Wait: %v, want a deadline error", err)
	}
	if !tb.Alive("sleeper") {
		t.Error("a timed-out Wait stopped the process")
	}
	if _, err := tb.Wait(t.Context(), "nobody"); !errors.Is(err, ErrUnknown) {
		t.Errorf("Wait of an unknown name: %v", err)
	}
}

func TestTerminate(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	start(t, tb, helperSpec("polite", "sleep"))
	x, err := tb.Terminate(t.Context(), "polite", 0, 10*time.Second)
	if err != nil || x.Signal != "SIGTERM" {
		t.Errorf("Terminate: %+v, %v; want SIGTERM", x, err)
	}

	ready := make(chan struct{}, 1)
	spec := helperSpec("stubborn", "ignore-term")
	spec.OnOutput = func(_ string, line []byte, _ bool) {
		if string(line) == "ready" {
			ready <- struct{}{}
		}
	}
	start(t, tb, spec)
	<-ready // SIGTERM is ignored from here on
	x, err = tb.Terminate(t.Context(), "stubborn", syscall.SIGTERM, 50*time.Millisecond)
	if err != nil || x.Signal != "SIGKILL" {
		t.Errorf("Terminate: %+v, %v; want SIGKILL after grace", x, err)
	}

	// Terminating what already exited answers its exit, without error.
	start(t, tb, helperSpec("done", "exit", "7"))
	first := wait(t, tb, "done")
	x, err = tb.Terminate(t.Context(), "done", syscall.SIGTERM, time.Second)
	if err != nil || x.ExitCode != 7 || x != first {
		t.Errorf("Terminate of exited: %+v, %v; want %+v", x, err, first)
	}
	if _, err := tb.Terminate(t.Context(), "nobody", 0, 0); !errors.Is(err, ErrUnknown) {
		t.Errorf("Terminate of an unknown name: %v", err)
	}
}

func TestDuplicateName(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	start(t, tb, Spec{Name: "a", Argv: []string{"/bin/true"}})
	if _, err := tb.Start(Spec{Name: "a", Argv: []string{"/bin/true"}}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("second Start of a: %v", err)
	}
	wait(t, tb, "a")
	if _, err := tb.Start(Spec{Name: "a", Argv: []string{"/bin/true"}}); !errors.Is(err, ErrDuplicate) {
		t.Errorf("Start of a after it exited: %v", err)
	}
}

// grandchildPID reads the pid the "grandchild" helper prints.
func grandchildPID(t *testing.T, x Exit) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(x.Stdout))
	if err != nil {
		t.Fatalf("helper printed %q, not a pid", x.Stdout)
	}
	return pid
}

func TestGrandchild(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{WaitDelay: 100 * time.Millisecond})

	// The parent exits; its child is reparented to us and Close kills it.
	start(t, tb, helperSpec("detached", "grandchild", "detached"))
	x := wait(t, tb, "detached")
	if !x.Success {
		t.Fatalf("helper: %+v", x)
	}
	orphan := grandchildPID(t, x)
	if !isChild(orphan) {
		t.Errorf("grandchild %d was not reparented to us", orphan)
	}

	// A grandchild that keeps the output pipe open does not hang Wait.
	start(t, tb, helperSpec("holder", "grandchild", "hold"))
	x = wait(t, tb, "holder")
	holder := grandchildPID(t, x)

	// One in a session of its own escapes group signals but not Close.
	start(t, tb, helperSpec("setsid", "grandchild", "detached", "setsid"))
	escaped := grandchildPID(t, wait(t, tb, "setsid"))

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := tb.Close(ctx, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{orphan, holder, escaped} {
		if !gone(pid, 5*time.Second) {
			t.Errorf("grandchild %d survived Close (or is a zombie)", pid)
		}
	}
	if _, err := tb.Start(Spec{Name: "late", Argv: []string{"/bin/true"}}); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}

// A grandchild that exits on its own is reaped by us, not left a zombie.
func TestOrphanReaped(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	start(t, tb, helperSpec("parent", "grandchild", "detached"))
	pid := grandchildPID(t, wait(t, tb, "parent"))
	syscall.Kill(pid, syscall.SIGKILL)
	if !gone(pid, 5*time.Second) {
		t.Errorf("orphan %d was not reaped", pid)
	}
}

func TestCloseKillsEverything(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	var pids []int
	for i := range 3 {
		pids = append(pids, start(t, tb, Spec{Name: "sleep" + strconv.Itoa(i), Argv: []string{"/bin/sleep", "60"}}).PID())
	}
	ready := make(chan struct{}, 1)
	spec := helperSpec("stubborn", "ignore-term")
	spec.OnOutput = func(string, []byte, bool) { ready <- struct{}{} }
	pids = append(pids, start(t, tb, spec).PID())
	<-ready
	// A shell whose background child shares its group.
	pids = append(pids, start(t, tb, Spec{Name: "sh", Shell: "sleep 60 & wait"}).PID())

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := tb.Close(ctx, 100*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	for _, in := range tb.List() {
		if in.State == Running || tb.Alive(in.Name) {
			t.Errorf("%s still running", in.Name)
		}
	}
	for _, pid := range pids {
		if isChild(pid) || !gone(pid, 5*time.Second) {
			t.Errorf("pid %d survived Close", pid)
		}
	}
	if x := wait(t, tb, "stubborn"); x.Signal != "SIGKILL" {
		t.Errorf("stubborn: %+v", x)
	}
	if x := wait(t, tb, "sleep0"); x.Signal != "SIGTERM" {
		t.Errorf("sleep0: %+v", x)
	}
}

// Spawning and waiting a thousand children leaves no fd, zombie or entry
// behind. Not parallel: it counts this process's fds and children.
func TestThousandChildren(t *testing.T) {
	tb := newTable(t, Options{})
	fds := countFDs()
	const n = 1000
	for i := range n {
		start(t, tb, Spec{Name: strconv.Itoa(i), Argv: []string{"/bin/true"}})
	}
	for i := range n {
		if x := wait(t, tb, strconv.Itoa(i)); !x.Success {
			t.Fatalf("child %d: %+v", i, x)
		}
	}
	if got := len(tb.List()); got != n {
		t.Errorf("List has %d entries, want %d", got, n)
	}
	if kids := waitNoChildren(5 * time.Second); len(kids) > 0 {
		t.Errorf("%d children left, e.g. %+v", len(kids), kids[0])
	}
	if after := countFDs(); after != fds {
		t.Errorf("%d fds before, %d after", fds, after)
	}
}

func isChild(pid int) bool {
	for _, c := range childrenOf(os.Getpid()) {
		if c.pid == pid {
			return true
		}
	}
	return false
}

func TestTail(t *testing.T) {
	t.Parallel()
	var all bytes.Buffer
	var tl tail
	for i, n := range []int{10, tailSize - 20, 15, 3 * tailSize, 7, tailSize / 2, tailSize} {
		chunk := bytes.Repeat([]byte{byte('a' + i)}, n)
		chunk[0] = '0' + byte(i)
		all.Write(chunk)
		tl.write(chunk)
		want := all.Bytes()
		if len(want) > tailSize {
			want = want[len(want)-tailSize:]
		}
		if got := tl.String(); got != string(want) {
			t.Fatalf("after chunk %d: tail of %d bytes differs from the last %d written", i, len(got), len(want))
		}
	}
}

func TestCloseContext(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	ready := make(chan struct{}, 1)
	spec := helperSpec("stubborn", "ignore-term")
	spec.OnOutput = func(string, []byte, bool) { ready <- struct{}{} }
	p := start(t, tb, spec)
	<-ready
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := tb.Close(ctx, time.Hour)
	if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "1 processes") {
		t.Errorf("Close with a cancelled context: %v", err)
	}
	if !tb.Alive("stubborn") {
		t.Error("the process ignoring SIGTERM died before its grace ran out")
	}
	// Closing again finishes the job (newTable's cleanup checks it).
	if err := tb.Close(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if x, _ := p.Wait(t.Context()); x.Signal != "SIGKILL" {
		t.Errorf("after the second Close: %+v", x)
	}
}

// Many goroutines starting, waiting and listing at once: for the race
// detector, and to check each Wait gets its own child's output.
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	tb := newTable(t, Options{})
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				name := strconv.Itoa(g) + "." + strconv.Itoa(i)
				var lines int
				var mu sync.Mutex
				p, err := tb.Start(Spec{Name: name, Argv: []string{"/bin/echo", name}, OnOutput: func(string, []byte, bool) {
					mu.Lock()
					lines++
					mu.Unlock()
				}})
				if err != nil {
					errs <- err
					continue
				}
				tb.List()
				x, err := p.Wait(t.Context())
				mu.Lock()
				n := lines
				mu.Unlock()
				if err != nil || x.Stdout != name+"\n" || n != 1 {
					errs <- errors.New(name + ": got " + strconv.Quote(x.Stdout) + " and " + strconv.Itoa(n) + " lines")
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
