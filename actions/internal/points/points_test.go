package points

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/program"
)

// client is testdata/point.c compiled once: the protocol spoken by a
// program in another language, which starts in a millisecond where the
// test binary as pmrun point takes far longer (under -race most of all).
var client struct {
	sync.Once
	path string
	err  error
}

// pointClient returns a folder holding the client as "pmrun", to put
// first on the PATH; it skips the test without a C compiler.
func pointClient(t *testing.T) string {
	t.Helper()
	client.Do(func() {
		cc, err := preload.Compiler()
		if err != nil {
			client.err = err
			return
		}
		dir, err := os.MkdirTemp("", "pmrun-points-test-")
		if err != nil {
			client.err = err
			return
		}
		client.path = dir
		out, err := exec.Command(cc, "-O1", "-o", filepath.Join(dir, "pmrun"), filepath.Join("testdata", "point.c")).CombinedOutput()
		if err != nil {
			client.err = fmt.Errorf("compile point.c: %v\n%s", err, out)
		}
	})
	if client.err != nil {
		t.Skip(client.err)
	}
	return client.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if client.path != "" {
		os.RemoveAll(client.path)
	}
	os.Exit(code)
}

// take.sh takes a lock file by checking it is not there, then writing
// it: two steps, so two scripts can both take it. FIXED takes it in one
// (mkdir).
const takeScript = `
if [ -n "$FIXED" ]; then
	pmrun point take
	mkdir lock 2>/dev/null || exit 0
	echo "$1" > lock/owner
	pmrun point inside
	owner=$(cat lock/owner)
	[ "$owner" = "$1" ] || { echo "$1 found $owner in the lock it took" >&2; exit 1; }
	rm -r lock
	exit 0
fi
pmrun point check
[ -e lock ] && exit 0
pmrun point take
echo "$1" > lock
pmrun point inside
owner=$(cat lock)
[ "$owner" = "$1" ] || { echo "$1 found $owner in the lock it took" >&2; exit 1; }
rm lock
`

// config writes script into a folder with a pmrun on the PATH, and runs
// it as each of names.
func config(t *testing.T, script string, env map[string]string, names ...string) Config {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := Config{Env: map[string]string{"PATH": pointClient(t) + ":" + os.Getenv("PATH")}, Timeout: 20 * time.Second}
	for k, v := range env {
		cfg.Env[k] = v
	}
	for _, n := range names {
		cfg.Procs = append(cfg.Procs, Proc{Name: n, Cmd: "sh " + file + " " + n})
	}
	return cfg
}

type result struct {
	engine.Outcome
	notes []string
}

func search(t *testing.T, cfg Config, opts control.Options) result {
	t.Helper()
	th, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	opts.MaxSteps = 1000
	out, err := control.Run(t.Context(), control.ThreadsSystem(func() (engine.Threads, error) { return th, nil }), opts)
	if err != nil {
		t.Fatal(err)
	}
	notes, _ := th.Shown()
	return result{out, notes}
}

func table(o result) string {
	if o.Interleaving == nil {
		return ""
	}
	return o.Interleaving.Format()
}

// Two scripts racing on a lock file: a search finds both inside, the
// schedule replays it exactly, and the lock taken in one step passes.
func TestLockFileRace(t *testing.T) {
	t.Parallel()
	cfg := config(t, takeScript, nil, "first", "second")
	out := search(t, cfg, control.Options{Runs: 10, Seed: 3})
	if out.Verdict != Exit || !strings.Contains(out.Failure.Msg, "found") || !strings.Contains(out.Failure.Msg, "in the lock it took") {
		t.Fatalf("verdict %s, failure %v, %d of %d runs failed\n%s", out.Verdict, out.Failure, out.Failures, out.Runs, table(out))
	}
	t.Logf("%d of %d runs failed; %s\n%s", out.Failures, out.Runs, out.ScheduleText, table(out))
	for _, want := range []string{"point check", "point take", "point inside"} {
		if !strings.Contains(table(out), want) {
			t.Errorf("the table has no %q", want)
		}
	}
	sc := out.Schedule
	again := search(t, cfg, control.Options{Replay: &sc})
	if again.Verdict != out.Verdict || again.Failure.Msg != out.Failure.Msg || table(again) != table(out) {
		t.Fatalf("the replay differs: %v\n%s", again.Failure, table(again))
	}
	fixed := search(t, config(t, takeScript, map[string]string{"FIXED": "1"}, "first", "second"), control.Options{Runs: 5, Seed: 3})
	if !fixed.OK {
		t.Errorf("the lock taken by mkdir: %v\n%s", fixed.Failure, table(fixed))
	}
}

// A process that takes longer than the watchdog between two points is let
// run, and the result says so.
func TestWatchdog(t *testing.T) {
	t.Parallel()
	cfg := config(t, "pmrun point before\nsleep 1\npmrun point after\n", nil, "slow")
	cfg.Watchdog = 200 * time.Millisecond
	out := search(t, cfg, control.Options{Runs: 1})
	if !out.OK || !strings.Contains(strings.Join(out.notes, "\n"), "slow neither stopped at a point nor ended within 200ms after point before") {
		t.Errorf("ok %v, notes %q", out.OK, out.notes)
	}
}

// A process that never stops nor ends fails its run with verdict timeout;
// one that ends badly, with its status.
func TestTimeoutAndExit(t *testing.T) {
	t.Parallel()
	cfg := config(t, "pmrun point a\nsleep 30\n", nil, "stuck")
	cfg.Timeout, cfg.Watchdog = 500*time.Millisecond, 100*time.Millisecond
	out := search(t, cfg, control.Options{Runs: 1})
	if out.Verdict != Timeout || !strings.Contains(out.Failure.Msg, "still running: stuck") {
		t.Errorf("verdict %s: %v", out.Verdict, out.Failure)
	}
	out = search(t, config(t, "pmrun point a\necho bad thing >&2\nexit 4\n", nil, "bad"), control.Options{Runs: 1})
	if out.Verdict != Exit || out.Failure.Msg != "bad exited with status 4, not 0: bad thing" {
		t.Errorf("verdict %s: %v", out.Verdict, out.Failure)
	}
	if out.Verdict == program.Pass {
		t.Error("passed")
	}
}

// Requests that do not follow the protocol are refused with why; outside
// pmrun a point is nothing.
func TestProtocol(t *testing.T) {
	t.Parallel()
	th, err := New(t.Context(), Config{Procs: []Proc{{Name: "p", Cmd: "true"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer th.Close()
	for line, want := range map[string]string{
		"hello\n":                  "error want point ID NAME",
		"point 0.7 x\n":            `error unknown process "0.7"`,
		"point 0.0 \n":             "error a point needs a name",
		"point nonsense x\n":       `error unknown process "nonsense"`,
		"point 0.0 x\tfile\n":      `error after the tab: "file" is not a place FILE:LINE`,
		"point 0.0 x\ttake.sh:0\n": `error after the tab: "take.sh:0" is not a place FILE:LINE (a line number from 1)`,
	} {
		conn, err := net.Dial("unix", th.sock)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprint(conn, line)
		got, _ := bufio.NewReader(conn).ReadString('\n')
		conn.Close()
		if !strings.HasPrefix(got, want) {
			t.Errorf("%q: pmrun answered %q, want %q", line, got, want)
		}
	}
	if err := Ask(t.Context(), "anything", "take.sh:3"); os.Getenv(EnvSocket) == "" && err != nil {
		t.Errorf("outside pmrun: %v", err)
	}
	if err := Ask(t.Context(), "", ""); err == nil {
		t.Error("a point without a name was asked")
	}
	if err := Ask(t.Context(), "x", "take.sh"); err == nil || !strings.Contains(err.Error(), "not a place FILE:LINE") {
		t.Errorf("a point at no line: %v", err)
	}
}

// A point that says where it is (pmrun point --at) has its script's line
// in the run's table; a process whose output has no match of its
// expect_stdout fails the run with verdict output.
func TestPointsAtAndOutput(t *testing.T) {
	t.Parallel()
	cfg := config(t, "echo \"$1 starts\"\npmrun point --at \"$0:$LINENO\" one\npmrun point --at \"$0:$LINENO\" two\necho \"$1 ends\"\n", nil, "a", "b")
	for i := range cfg.Procs { // dash has no $LINENO
		cfg.Procs[i].Cmd = "bash" + strings.TrimPrefix(cfg.Procs[i].Cmd, "sh")
	}
	cfg.ExpectStdout = map[string]*regexp.Regexp{"a": regexp.MustCompile(`a ends`), "b": regexp.MustCompile(`b starts`)}
	if out := search(t, cfg, control.Options{Runs: 1}); !out.OK {
		t.Fatalf("%v\n%s", out.Failure, table(out))
	}
	cfg.ExpectStdout["b"] = regexp.MustCompile(`^b never says this`)
	out := search(t, cfg, control.Options{Runs: 1})
	if out.Verdict != Output || out.Failure.Thread != "b" || !strings.Contains(out.Failure.Msg, `b's standard output has no match of "^b never says this" (it ends "b starts\nb ends\n")`) {
		t.Errorf("verdict %s: %v", out.Verdict, out.Failure)
	}
	for _, want := range []string{"2: point one", "3: point two"} {
		if !strings.Contains(table(out), want) {
			t.Errorf("the table has no %q:\n%s", want, table(out))
		}
	}
	for _, row := range out.Interleaving.Rows {
		if filepath.Base(row.Pos.File) != "script.sh" || row.Pos.Line < 2 || row.Pos.Line > 3 {
			t.Errorf("a point at %v", row.Pos)
		}
	}
}
