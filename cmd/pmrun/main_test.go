package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/rogpeppe/go-internal/testscript"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/runner"
)

// TestMain makes this test binary the pmrun command when testscript runs
// it under that name, so scripts run the real CLI in its own process.
func TestMain(m *testing.M) {
	// A race-built binary sleeps a second before it exits (GORACE's
	// atexit_sleep_ms); the pmruns the tests start, and every
	// `pmrun point` of a scripts lab, would each wait it out.
	if !strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	// Agents are this binary re-executed as "/proc/self/exe agent".
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		nameAgentProcess()
		os.Exit(pmrun(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	testscript.Main(m, map[string]func(){
		"pmrun": func() {
			checkEventsDeclared()
			os.Exit(pmrun(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
		},
	})
}

// undeclaredEnv names the file where the scripts' pmrun writes the name
// of every event it logs that nothing declares, a line each;
// TestScripts fails when it is not empty.
const undeclaredEnv = "PMRUN_TEST_UNDECLARED_EVENTS"

// checkEventsDeclared has this process's event logs note the events they
// write that nothing declares in the file $PMRUN_TEST_UNDECLARED_EVENTS.
func checkEventsDeclared() {
	path := os.Getenv(undeclaredEnv)
	if path == "" {
		return
	}
	newEventLog = func(w io.Writer, level hclog.Level) *runner.EventLog {
		l := runner.NewEventLog(w, level)
		l.CheckDeclared(actions.Registry(), func(name string) {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err == nil {
				fmt.Fprintf(f, "%q (pmrun %s)\n", name, strings.Join(os.Args[1:], " "))
				f.Close()
			}
		})
		return l
	}
}

// TestScripts runs the CLI scripts in testdata/script.
func TestScripts(t *testing.T) {
	t.Parallel()
	scenarios, err := filepath.Abs("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	undeclared := filepath.Join(t.TempDir(), "undeclared")
	t.Cleanup(func() {
		if data, err := os.ReadFile(undeclared); err == nil {
			t.Errorf("the scripts logged events that nothing declares:\n%s", data)
		}
	})
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			env.Setenv("SCENARIOS", scenarios)
			env.Setenv(undeclaredEnv, undeclared)
			// The console's signs are ✓ and ✗ in a UTF-8 locale, which
			// the scripts assume unless they set another.
			env.Setenv("LANG", "C.UTF-8")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode": cmdExitCode,
			"sigint":   cmdSigint,
			"sigkill":  cmdSigkill,
			"fileperm": cmdFilePerm,
			"nolive":   cmdNoLive,
			"noglob":   cmdNoGlob,
			"pty":      cmdPTY,
		},
	})
}

// cmdExitCode runs a command and checks its exit code:
// exitcode CODE COMMAND [ARGS...]. stdout and stderr are kept for the
// commands after it.
func cmdExitCode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode CODE COMMAND [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exitcode: bad code %q", args[0])
	}
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("exitcode: %v", err)
	}
	if got != want {
		ts.Fatalf("exit code %d, want %d\nstdout:\n%s\nstderr:\n%s", got, want, ts.ReadFile("stdout"), ts.ReadFile("stderr"))
	}
}

// cmdSigint starts a command, sends it SIGINT and checks its exit code:
// sigint DELAY[,DELAY...] CODE COMMAND [ARGS...] signals after DELAY, and
// once more after each further delay;
// sigint -until FILE REGEXP [-until FILE REGEXP...] CODE COMMAND [ARGS...]
// signals once FILE (in $WORK; "stdout" is the command's own) matches
// REGEXP, then once for each further -until, so that a loaded machine
// cannot make a signal come before the moment the script means.
func cmdSigint(ts *testscript.TestScript, neg bool, args []string) {
	var stdout lockedBuffer
	var untils []func() bool
	var delays []time.Duration
	for len(args) > 0 && args[0] == "-until" {
		if neg || len(args) < 5 {
			ts.Fatalf("usage: sigint -until FILE REGEXP [-until FILE REGEXP...] CODE COMMAND [ARGS...]")
		}
		file, re := args[1], regexp.MustCompile(args[2])
		args = args[3:]
		untils = append(untils, func() bool {
			if file == "stdout" {
				return re.MatchString(stdout.String())
			}
			data, _ := os.ReadFile(filepath.Join(ts.Getenv("WORK"), file))
			return re.Match(data)
		})
	}
	if untils == nil {
		if neg || len(args) < 3 {
			ts.Fatalf("usage: sigint DELAY[,DELAY...] CODE COMMAND [ARGS...]")
		}
		for _, d := range strings.Split(args[0], ",") {
			delay, err := time.ParseDuration(d)
			ts.Check(err)
			delays = append(delays, delay)
		}
		args = args[1:]
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	cmd := exec.Command(scriptPath(ts, args[1]), args[2:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = scriptEnv(ts)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ts.Check(cmd.Start())
	for _, until := range untils {
		for deadline := time.Now().Add(30 * time.Second); !until(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				ts.Fatalf("sigint: what %s wrote never matched in 30s\nstdout:\n%s\nstderr:\n%s", args[1], stdout.String(), stderr.String())
			}
		}
		ts.Check(cmd.Process.Signal(syscall.SIGINT))
	}
	for _, delay := range delays {
		time.Sleep(delay)
		ts.Check(cmd.Process.Signal(syscall.SIGINT))
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		ts.Fatalf("sigint: %s did not exit 30s after SIGINT", args[1])
	}
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	}
	fmt.Fprintf(ts.Stdout(), "%s", stdout.String())
	fmt.Fprintf(ts.Stderr(), "%s", stderr.String())
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "sigint.stdout"), []byte(stdout.String()), 0o644))
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "sigint.stderr"), stderr.Bytes(), 0o644))
	if got != want {
		ts.Fatalf("exit code %d after SIGINT, want %d\nstdout:\n%s\nstderr:\n%s", got, want, stdout.String(), stderr.String())
	}
}

// lockedBuffer is a bytes.Buffer that a command writes while the script
// reads it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// cmdSigkill starts a command and kills it with SIGKILL after a delay, or
// once the file READY exists in $WORK: sigkill DELAY|READY COMMAND
// [ARGS...]. Nothing in pmrun can clean up after SIGKILL; the script then
// checks what the kernel (Pdeathsig) and pmrun's guard did, with nolive.
func cmdSigkill(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: sigkill DELAY|READY COMMAND [ARGS...]")
	}
	delay, err := time.ParseDuration(args[0])
	ready := ""
	if err != nil {
		ready = ts.MkAbs(args[0])
	}
	cmd := exec.Command(scriptPath(ts, args[1]), args[2:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = scriptEnv(ts)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	ts.Check(cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if ready == "" {
		time.Sleep(delay)
	} else {
		for deadline := time.Now().Add(30 * time.Second); !fileExists(ready); time.Sleep(10 * time.Millisecond) {
			select {
			case err := <-exited:
				ts.Fatalf("sigkill: %s ended (%v) before %s existed:\n%s", args[1], err, args[0], out.String())
			default:
			}
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				<-exited
				ts.Fatalf("sigkill: no %s after 30s:\n%s", args[0], out.String())
			}
		}
	}
	ts.Check(cmd.Process.Signal(syscall.SIGKILL))
	if err := <-exited; err == nil {
		ts.Fatalf("sigkill: %s exited normally", args[1])
	}
}

// cmdNoGlob fails if files match PATTERN a second after the command
// before it: noglob PATTERN.
func cmdNoGlob(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: noglob PATTERN")
	}
	var found []string
	for try := 0; try < 50; try++ {
		var err error
		found, err = filepath.Glob(ts.MkAbs(args[0]))
		ts.Check(err)
		if len(found) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	ts.Fatalf("still there: %s", strings.Join(found, " "))
}

// scriptPath finds a command in the script's PATH.
func scriptPath(ts *testscript.TestScript, name string) string {
	for _, dir := range filepath.SplitList(ts.Getenv("PATH")) {
		if p := filepath.Join(dir, name); fileExists(p) {
			return p
		}
	}
	return name
}

// cmdFilePerm checks a file's permission bits: fileperm 0600 FILE.
func cmdFilePerm(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 2 {
		ts.Fatalf("usage: fileperm MODE FILE")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := uint64(fi.Mode().Perm()); (got == want) == neg {
		ts.Fatalf("%s has mode %#o, want %#o", args[1], got, want)
	}
}

// cmdNoLive fails if a process whose command line or environment contains
// MARKER is alive: nolive MARKER. It waits for them to go (see
// processesLeft).
func cmdNoLive(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: nolive MARKER")
	}
	if found := processesLeft(args[0]); len(found) > 0 {
		ts.Fatalf("processes still there: %s", strings.Join(found, "; "))
	}
}

// processesLeft is processesMatching(marker) once they are gone, or after
// 30 s: a process killed by pmrun's cleanup may still be on its way out,
// for long on a loaded machine (it once took more than the second this
// gave); one left running is still found, later.
func processesLeft(marker string) []string {
	deadline := time.Now().Add(30 * time.Second)
	for {
		found := processesMatching(marker)
		if len(found) == 0 || time.Now().After(deadline) {
			return found
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesMatching lists the live processes whose command line or
// environment contains marker. A zombie has neither.
func processesMatching(marker string) []string {
	entries, _ := os.ReadDir("/proc")
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if environ, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "environ")); !bytes.Contains(cmdline, []byte(marker)) && !bytes.Contains(environ, []byte(marker)) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		found = append(found, fmt.Sprintf("pid %d: %s (%s)", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), stat))
	}
	return found
}

func scriptEnv(ts *testscript.TestScript) []string {
	var env []string
	for _, k := range []string{"PATH", "HOME", "TMPDIR", "WORK", "SCENARIOS", "LANG", "LC_ALL", "LC_CTYPE", "TERM", "NO_COLOR"} {
		if v := ts.Getenv(k); v != "" || k == "PATH" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// TestScenarios loads and runs every file in scenarios/ with the real
// binary, one subtest per file: check and run agree on each, check
// passing it, run running it, every step check counted ending once.
func TestScenarios(t *testing.T) {
	t.Parallel()
	bin := labBinary(t)
	var files []string
	err := filepath.WalkDir("../../scenarios", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(file, "../../scenarios/"), ".yaml"), func(t *testing.T) {
			out, err := exec.Command(bin, "check", file).CombinedOutput()
			if err != nil {
				t.Fatalf("check %s: %v\n%s", file, err, out)
			}
			var name string
			var steps int
			if _, err := fmt.Sscanf(strings.TrimPrefix(string(out), "ok "+file+": "), "%s %d", &name, &steps); err != nil {
				t.Fatalf("check %s printed %q", file, out)
			}
			log := filepath.Join(t.TempDir(), "pmrun.log")
			args := []string{"run", "--log", log, file}
			lab := strings.Contains(file, "/labs/book/") || strings.Contains(file, "/labs/c/") || strings.Contains(file, "/labs/scripts/")
			html := filepath.Join(t.TempDir(), "report.html")
			if lab {
				args = append(args, "--report", html)
			}
			cmd := exec.Command(bin, args...)
			out, err = cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("run %s: %v\n%s", file, err, out)
			}
			if lab {
				checkLabReport(t, html, strings.Contains(file, "/labs/book/"))
			}
			data, err := os.ReadFile(log)
			if err != nil {
				t.Fatal(err)
			}
			if ended := strings.Count(string(data), `"event":"step_end"`); ended != steps {
				t.Errorf("check counted %d steps in %s, run ended %d", steps, file, ended)
			}
		})
	}
}

// checkLabReport checks that a lab's report draws its broken attempt's
// failing interleaving below the find step: each thread's code (a C
// lab's: the lines of its source that its calls came from; a scripts
// lab's, the lines of its script around its points), the steps in
// order, the one that broke the rule (or a deadlock's wait-for graph).
//
// A program's model marks the step that broke the rule; a C program's
// assert or exit breaks no step of pmrun's (model is false).
func checkLabReport(t *testing.T, html string, model bool) {
	t.Helper()
	b, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`<script type="application/json" class="pmrun-run" data-into="view-1-1">(.*?)</script>`).FindSubmatch(b)
	if m == nil {
		t.Fatal("the report draws no run")
	}
	var run view.Run
	if err := json.Unmarshal(m[1], &run); err != nil {
		t.Fatal(err)
	}
	failed := run.Deadlock != nil && len(run.Deadlock.Nodes) > 0
	for _, st := range run.Steps {
		failed = failed || st.Failed
	}
	if run.Kind != "search" || run.Verdict == "pass" || run.Rule == "" || len(run.Steps) == 0 || run.Replay == "" || model && !failed && run.Verdict != "expect" {
		t.Errorf("the find step's run: kind %s, verdict %s, rule %q, %d steps, failing step or graph %v", run.Kind, run.Verdict, run.Rule, len(run.Steps), failed)
	}
	if args, _ := strings.CutPrefix(run.Replay, "pmrun run "); run.Play != "pmrun play "+args {
		t.Errorf("the find step's run: replay %q, play %q", run.Replay, run.Play)
	}
	// A thread that took no step of the run (a C thread created but
	// shrunk out of the run's calls) may have no lines to show.
	stepped := map[int]bool{}
	for _, st := range run.Steps {
		stepped[st.Thread] = true
	}
	for i, th := range run.Threads {
		text := ""
		for _, l := range th.Code {
			text += l.Text
		}
		if strings.TrimSpace(text) == "" && (model || stepped[i]) {
			t.Errorf("thread %s has no code: %+v", th.Name, th.Code)
		}
	}
}

// pmrunBinary returns a path that runs this test binary as pmrun: a link
// named pmrun, which testscript.Main dispatches on.
func pmrunBinary(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "pmrun")
	if err := os.Symlink(self, link); err != nil {
		t.Fatal(err)
	}
	return link
}
