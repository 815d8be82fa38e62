package runner_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

func newSession(t *testing.T, ctx context.Context) (*runner.Session, *syncBuffer) {
	t.Helper()
	buf := &syncBuffer{}
	log := runner.NewEventLog(buf, hclog.Info)
	log.CheckDeclared(probe.Registry(), func(name string) { t.Errorf("event %q is logged but not declared", name) })
	seed := uint64(7)
	s, err := runner.NewSession(ctx, runner.SessionConfig{Name: "menu", Description: "a test session"},
		runner.Options{RunID: "s1", Log: log, Seed: &seed})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, buf
}

func mustStep(t *testing.T, s *runner.Session, text, wantStatus string) *lang.StepResult {
	t.Helper()
	r, err := s.Step(t.Context(), text)
	if err != nil {
		t.Fatalf("step %q: %v", text, err)
	}
	if r.Status != wantStatus {
		t.Fatalf("step %q: status %s (%v), want %s", text, r.Status, r.Err, wantStatus)
	}
	return r
}

// TestSessionSteps runs steps one at a time that refer to what earlier ones
// did (results, processes, the channel), then replays the recording.
func TestSessionSteps(t *testing.T) {
	t.Parallel()
	s, buf := newSession(t, t.Context())
	mustStep(t, s, `{id: hello, log: "hi"}`, lang.StatusOK)
	mustStep(t, s, `assert: steps.hello.message == "hi" && last.status == "ok"`, lang.StatusOK)
	r := mustStep(t, s, `spawn: {name: sleeper, cmd: [sleep, "30"]}`, lang.StatusOK)
	pid, _ := r.Result["pid"].(int)
	if pid <= 0 {
		t.Fatalf("spawn result %v: no pid", r.Result)
	}
	mustStep(t, s, `assert: alive("sleeper")`, lang.StatusOK)
	mustStep(t, s, `send: {message: "two\nlines"}`, lang.StatusOK)
	r = mustStep(t, s, `{id: got, receive: {timeout: 0s}}`, lang.StatusOK)
	if r.Result["ok"] != true || r.Result["message"] != "two\nlines" {
		t.Fatalf("receive result %v", r.Result)
	}
	r = mustStep(t, s, `{id: nothing, receive: {timeout: 0s}}`, lang.StatusOK)
	if r.Result["ok"] != false {
		t.Fatalf("receive on an empty channel: %v", r.Result)
	}
	mustStep(t, s, `assert: steps.got.message == "two\nlines" && !steps.nothing.ok`, lang.StatusOK)
	r = mustStep(t, s, `terminate: {process: sleeper, grace: 5s}`, lang.StatusOK)
	if r.Result["signal"] != "SIGTERM" {
		t.Fatalf("terminate result %v", r.Result)
	}
	if s.Len() != 9 {
		t.Fatalf("recorded %d steps, want 9", s.Len())
	}

	o := s.Close(t.Context())
	if o.Status != lang.StatusPassed || len(o.Steps) != 9 {
		t.Fatalf("outcome %s with %d steps, want passed with 9: %v", o.Status, len(o.Steps), o.Err)
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process %d still there after Close: %v", pid, err)
	}
	evs := buf.events(t)
	if evs[0]["event"] != "scenario_start" || evs[len(evs)-1]["event"] != "scenario_end" {
		t.Errorf("log runs from %v to %v, want scenario_start to scenario_end", evs[0]["event"], evs[len(evs)-1]["event"])
	}
	// Step indexes in the log are positions in the recording, as a replay
	// logs them.
	var ends []string
	for _, ev := range evs {
		if ev["event"] == "step_end" {
			ends = append(ends, strconv.Itoa(int(ev["step"].(float64)))+":"+ev["action"].(string))
		}
	}
	if got, want := strings.Join(ends, " "), "0:log 1:assert 2:spawn 3:assert 4:send 5:receive 6:receive 7:assert 8:terminate"; got != want {
		t.Errorf("step_end events %s, want %s", got, want)
	}

	replay(t, s)
}

// replay loads the session's recording and runs it; it must pass.
func replay(t *testing.T, s *runner.Session) string {
	t.Helper()
	data, err := s.Scenario()
	if err != nil {
		t.Fatal(err)
	}
	sc, err := lang.Parse("rec.yaml", data, lang.LoadOptions{Registry: probe.Registry()})
	if err != nil {
		t.Fatalf("recording does not load: %v\n%s", err, data)
	}
	if sc.Seed == nil || *sc.Seed != s.Seed() {
		t.Errorf("recording's seed %v, want the session's %d", sc.Seed, s.Seed())
	}
	o := runner.Run(t.Context(), sc, runner.Options{RunID: "replay"})
	if o.Status != lang.StatusPassed {
		t.Fatalf("replay %s: %v\n%s", o.Status, o.Err, data)
	}
	return string(data)
}

// TestSessionRejects checks that a step that does not load is neither run
// nor recorded, and says why.
func TestSessionRejects(t *testing.T) {
	t.Parallel()
	s, _ := newSession(t, t.Context())
	mustStep(t, s, `spawn: {name: p, cmd: ["true"]}`, lang.StatusOK)
	for _, tc := range []struct{ text, want string }{
		{`slep: 1s`, `unknown action "slep", did you mean "sleep"?`},
		{`spawn: {name: p, cmd: ["true"]}`, `duplicate process name "p"`},
		{`terminate: {process: q}`, `no process named "q", did you mean "p"?`},
		{`assert: steps.nope.ok`, `unknown step id "nope"`},
		{`{sleep: 1s, background: true}`, `background is not allowed`},
		{`- sleep: 1s`, `a step is a mapping with one action`},
		{`sleep: [1s`, `yaml:`},
		{``, `a step is a mapping`},
	} {
		_, err := s.Step(t.Context(), tc.text)
		var le lang.LoadErrors
		if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("step %q: error %v, want load errors saying %q", tc.text, err, tc.want)
		}
	}
	if s.Len() != 1 {
		t.Errorf("recorded %d steps, want 1", s.Len())
	}
	replay(t, s)
}

// TestSessionFailedStep checks that a failed step does not end or fail the
// session, and that the recording lets the replay go past it.
func TestSessionFailedStep(t *testing.T) {
	t.Parallel()
	s, _ := newSession(t, t.Context())
	r := mustStep(t, s, `spawn: {name: missing, cmd: [/nonexistent/program]}`, lang.StatusFailed)
	if r.Err == nil {
		t.Fatal("failed step without an error")
	}
	mustStep(t, s, `assert: last.status == "failed"`, lang.StatusOK)
	data := replay(t, s)
	if !strings.Contains(data, "continue_on_error: true") {
		t.Errorf("failed step not recorded as allowed to fail:\n%s", data)
	}
	if strings.Count(data, "continue_on_error") != 1 {
		t.Errorf("only the failed step may be allowed to fail:\n%s", data)
	}
	if o := s.Close(t.Context()); o.Status != lang.StatusPassed {
		t.Errorf("session %s, want passed", o.Status)
	}
}

// TestSessionInterrupted checks that an interrupted step is not recorded
// and that Close reports the interruption, in the outcome and the log.
func TestSessionInterrupted(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	s, buf := newSession(t, ctx)
	mustStep(t, s, `log: before`, lang.StatusOK)
	done := make(chan *lang.StepResult)
	go func() {
		r, _ := s.Step(ctx, `sleep: 1m`)
		done <- r
	}()
	cancel(runner.ErrInterrupted)
	r := <-done
	if r != nil && r.Status != lang.StatusFailed {
		t.Errorf("interrupted sleep: %s", r.Status)
	}
	if _, err := s.Step(ctx, `log: after`); !errors.Is(err, runner.ErrInterrupted) {
		t.Errorf("step after the interruption: %v, want %v", err, runner.ErrInterrupted)
	}
	if s.Len() != 1 {
		t.Errorf("recorded %d steps, want 1: the interrupted sleep is not recorded", s.Len())
	}
	o := s.Close(ctx)
	if o.Status != lang.StatusInterrupted {
		t.Errorf("session %s, want interrupted", o.Status)
	}
	if again := s.Close(ctx); again != o {
		t.Error("second Close returned another outcome")
	}
	if _, err := s.Step(context.Background(), `log: closed`); err == nil {
		t.Error("Step after Close: no error")
	}
	evs := buf.events(t)
	last := evs[len(evs)-1]
	if last["event"] != "scenario_end" || last["interrupted"] != true {
		t.Errorf("last event %v, want an interrupted scenario_end", last)
	}
}

// TestSessionNoLeak checks that a session's files are all closed by Close.
// The first session starts what the process keeps for every run (the
// reaper, the spawning thread), so the count is taken after one.
func TestSessionNoLeak(t *testing.T) {
	session := func() {
		s, _ := newSession(t, t.Context())
		mustStep(t, s, `spawn: {name: p, shell: "sleep 30"}`, lang.StatusOK)
		mustStep(t, s, `send: hello`, lang.StatusOK)
		if o := s.Close(t.Context()); o.Status != lang.StatusPassed {
			t.Fatalf("session %s: %v", o.Status, o.Err)
		}
	}
	session()
	before := openFDs(t)
	session()
	if after := openFDs(t); after != before {
		t.Errorf("%d open files before the session, %d after", before, after)
	}
}

func openFDs(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(entries)
}

// TestSessionLongValues checks a session with values too long to load again
// for every step: the recording keeps them whole, later steps are checked
// and placed at their true lines, and the replay sees the same message.
func TestSessionLongValues(t *testing.T) {
	t.Parallel()
	s, buf := newSession(t, t.Context())
	long := strings.Repeat("x", 5000)
	mustStep(t, s, `{id: big, send: {message: "`+long+`"}}`, lang.StatusOK)
	mustStep(t, s, `{name: "`+long+`", id: got, receive: {timeout: 0s}}`, lang.StatusOK)
	mustStep(t, s, `assert: steps.got.message == "`+long+`"`, lang.StatusOK)
	mustStep(t, s, `assert: steps.big.bytes == 5000 && steps.got.count == 1 && last.status == "ok"`, lang.StatusOK)
	mustStep(t, s, `assert: steps.big.bytes == 1`, lang.StatusFailed)
	if _, err := s.Step(t.Context(), `wait: {process: nope}`); err == nil || !strings.Contains(err.Error(), `no process named "nope"`) {
		t.Errorf("a reference to an unknown process after long steps: %v", err)
	}
	data := replay(t, s)
	if strings.Count(data, long) != 3 {
		t.Errorf("the recording holds the long value %d times, want 3", strings.Count(data, long))
	}
	// A failed step's end says its line: the line it has in the recording.
	var line float64
	for _, ev := range buf.events(t) {
		if ev["event"] == "step_end" && ev["step"] == float64(4) {
			line, _ = ev["line"].(float64)
		}
	}
	lines := strings.Split(data, "\n")
	if line < 1 || !strings.Contains(lines[int(line)-1], "steps.big.bytes == 1") {
		t.Errorf("the failed step logged at line %v, which is not its line in the recording:\n%s", line, data)
	}
}
