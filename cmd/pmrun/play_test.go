package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp/kb"
	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/contract/view/viewtest"
)

// player is a pmrun play process and the address it serves.
type player struct {
	cmd *exec.Cmd
	url string
	out *bytes.Buffer // what it printed after the address
}

// startPlay runs pmrun play with args and waits for its address.
func startPlay(t *testing.T, args ...string) *player {
	t.Helper()
	return startPlayEnv(t, nil, args...)
}

// startPlayEnv is startPlay with more environment variables.
func startPlayEnv(t *testing.T, env []string, args ...string) *player {
	t.Helper()
	cmd := exec.Command(pmrunBinary(t), append([]string{"play"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	// A test binary that dies (a timeout's panic) runs no cleanup: the
	// page must not outlive it, holding go test's output open.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &player{cmd: cmd, out: &bytes.Buffer{}}
	copied := make(chan struct{})
	// Cleanups run last first: the process ends, then its output is in.
	t.Cleanup(func() { <-copied })
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	lines := bufio.NewScanner(stdout)
	for lines.Scan() {
		if u, ok := strings.CutPrefix(lines.Text(), "  http://127.0.0.1:"); ok {
			p.url = "http://127.0.0.1:" + u
			break
		}
	}
	go func() {
		for lines.Scan() {
			p.out.WriteString(lines.Text() + "\n")
		}
		close(copied)
	}()
	if p.url == "" {
		t.Fatalf("pmrun play %v printed no address", args)
	}
	return p
}

// stop ends the game as Ctrl-C does and checks that pmrun exits 0, soon.
func (p *player) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGINT)
	exited := make(chan error, 1)
	go func() { exited <- p.cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("pmrun play after Ctrl-C: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("pmrun play did not end on Ctrl-C")
	}
}

// call posts one of the game's calls and decodes the state it answers.
func (p *player) call(t *testing.T, name, body string, out any) {
	t.Helper()
	var resp *http.Response
	var err error
	if name == "state" {
		resp, err = http.Get(p.url + "api/state")
	} else {
		resp, err = http.Post(p.url+"api/"+name, "application/json", strings.NewReader(body))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %d %s", name, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

type gameState struct {
	Program  string
	Over     bool
	Won      bool
	Schedule string
	Message  string
	Plan     *struct{ Steps []int }
	Run      struct {
		Verdict string
		Replay  string
		Steps   []json.RawMessage
	}
}

// replayLine is the replay command a run of pmrun prints.
var replayLine = regexp.MustCompile(`(?m)^ +replay: (pmrun run .*)$`)

// TestPlayInBrowser plays the flag lock of mutex.yaml in headless
// Chromium, with keys, to its win, and checks that the page's replay
// command is the one pmrun run prints for the same game played at the
// terminal with the same arguments; Ctrl-C then ends pmrun play with exit
// code 0.
func TestPlayInBrowser(t *testing.T) {
	t.Parallel()
	lab := filepath.Join("..", "..", "scenarios", "labs", "book", "mutex.yaml")
	b := viewtest.New(t)
	// The same arguments as the run below: its replay command holds them.
	p := startPlay(t, "--seed", "7", "--var", "scheduler=manual", lab)
	b.Open(p.url, ".thread")
	if got := b.Text("#program option:checked"); !strings.HasPrefix(got, "flag_lock") {
		t.Errorf("the game starts with %q, not the lab's broken attempt", got)
	}
	for i, k := range []string{"a", "b", "a", "b", "a", "b"} {
		b.Key(k)
		b.Wait(`document.getElementById("won").hidden === false || document.querySelectorAll("#table tbody tr").length === ` + string(rune('2'+i)))
	}
	b.Wait(`document.querySelector("#won .pv-cmd") !== null`)
	page := b.Text("#won .pv-cmd")
	b.Shot("play-mutex-won")

	cli := exec.Command(pmrunBinary(t), "run", "--no-log", "--seed", "7", "--var", "scheduler=manual", lab)
	cli.Stdin = strings.NewReader("a\nb\na\nb\na\nb\n")
	out, err := cli.CombinedOutput()
	if err != nil {
		t.Fatalf("pmrun run: %v\n%s", err, out)
	}
	m := replayLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("pmrun run printed no replay line:\n%s", out)
	}
	if page != string(m[1]) {
		t.Errorf("the page's replay line\n%s\nis not the CLI's\n%s", page, m[1])
	}
	p.stop(t)
}

// TestPlayEveryBookLab: pmrun play starts every lab of the book with its
// broken attempt; the page's search finds its failure and opens its
// schedule, which steps forward to a win with the replay command, back a
// step and forward again; that command, run, finds the same failure.
func TestPlayEveryBookLab(t *testing.T) {
	labs, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "labs", "book", "*.yaml"))
	if err != nil || len(labs) < 19 {
		t.Fatalf("%d labs: %v", len(labs), err)
	}
	for _, lab := range labs {
		t.Run(filepath.Base(lab), func(t *testing.T) {
			broken := brokenOf(t, lab)
			p := startPlay(t, lab)
			var st gameState
			p.call(t, "state", "", &st)
			if st.Program != broken {
				t.Errorf("it plays %s, not the broken attempt %s", st.Program, broken)
			}
			p.call(t, "search", "{}", &st)
			if st.Plan == nil || len(st.Plan.Steps) == 0 {
				t.Fatalf("the search opened no schedule: %s", st.Message)
			}
			for range st.Plan.Steps {
				if st.Over {
					break
				}
				p.call(t, "forward", "{}", &st)
			}
			replay := regexp.MustCompile(`^pmrun run ` + regexp.QuoteMeta(lab) + ` --seed [0-9]+ --replay ` + regexp.QuoteMeta(st.Schedule) + `$`)
			if !st.Won || !replay.MatchString(st.Run.Replay) {
				t.Fatalf("after its schedule: won %v, verdict %s, replay %q (%s)", st.Won, st.Run.Verdict, st.Run.Replay, st.Message)
			}
			// Back one step and forward again.
			won := st.Schedule
			p.call(t, "undo", "{}", &st)
			if st.Over || len(st.Run.Steps) != len(st.Plan.Steps)-1 {
				t.Errorf("a step back from the win: over %v, %d steps", st.Over, len(st.Run.Steps))
			}
			p.call(t, "forward", "{}", &st)
			if !st.Won || st.Schedule != won {
				t.Errorf("forward again: won %v, schedule %s, want %s", st.Won, st.Schedule, won)
			}
			p.stop(t)

			// The page's replay command, run, finds the same failure.
			args := strings.Fields(strings.TrimPrefix(st.Run.Replay, "pmrun run "))
			out, _ := exec.Command(pmrunBinary(t), append([]string{"run", "--no-log"}, args...)...).CombinedOutput()
			if want := "found " + st.Run.Verdict + " in the replay"; !strings.Contains(string(out), want) {
				t.Errorf("%s: its output does not say %q:\n%s", st.Run.Replay, want, out)
			}
		})
	}
}

// TestPlayBookLabsInBrowser: the page of every book lab, once its found
// failure is stepped through, draws the win in headless Chromium without
// an error in its console: the broken rule, the table with its rule row
// (a deadlock's: the wait-for graph) and the replay command.
func TestPlayBookLabsInBrowser(t *testing.T) {
	t.Parallel()
	labs, err := filepath.Glob(filepath.Join("..", "..", "scenarios", "labs", "book", "*.yaml"))
	if err != nil || len(labs) < 19 {
		t.Fatalf("%d labs: %v", len(labs), err)
	}
	b := viewtest.New(t)
	for _, lab := range labs {
		name := strings.TrimSuffix(filepath.Base(lab), ".yaml")
		p := startPlay(t, lab)
		var st gameState
		p.call(t, "search", "{}", &st)
		for st.Plan != nil && !st.Over && len(st.Run.Steps) < len(st.Plan.Steps) {
			p.call(t, "forward", "{}", &st)
		}
		if !st.Won {
			t.Errorf("%s: no win to draw (%s)", name, st.Message)
			p.stop(t)
			continue
		}
		b.Open(p.url, "#won .pv")
		status, replay := b.Text("#status"), b.Text("#won .pv-replay .pv-cmd")
		rule, graph := b.Count("#won .pv-table tr.pv-rule-row"), b.Count("#won .pv-graph .pv-node")
		if !strings.HasPrefix(status, "You broke it! ") || replay != st.Run.Replay || rule != 1 || st.Run.Verdict == "deadlock" && graph == 0 {
			t.Errorf("%s: the page says %q, replay %q, %d rule rows, %d nodes of a graph (verdict %s)", name, status, replay, rule, graph, st.Run.Verdict)
		}
		if name == "santa_claus" || name == "dining_tanenbaum" {
			b.Shot("play-lab-" + name)
		}
		b.Open("about:blank", "body") // the page closes before its server ends
		p.stop(t)
	}
}

// brokenOf is the value of a lab's var broken.
func brokenOf(t *testing.T, lab string) string {
	t.Helper()
	b, err := os.ReadFile(lab)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Vars map[string]any `yaml:"vars"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	s, _ := doc.Vars["broken"].(string)
	return s
}

// TestPlayReplayLine: the replay line pmrun run prints, with run changed
// to play, opens the page on that schedule; stepped through, the page
// wins with the very same line.
func TestPlayReplayLine(t *testing.T) {
	t.Parallel()
	lab := filepath.Join("..", "..", "scenarios", "labs", "book", "mutex.yaml")
	out, err := exec.Command(pmrunBinary(t), "run", "--no-log", lab).CombinedOutput()
	if err != nil {
		t.Fatalf("pmrun run: %v\n%s", err, out)
	}
	m := replayLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("pmrun run printed no replay line:\n%s", out)
	}
	line := string(m[1])
	p := startPlay(t, strings.Fields(strings.TrimPrefix(line, "pmrun run "))...)
	var st gameState
	p.call(t, "state", "", &st)
	if st.Plan == nil || len(st.Plan.Steps) == 0 || len(st.Run.Steps) != 0 {
		t.Fatalf("%s opened no schedule: %+v", line, st)
	}
	for range st.Plan.Steps {
		p.call(t, "forward", "{}", &st)
	}
	if !st.Won || st.Run.Replay != line {
		t.Errorf("after the schedule: won %v, replay\n%s\nwant\n%s", st.Won, st.Run.Replay, line)
	}
	p.stop(t)
}

// seeded is a scenario that fixes its seed, with a program one step
// breaks.
const seeded = `name: seeded
seed: 5
programs:
  once:
    vars: {x: 0}
    threads:
      A: [set: x = 1]
    expect: x == 2
steps:
  - program: {run: once}
`

// TestPlaySeed: the page's replay command holds the seed as pmrun run's
// does: the one given, or none when the file sets it.
func TestPlaySeed(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "seeded.yaml")
	if err := os.WriteFile(file, []byte(seeded), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{file}, "pmrun run " + file + " --replay pmrun1:once:"},
		{[]string{"--seed", "9", file}, "pmrun run " + file + " --seed 9 --replay pmrun1:once:"},
	} {
		p := startPlay(t, tc.args...)
		var st gameState
		p.call(t, "step", `{"thread": 0}`, &st)
		if !st.Won || !strings.HasPrefix(st.Run.Replay, tc.want) {
			t.Errorf("pmrun play %v: won %v, replay %q; want it to start %q", tc.args, st.Won, st.Run.Replay, tc.want)
		}
		p.stop(t)
	}
}

// TestPlayOpen: --open gives the page's address to $BROWSER.
func TestPlayOpen(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	opened := filepath.Join(dir, "opened")
	browser := filepath.Join(dir, "browser")
	if err := os.WriteFile(browser, []byte("#!/bin/sh\nprintf '%s' \"$1\" > "+opened+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	lab := filepath.Join("..", "..", "scenarios", "labs", "book", "signaling.yaml")
	p := startPlayEnv(t, []string{"BROWSER=" + browser}, "--open", lab)
	var got []byte
	for range 200 {
		if got, _ = os.ReadFile(opened); len(got) > 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if string(got) != p.url {
		t.Errorf("the browser was given %q, want %q", got, p.url)
	}
	p.stop(t)
}

// shownState is what the page of a real program's run is given.
type shownState struct {
	Step, Action string
	Run          view.Run
}

// needCC skips a test without a C compiler (CI has gcc).
func needCC(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler (cc): the C labs need one")
	}
}

// TestPlayCLabInBrowser: pmrun play of a C lab runs its steps up to the
// search and draws the deadlock it found in Chromium, without a console
// error: a column per thread with abba.c's lines, the calls in order, the
// wait-for graph, the replay command, and what the page cannot do for a
// real program; ← steps back.
func TestPlayCLabInBrowser(t *testing.T) {
	t.Parallel()
	needCC(t)
	lab := filepath.Join("..", "..", "scenarios", "labs", "c", "abba.yaml")
	b := viewtest.New(t)
	p := startPlay(t, lab)
	var st shownState
	p.call(t, "state", "", &st)
	if st.Action != "controlled" || st.Step != "find the failure" || st.Run.Verdict != "deadlock" || st.Run.Kind != "search" {
		t.Fatalf("the page shows step %q (%s): %s, kind %s", st.Step, st.Action, st.Run.Verdict, st.Run.Kind)
	}
	b.Open(p.url, "#run .pv-lanes")
	var page struct {
		Lanes  []string
		Calls  []string
		Nodes  int
		Replay string
		Cannot string
		Said   string
	}
	b.Eval(`({
		lanes: Array.from(document.querySelectorAll("#run .pv-lane-head")).map(h => h.textContent),
		calls: Array.from(document.querySelectorAll("#run .pv-table td.pv-took")).map(td => td.textContent),
		nodes: document.querySelectorAll("#run .pv-graph .pv-node").length,
		replay: (document.querySelector("#run .pv-replay .pv-cmd") || {}).textContent || "",
		cannot: document.getElementById("cannot").textContent,
		said: document.querySelector("#run .pv-said").textContent
	})`, &page)
	if len(page.Lanes) != 3 || !strings.Contains(page.Lanes[1], "abba.c") {
		t.Errorf("the threads' columns: %q", page.Lanes)
	}
	locks := 0
	for _, c := range page.Calls {
		if strings.Contains(c, "pthread_mutex_lock") {
			locks++
		}
	}
	if locks < 2 || page.Nodes != 3 || page.Replay != st.Run.Replay || !strings.HasPrefix(page.Replay, "pmrun run ") {
		t.Errorf("calls %q (%d locks), %d nodes in the graph, replay %q (want %q)", page.Calls, locks, page.Nodes, page.Replay, st.Run.Replay)
	}
	if !strings.Contains(page.Cannot, "cannot let you choose the next thread") || !strings.Contains(page.Cannot, "variables") {
		t.Errorf("the page does not say what it cannot do: %q", page.Cannot)
	}
	n := len(st.Run.Steps)
	if want := fmt.Sprintf("step %d of %d: ", n, n); !strings.HasPrefix(page.Said, want) {
		t.Errorf("the player says %q, want %q…", page.Said, want)
	}
	b.Key(kb.ArrowLeft)
	if got, want := b.Text("#run .pv-said"), fmt.Sprintf("step %d of %d: ", n-1, n); !strings.HasPrefix(got, want) || !strings.Contains(got, "abba.c:") {
		t.Errorf("after ←: %q, want %q with abba.c:LINE", got, want)
	}
	b.Shot("play-c-abba")
	b.Open("about:blank", "body") // the page closes before its server ends
	p.stop(t)
}

// TestPlayCReplay: the replay line pmrun run prints for a C lab's
// failure, with run changed to play, opens that failure: the same
// schedule, replayed, with the same calls.
func TestPlayCReplay(t *testing.T) {
	t.Parallel()
	needCC(t)
	lab := filepath.Join("..", "..", "scenarios", "labs", "c", "abba.yaml")
	out, err := exec.Command(pmrunBinary(t), "run", "--no-log", lab).CombinedOutput()
	if err != nil {
		t.Fatalf("pmrun run: %v\n%s", err, out)
	}
	m := replayLine.FindSubmatch(out)
	if m == nil {
		t.Fatalf("pmrun run printed no replay line:\n%s", out)
	}
	line := string(m[1])
	sched := line[strings.LastIndex(line, " ")+1:]
	p := startPlay(t, strings.Fields(strings.TrimPrefix(line, "pmrun run "))...)
	var st shownState
	p.call(t, "state", "", &st)
	if st.Run.Kind != "replay" || st.Run.Schedule != sched || st.Run.Verdict != "deadlock" || st.Run.Replay != line {
		t.Errorf("%s opened a %s of %s: %s, replay %q", line, st.Run.Kind, st.Run.Schedule, st.Run.Verdict, st.Run.Replay)
	}
	var refused *http.Response
	if refused, err = http.Post(p.url+"api/step", "application/json", strings.NewReader(`{"thread": 0}`)); err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(refused.Body)
	refused.Body.Close()
	if refused.StatusCode != http.StatusConflict || !strings.Contains(string(body), "cannot step by hand") {
		t.Errorf("a step asked of a real program's page: %d %s", refused.StatusCode, body)
	}
	p.stop(t)
}

// TestPlayScriptsLab: pmrun play of the scripts lab shows the failure its
// find step found: a column per process with the lines of lockfile.sh
// around its points, each point at the line pmrun point --at gave.
func TestPlayScriptsLab(t *testing.T) {
	t.Parallel()
	lab := filepath.Join("..", "..", "scenarios", "labs", "scripts", "lockfile.yaml")
	p := startPlay(t, lab)
	var st shownState
	p.call(t, "state", "", &st)
	if st.Action != "scripts" || st.Run.Verdict != "exit" || len(st.Run.Threads) != 2 || len(st.Run.Steps) == 0 {
		t.Fatalf("the page shows step %q (%s): %s, %d threads, %d steps", st.Step, st.Action, st.Run.Verdict, len(st.Run.Threads), len(st.Run.Steps))
	}
	for _, th := range st.Run.Threads {
		if filepath.Base(th.File) != "lockfile.sh" || len(th.Code) == 0 {
			t.Errorf("process %s: code from %q, %d lines", th.Name, th.File, len(th.Code))
		}
	}
	for _, s := range st.Run.Steps {
		if s.Line == 0 || !strings.HasPrefix(s.Op, "point ") {
			t.Errorf("step %d: %q at line %d", s.N, s.Op, s.Line)
		}
	}
	p.stop(t)
}
