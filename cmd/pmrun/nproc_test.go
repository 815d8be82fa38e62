package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// nprocUser is the user the process limit test runs pmrun as: root is
// not held to RLIMIT_NPROC.
const nprocUser = "pmrun-nproc"

// TestProcessLimit runs pmrun as a user whose process limit (ulimit -u)
// is low, and has it start threads, processes, an agent's threads and a
// program's (free, and one at a time under control) until the limit. The
// step that would pass it fails with a message naming the limit; finally
// and cleanup run; nothing is left. Without the check the Go runtime
// aborted pmrun (fatal error: newosproc, exit 2).
func TestProcessLimit(t *testing.T) {
	t.Parallel()
	if os.Getuid() != 0 {
		t.Skip("skipped: this test creates a user (useradd) to run pmrun as, which needs root; a non-root user cannot have a process limit that root's processes do not count against")
	}
	u := nprocTestUser(t)
	dir := sharedDir(t, u)
	bin := filepath.Join(dir, "pmrun")
	copyFile(t, os.Args[0], bin)

	const limit = 40
	threads := func(in string) string {
		var s strings.Builder
		for i := range limit + 10 {
			fmt.Fprintf(&s, "  - thread: {name: t%d%s}\n", i, in)
		}
		return s.String()
	}
	var spawns strings.Builder
	for i := range limit + 10 {
		fmt.Fprintf(&spawns, "  - spawn: {name: p%d, cmd: [sleep, \"7785.5\"]}\n", i)
	}
	head := "steps:\n  - spawn: {name: bg, shell: 'sleep 7785.5 & sleep 7785.5 & wait'}\n"
	tail := "finally:\n  - log: finally ran\n"
	// A program's threads are OS threads too, and a controlled one adds a
	// P (GOMAXPROCS) for each, on which the runtime may start threads of
	// its own: 256 threads under random crashed the runtime (#27).
	programs := "programs:\n  big:\n    vars: {count: 0}\n    threads:\n      W: {count: 256, body: [set: count = count + 1]}\n"
	for _, tc := range []struct{ name, top, steps string }{
		{"threads", "", threads("")},
		{"processes", "", spawns.String()},
		{"agent-threads", "", "  - spawn: {name: w, agent: true}\n" + threads(", in: w")},
		{"program-random", programs, "  - program: {run: big, scheduler: random, runs: 3}\n"},
		{"program-pct", programs, "  - program: {run: big, scheduler: pct, runs: 3}\n"},
		{"program-os", programs, "  - program: {run: big, scheduler: os, runs: 3}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			scenario := filepath.Join(dir, tc.name+".yaml")
			writeFile(t, scenario, "name: "+tc.name+"\n"+tc.top+head+tc.steps+tail)
			logFile := filepath.Join(dir, tc.name+".log")
			cmd := exec.Command(bin, "--log", logFile, scenario)
			cmd.Dir = dir
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "TMPDIR=" + dir}
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid, Groups: []uint32{}}}
			var out strings.Builder
			cmd.Stdout, cmd.Stderr = &out, &out
			startLimited(t, cmd, limit)
			err := waitBounded(t, cmd, time.Minute)
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("pmrun: %v, want exit code 1\n%s", err, out.String())
			}
			if !strings.Contains(out.String(), "RLIMIT_NPROC (ulimit -u) is 40") {
				t.Errorf("no step names the limit:\n%s", out.String())
			}
			data, err := os.ReadFile(logFile)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), `"@message":"finally ran"`) {
				t.Errorf("finally did not run:\n%s", out.String())
			}
			lines := strings.Split(strings.TrimSpace(string(data)), "\n")
			var last struct{ Event string }
			if json.Unmarshal([]byte(lines[len(lines)-1]), &last); last.Event != "run_end" {
				t.Errorf("the log ends with %s, want run_end", lines[len(lines)-1])
			}
			if left := processesLeft("7785.5"); len(left) > 0 {
				t.Fatalf("left behind: %v", left)
			}
		})
	}
}

type testUser struct{ uid, gid uint32 }

// nprocTestUser returns the test user, creating it if needed.
func nprocTestUser(t *testing.T) testUser {
	u, err := user.Lookup(nprocUser)
	if err != nil {
		out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", nprocUser).CombinedOutput()
		if err != nil {
			t.Fatalf("useradd %s: %v\n%s", nprocUser, err, out)
		}
		if u, err = user.Lookup(nprocUser); err != nil {
			t.Fatal(err)
		}
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return testUser{uint32(uid), uint32(gid)}
}

// sharedDir is a folder the test user may write in and run pmrun from.
func sharedDir(t *testing.T, u testUser) string {
	dir, err := os.MkdirTemp("", "pmrun-nproc-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chown(dir, int(u.uid), int(u.gid)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startLimited starts cmd with RLIMIT_NPROC lowered to limit: through
// bash (dash has no ulimit -u), whose ulimit -u lowers its own limit
// before it execs cmd. (Lowering
// this process's limit for the moment of the fork, as os/exec has no
// other way to give a child a limit, held every parallel test's fork to
// it too, so the test had to run alone.)
func startLimited(t *testing.T, cmd *exec.Cmd, limit uint64) {
	t.Helper()
	sh, err := exec.LookPath("bash")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Args = append([]string{"bash", "-c", fmt.Sprintf(`ulimit -u %d && exec "$0" "$@"`, limit), cmd.Path}, cmd.Args[1:]...)
	cmd.Path = sh
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

func waitBounded(t *testing.T, cmd *exec.Cmd, limit time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("pmrun still ran after %v", limit)
		return nil
	}
}

func copyFile(t *testing.T, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
