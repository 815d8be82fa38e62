package guard

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv runs this test binary as a pmrun stand-in: it starts its
// guard, starts marked descendants and registers folders, then says so.
const helperEnv = "PMRUN_GUARD_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helper(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// helper: KEEP FORGET MARKER, then waits for stdin to close. It registers
// the folders KEEP and FORGET, forgets FORGET at once, and starts a shell
// leading its own group, as pmrun starts its children, whose descendants
// are in the background, setsid'd, and deaf to SIGTERM; every command line
// holds MARKER.
func helper(args []string) int {
	g, err := Get()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	keep, forget, marker := args[0], args[1], args[2]
	g.RemoveOnDeath(keep)
	g.RemoveOnDeath(forget)()
	if len(args) > 3 && args[3] == "kill-guard" {
		// Someone kills the guard: another must take its place.
		restarted := make(chan Restart, 1)
		defer g.Watch(func(r Restart) { restarted <- r })()
		syscall.Kill(g.PID(), syscall.SIGKILL)
		var r Restart
		select {
		case r = <-restarted:
		case <-time.After(time.Minute):
			fmt.Println("the guard was killed, and nothing noticed")
			return 1
		}
		if r.Err != nil || r.New == r.Old || r.New != g.PID() || syscall.Kill(r.New, 0) != nil {
			fmt.Printf("restart %+v, guard now %d\n", r, g.PID())
			return 1
		}
	}
	sh := fmt.Sprintf(`trap "" TERM; sleep %[1]s & setsid sleep %[1]s & (sleep %[1]s &); setsid sh -c "sleep %[1]s &"; echo ready; exec sleep %[1]s`, marker)
	env := append(os.Environ(), g.Mark())
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	_, err = syscall.ForkExec("/bin/sh", []string{"/bin/sh", "-c", sh}, &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{0, w.Fd(), 2},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	})
	w.Close()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	line, _ := bufio.NewReader(r).ReadString('\n')
	fmt.Print(line) // "ready"
	os.Stdin.Read(make([]byte, 1))
	return 0
}

// startHelper starts the stand-in and waits until its descendants run.
func startHelper(t *testing.T, marker string, more ...string) (cmd *exec.Cmd, keep, forget string, stdin *os.File) {
	t.Helper()
	base := t.TempDir()
	keep, forget = filepath.Join(base, "keep"), filepath.Join(base, "forget")
	for _, d := range []string{keep, forget} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	cmd = exec.Command(os.Args[0], append([]string{keep, forget, marker}, more...)...)
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdin = r
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	line, _ := bufio.NewReader(out).ReadString('\n')
	if line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper said %q", line)
	}
	return cmd, keep, forget, w
}

// TestSIGKILLLeavesNothing kills the stand-in with SIGKILL and finds, a
// second later at most, none of its descendants and the registered
// folder gone, while the forgotten one stays.
func TestSIGKILLLeavesNothing(t *testing.T) {
	t.Parallel()
	marker := "7791.5"
	cmd, keep, forget, stdin := startHelper(t, marker)
	defer stdin.Close()
	if n := len(withMarker(marker)); n < 5 {
		t.Fatalf("only %d descendants started: %v", n, withMarker(marker))
	}
	cmd.Process.Kill()
	cmd.Wait()
	checkGone(t, marker, keep)
	if _, err := os.Stat(forget); err != nil {
		t.Errorf("the forgotten folder was removed: %v", err)
	}
}

// TestKilledGuardIsReplaced: the guard killed while pmrun lives is
// noticed and replaced (Watch says so), and the new guard cleans up
// after a SIGKILL of pmrun as the first would have (issue 27, item 14).
func TestKilledGuardIsReplaced(t *testing.T) {
	t.Parallel()
	marker := "7793.5"
	cmd, keep, _, stdin := startHelper(t, marker, "kill-guard")
	defer stdin.Close()
	cmd.Process.Kill()
	cmd.Wait()
	checkGone(t, marker, keep)
}

// TestNormalExitSweepsToo: a pmrun that exits without cleaning up (a
// second Ctrl-C abandons cleanup) leaves nothing either.
func TestNormalExitSweepsToo(t *testing.T) {
	t.Parallel()
	marker := "7792.5"
	cmd, keep, _, stdin := startHelper(t, marker)
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	checkGone(t, marker, keep)
}

// checkGone fails unless, within a second, no live process holds marker
// in its command line and the folder is gone.
func checkGone(t *testing.T, marker, folder string) {
	t.Helper()
	var left []string
	for try := 0; try < 50; try++ {
		left = withMarker(marker)
		_, err := os.Stat(folder)
		if len(left) == 0 && os.IsNotExist(err) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("a second after pmrun's end, still there: %v; folder %s: %v", left, folder, exists(folder))
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// withMarker lists the live processes whose command line holds marker.
func withMarker(marker string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && bytes.Contains(cmdline, []byte(marker)) {
			out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	return out
}
