package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pmrun/pmrun/actions"
)

func TestEscapeName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, want string }{
		{"bash", "bash"},
		{"kworker/0:1-events", "kworker/0:1-events"},
		{"a\nb", `a\nb`},
		{"\x1b[2Jx", `\x1b[2Jx`},
		{"tab\there", `tab\there`},
		{`back\slash`, `back\\slash`},
		{"c1\u009b31m", `c1\u009b31m`},
		{"rtl\u202eevil", `rtl\u202eevil`},
		{"bad\xffbyte", `bad\xffbyte`},
		{"héllo wörld", "héllo wörld"},
	} {
		if got := escapeName(tc.name); got != tc.want {
			t.Errorf("escapeName(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

// startNamed starts a shell that names itself comm (what the kernel keeps
// of it: 15 bytes) and waits until it has.
func startNamed(t *testing.T, comm string) int {
	t.Helper()
	cmd := exec.Command("sh", "-c", `printf '%s' "$1" > /proc/$$/comm && echo ready && while :; do sleep 1; done`, "sh", comm)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("the named process did not start: %q, %v", line, err)
	}
	return cmd.Process.Pid
}

// TestPsEscapesNames: a process name holding a newline, an escape
// sequence or a C1 control can neither forge a row of 'pmrun ps' nor reach
// the terminal, in the table or in --json (issue 14).
func TestPsEscapesNames(t *testing.T) {
	t.Parallel()
	pid := startNamed(t, "x\n9 1 f\x1b[2J\u009b") // 13 bytes: the kernel keeps 15
	for _, args := range [][]string{{"ps"}, {"ps", "--tree"}} {
		var out, errOut bytes.Buffer
		if code := pmrun(args, strings.NewReader(""), &out, &errOut); code != 0 {
			t.Fatalf("pmrun %v: exit %d: %s", args, code, errOut.String())
		}
		text := out.String()
		if strings.ContainsAny(text, "\x1b\u009b") || strings.Contains(text, "\n9 1 f") {
			t.Errorf("pmrun %v let the name through:\n%q", args, text)
		}
		row := regexp.MustCompile(`(?m)^ *` + strconv.Itoa(pid) + ` .*  [├└─│ ]*x\\n9 1 f\\x1b\[2J\\u009b$`)
		if !row.MatchString(text) {
			t.Errorf("pmrun %v: no row for pid %d with the name escaped:\n%s", args, pid, text)
		}
	}
	var out, errOut bytes.Buffer
	if code := pmrun([]string{"ps", "--json"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("pmrun ps --json: exit %d: %s", code, errOut.String())
	}
	if n := strings.Count(out.String(), "\n"); n != 1 || bytes.ContainsAny(out.Bytes(), "\x1b\u009b") {
		t.Fatalf("pmrun ps --json: %d lines, or a raw control character: %q", n, out.String())
	}
	var procs []struct {
		PID  int    `json:"pid"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(out.Bytes(), &procs); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range procs {
		if p.PID == pid {
			found = true
			if p.Name != "x\n9 1 f\x1b[2J\u009b" {
				t.Errorf("JSON name %q: not the process's name", p.Name)
			}
		}
	}
	if !found {
		t.Errorf("pid %d not in pmrun ps --json", pid)
	}
}

// TestPsWatchJSONLines: ps --watch --json writes one JSON document a
// refresh, each a line, with the host's figures and the processes, and
// nothing else; Ctrl-C ends it with exit code 0.
func TestPsWatchJSONLines(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(pmrunBinary(t), "ps", "--watch", "100ms", "--json")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReaderSize(out, 1<<20)
	for i := range 3 {
		line, err := r.ReadBytes('\n')
		if err != nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("line %d: %v (stderr %s)", i, err, stderr.String())
		}
		var doc struct {
			Time       string           `json:"time"`
			IntervalMS int              `json:"interval_ms"`
			Host       hostFigures      `json:"host"`
			Processes  []map[string]any `json:"processes"`
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&doc); err != nil || dec.More() {
			t.Fatalf("line %d is not one JSON document: %v\n%q", i, err, line)
		}
		if _, err := time.Parse(time.RFC3339Nano, doc.Time); err != nil || doc.IntervalMS != 100 ||
			doc.Host.MemTotal == 0 || doc.Host.CPUs == 0 || doc.Host.Uptime == 0 || len(doc.Processes) == 0 {
			t.Errorf("line %d: %+v, %d processes", i, doc.Host, len(doc.Processes))
		}
		if bytes.ContainsAny(line, "\x1b") {
			t.Errorf("line %d holds an escape sequence", i)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("after Ctrl-C: %v (stderr %s)", err, stderr.String())
	}
}

// TestPsWatchFitsTerminal: on a terminal, ps --watch redraws a screen
// that fits it — a header with the host's load, CPU, memory and uptime,
// then the busiest processes first, as many as fit, no line wider than
// the screen — and never scrolls it.
func TestPsWatchFitsTerminal(t *testing.T) {
	t.Parallel()
	const cols, rows = 72, 14
	master, slave, err := openPTY(cols, rows)
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	cmd := exec.Command(pmrunBinary(t), "ps", "--watch", "100ms")
	cmd.Env = append(os.Environ(), "LANG=C.UTF-8", "TERM=xterm")
	out, copied, err := startOnPTY(cmd, master, slave)
	if err != nil {
		t.Fatal(err)
	}
	const clear = "\x1b[H\x1b[2J"
	for deadline := time.Now().Add(30 * time.Second); strings.Count(out.String(), clear) < 3; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("no three screens in 30s: %q", out.String())
		}
	}
	_ = cmd.Process.Signal(syscall.SIGINT)
	if err := cmd.Wait(); err != nil {
		t.Errorf("after Ctrl-C: %v", err)
	}
	<-copied
	screens := strings.Split(out.String(), clear)
	screen := screens[2] // a whole one: the second refresh
	lines := strings.Split(screen, "\n")
	if len(lines) > rows-1 {
		t.Errorf("%d lines on a terminal of %d rows: it would scroll\n%s", len(lines), rows, screen)
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > cols {
			t.Errorf("a line of %d columns on a terminal of %d: %q", n, cols, l)
		}
	}
	if !regexp.MustCompile(`^pmrun ps [0-9:]+  up .*  load [0-9.]+ [0-9.]+ [0-9.]+ `).MatchString(lines[0]) ||
		!regexp.MustCompile(`^CPU [0-9.]+% of [0-9]+  memory [0-9.]+[KMG] used of `).MatchString(lines[1]) ||
		!strings.HasPrefix(strings.TrimSpace(lines[3]), "PID") {
		t.Fatalf("no header:\n%s", screen)
	}
	procs := lines[4:]
	if len(procs) != rows-5 {
		t.Errorf("%d processes shown on %d rows, want %d (as many as fit)", len(procs), rows, rows-5)
	}
	last := 1e9
	for _, l := range procs {
		f := strings.Fields(l)
		cpu, err := strconv.ParseFloat(f[3], 64)
		if err != nil || cpu > last {
			t.Errorf("not sorted by CPU%%, busiest first:\n%s", strings.Join(procs, "\n"))
			break
		}
		last = cpu
	}
}

// TestProcRowsTree: --tree draws each process under its parent, the
// last child with a corner, a parent's later siblings with a bar past
// its children, in box-drawing or, without UTF-8, ASCII.
func TestProcRowsTree(t *testing.T) {
	t.Parallel()
	procs := []actions.SystemProcess{
		{PID: 1, Name: "init"}, {PID: 2, PPID: 1, Name: "a"}, {PID: 3, PPID: 2, Name: "a1"},
		{PID: 4, PPID: 1, Name: "b"}, {PID: 5, PPID: 4, Name: "b1"}, {PID: 6, PPID: 4, Name: "b2"},
		{PID: 7, PPID: 0, Name: "kthreadd"},
	}
	for _, tc := range []struct {
		ascii bool
		want  string
	}{
		{false, "init\n├─ a\n│  └─ a1\n└─ b\n   ├─ b1\n   └─ b2\nkthreadd"},
		{true, "init\n|- a\n|  `- a1\n`- b\n   |- b1\n   `- b2\nkthreadd"},
	} {
		var got []string
		for _, r := range procRows(procs, true, tc.ascii) {
			got = append(got, r.prefix+r.p.Name)
		}
		if strings.Join(got, "\n") != tc.want {
			t.Errorf("ascii %v:\n%s\nwant:\n%s", tc.ascii, strings.Join(got, "\n"), tc.want)
		}
	}
	var b strings.Builder
	if err := writeProcs(&b, procRows(procs, true, false), 0); err != nil {
		t.Fatal(err)
	}
	// The names, tree and all, start under NAME: the numbers before them
	// are right-aligned in their columns.
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	col := strings.Index(lines[0], "NAME")
	var names []string
	for _, l := range lines[1:] {
		names = append(names, l[col:])
	}
	if got, want := strings.Join(names, "\n"), "init\n├─ a\n│  └─ a1\n└─ b\n   ├─ b1\n   └─ b2\nkthreadd"; got != want {
		t.Errorf("under NAME:\n%s\nwant:\n%s\n%s", got, want, b.String())
	}
}
