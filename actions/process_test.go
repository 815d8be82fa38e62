package actions_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/runner/lang"
)

func openFDs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		target, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		out = append(out, e.Name()+" -> "+target)
	}
	return out
}

// children lists this process's children but the guard, zombies included, by parent pid
// in /proc/*/stat: not every kernel has /proc/PID/task/TID/children.
func children(t *testing.T) []string {
	t.Helper()
	self := os.Getpid()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …: comm may hold spaces, so split after ')'.
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		// The guard (package guard) outlives every run by design.
		if len(fields) > 1 && fields[1] == strconv.Itoa(self) && !strings.Contains(s, "(pmrun-guard)") {
			out = append(out, s)
		}
	}
	return out
}

// TestNoLeaks runs scenarios that start processes and end in every way —
// passing, failing, timing out — and checks that afterwards this process
// holds the same file descriptors and has no child left, zombie or not.
// It does not run in parallel, so nothing else opens files meanwhile.
func TestNoLeaks(t *testing.T) {
	scenarios := map[string]string{
		"passes": `
name: passes
steps:
  - spawn: {name: a, cmd: [sleep, "30"]}
  - spawn: {name: b, shell: 'sleep 30 & setsid sleep 30 & echo hi'}
  - spawn: {name: c, cmd: [cat], stdin: "some input"}
  - spawn: {name: d, agent: true}
    continue_on_error: true
  - wait: {process: c}
  - list: {processes: own}
`,
		"fails": `
name: fails
steps:
  - spawn: {name: a, cmd: [sleep, "30"]}
  - spawn: {name: b, cmd: [/no/such/program]}
`,
		"times out": `
name: times-out
timeout: 300ms
steps:
  - spawn: {name: a, shell: 'trap "" TERM; sleep 30'}
  - sleep: 10s
`,
		"loud": `
name: loud
steps:
  - spawn: {name: a, shell: 'head -c 3000000 /dev/zero | tr "\0" "x"; echo; seq 1 20000'}
  - id: w
    wait: {process: a, timeout: 30s}
  - assert: steps.w.success && len(steps.w.stdout) <= 65536 && steps.w.stdout endsWith "20000\n"
`,
	}
	runScenario(t, "name: warm\nsteps:\n  - spawn: {name: a, cmd: [true]}\n  - wait: {process: a}\n")
	before := openFDs(t)
	for name, src := range scenarios {
		o := runScenario(t, src)
		want := lang.StatusPassed
		if name != "passes" && name != "loud" {
			want = lang.StatusFailed
		}
		if o.Status != want {
			t.Errorf("%s: status %s, want %s (%v)", name, o.Status, want, o.Err)
		}
		if kids := children(t); len(kids) > 0 {
			t.Errorf("%s: children left after the run:\n%s", name, strings.Join(kids, "\n"))
		}
	}
	after := openFDs(t)
	if len(after) != len(before) {
		t.Errorf("file descriptors: %d before, %d after\nbefore: %v\nafter:  %v", len(before), len(after), before, after)
	}
}

// TestSpawnResult checks the fields a spawn and a wait report.
func TestSpawnResult(t *testing.T) {
	t.Parallel()
	o := runScenario(t, `
name: result
steps:
  - id: s
    spawn: {name: p, cmd: [sh, -c, 'echo $$; echo $PMRUN_X; pwd'], env: {PMRUN_X: "42"}, dir: /tmp}
  - id: w
    wait: {process: p, timeout: 10s}
`)
	if o.Status != lang.StatusPassed {
		t.Fatalf("status %s: %v", o.Status, o.Err)
	}
	spawn, wait := o.Steps[0].Result, o.Steps[1].Result
	pid := spawn["pid"].(int)
	if spawn["pgid"] != pid || spawn["name"] != "p" {
		t.Errorf("spawn result %v: want pgid == pid and name p", spawn)
	}
	if want := strconv.Itoa(pid) + "\n42\n/tmp\n"; wait["stdout"] != want {
		t.Errorf("stdout %q, want %q", wait["stdout"], want)
	}
	if wait["exit_code"] != 0 || wait["success"] != true || wait["signal"] != "" {
		t.Errorf("wait result %v", wait)
	}
}

// TestProcessEventsInOrder: however soon a child writes and exits, its
// process_start comes before its output and its exit in the log.
func TestProcessEventsInOrder(t *testing.T) {
	var src strings.Builder
	src.WriteString("name: order\nsteps:\n")
	for i := range 40 {
		fmt.Fprintf(&src, "  - spawn: {name: p%d, cmd: [echo, hi]}\n", i)
	}
	for i := range 40 {
		fmt.Fprintf(&src, "  - wait: {process: p%d}\n", i)
	}
	r := runScenario(t, src.String())
	mustPass(t, r)
	started := map[string]bool{}
	n := 0
	for _, ev := range r.events(t, "process_start", "process_output", "process_exit") {
		name := ev["process"].(string)
		if ev["event"] == "process_start" {
			started[name] = true
			n++
		} else if !started[name] {
			t.Errorf("%s of %s before its process_start", ev["event"], name)
		}
	}
	if n != 40 {
		t.Errorf("%d process_start events, want 40", n)
	}
}

// TestSpawnRefusedWhenItRuns: a spawn whose parameters come from
// templates is checked when it runs as check checks literal ones (in
// runner/lang's load tests): each mistake names its parameter, shell
// included, instead of blaming cmd.
func TestSpawnRefusedWhenItRuns(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ step, want string }{
		{`{name: "${{ '' }}", cmd: [sleep, "1"]}`, "name: a process needs a name"},
		{`{name: p, shell: "${{ '' }}"}`, "shell: shell is empty"},
		{`{name: p, cmd: ["${{ '' }}"]}`, "cmd: the program, cmd's first item, is empty"},
		{`{name: p, cmd: [env], env: {A: "${{ 'a\u0000b' }}"}}`, `env: variable "A" holds a NUL byte`},
	} {
		r := runScenario(t, "name: s\nsteps:\n  - spawn: "+tc.step+"\n")
		if r.Status != lang.StatusFailed || r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
			t.Errorf("%s: %s %v, want an error with %q", tc.step, r.Status, r.Err, tc.want)
		}
	}
}
