package proc

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv marks the test binary re-executed as a child program, like
// os/exec's helperCommand; the mode and its arguments follow in argv.
const helperEnv = "PMRUN_PROC_HELPER"

func TestMain(m *testing.M) {
	// A race-built helper sleeps a second before it exits (GORACE's
	// atexit_sleep_ms).
	if !strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	if os.Getenv(helperEnv) == "1" {
		os.Exit(helper(os.Args[1:]))
	}
	os.Exit(runTests(m))
}

// runTests runs the tests and then checks, across all of them, that no
// child, zombie or file descriptor was left behind.
func runTests(m *testing.M) int {
	if _, err := getEngine(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	r, w, _ := os.Pipe() // start the runtime poller, which keeps its fds
	r.Close()
	w.Close()
	before := countFDs()
	code := m.Run()
	if code != 0 {
		return code
	}
	if kids := waitNoChildren(5 * time.Second); len(kids) > 0 {
		fmt.Fprintf(os.Stderr, "leak: children left after all tests: %+v\n", kids)
		return 1
	}
	if after := countFDs(); after != before {
		fmt.Fprintf(os.Stderr, "leak: %d fds open before the tests, %d after\n", before, after)
		return 1
	}
	return 0
}

// helperSpec runs this test binary as a child in the given mode.
func helperSpec(name string, args ...string) Spec {
	return Spec{
		Name: name,
		Argv: append([]string{os.Args[0]}, args...),
		Env:  map[string]string{helperEnv: "1"},
	}
}

func helper(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "helper: no mode")
		return 2
	}
	mode, args := args[0], args[1:]
	switch mode {
	case "exit": // exit CODE, after one line on each stream
		code, _ := strconv.Atoi(args[0])
		fmt.Println("out")
		fmt.Fprintln(os.Stderr, "err")
		return code
	case "sleep":
		// Bounded, so a helper that a broken Close missed goes away.
		time.Sleep(2 * time.Minute)
	case "ignore-term":
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(2 * time.Minute)
	case "grandchild": // grandchild detached|hold [setsid]: start a sleeper, print its pid, exit
		out := uintptr(1)
		if args[0] == "detached" {
			null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			if err != nil {
				return 3
			}
			out = null.Fd()
		}
		attr := &syscall.ProcAttr{
			Env:   os.Environ(),
			Files: []uintptr{out, out, out},
			Sys:   &syscall.SysProcAttr{Setsid: len(args) > 1 && args[1] == "setsid"},
		}
		pid, err := syscall.ForkExec(os.Args[0], []string{os.Args[0], "sleep"}, attr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 3
		}
		fmt.Println(pid)
	case "spew": // spew BYTES: that many bytes of numbered lines on stdout and stderr
		n, _ := strconv.Atoi(args[0])
		for _, w := range []io.Writer{os.Stdout, os.Stderr} {
			writeLines(w, n)
		}
	case "longline": // longline BYTES [AFTER]: a run of x's without a newline, then AFTER
		n, _ := strconv.Atoi(args[0])
		os.Stdout.WriteString(strings.Repeat("x", n))
		if len(args) > 1 {
			os.Stdout.WriteString(args[1])
		}
	case "cat":
		io.Copy(os.Stdout, os.Stdin)
	case "env":
		fmt.Print(os.Getenv(args[0]))
	case "pwd":
		wd, _ := os.Getwd()
		fmt.Print(wd)
	case "fd3":
		f := os.NewFile(3, "fd3")
		if _, err := f.WriteString("hello via fd 3"); err != nil {
			return 3
		}
	default:
		fmt.Fprintf(os.Stderr, "helper: unknown mode %q\n", mode)
		return 2
	}
	return 0
}

// writeLines writes exactly n bytes as lines "000001\n" (the last one may
// be cut short).
func writeLines(w io.Writer, n int) {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "%06d\n", i)
	}
	io.WriteString(w, b.String()[:n])
}

func countFDs() int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(ents) - 1 // the directory being read
}

// waitNoChildren waits until this process has no children left, and
// returns what is left otherwise. Reaping is asynchronous, so a dead
// child may be visible for a moment after its Wait returned.
func waitNoChildren(limit time.Duration) []child {
	deadline := time.Now().Add(limit)
	e, _ := getEngine()
	for {
		kids := slices.DeleteFunc(childrenOf(os.Getpid()), func(c child) bool { return e.isGuard(c.pid) })
		if len(kids) == 0 || time.Now().After(deadline) {
			return kids
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gone waits until pid no longer exists, not even as a zombie.
func gone(pid int, limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for {
		if _, err := os.Stat(filepath.Join("/proc", strconv.Itoa(pid))); os.IsNotExist(err) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}
