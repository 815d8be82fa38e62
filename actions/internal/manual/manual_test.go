package manual

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// playGame plays a game of p on threads of its own.
func playGame(t *testing.T, ctx context.Context, p *program.Program, in Input, out io.Writer, opts Options) (engine.Outcome, error) {
	t.Helper()
	g, err := control.NewGame(p, control.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return Play(ctx, g, in, out, opts)
}

// prog returns a program of testdata/programs.yaml.
func prog(t *testing.T, name string) *program.Program {
	t.Helper()
	return programtest.Prog(t, "testdata/programs.yaml", name)
}

// game plays p with input as the player's lines, as from a pipe.
func game(t *testing.T, p *program.Program, input string) (string, *bytes.Buffer, error) {
	t.Helper()
	var out bytes.Buffer
	o, err := playGame(t, t.Context(), p, NewInput(strings.NewReader(input)), &out, Options{File: "lab.yaml", Echo: true, Replay: func(sched string) string { return "pmrun run lab.yaml --replay " + sched }})
	return o.ScheduleText, &out, err
}

// wantLines fails the test unless every line of want is a line of out,
// in order.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	lines := strings.Split(out, "\n")
	i := 0
	for _, w := range want {
		for i < len(lines) && strings.TrimRight(lines[i], " ") != w {
			i++
		}
		if i == len(lines) {
			t.Fatalf("output lacks %q (after the lines before it):\n%s", w, out)
		}
		i++
	}
}

// TestWinByMutualExclusion: the player lets both threads see the flag
// down, then both raise it and walk in: a win, shown with the state and
// each step as it happens, and the schedule that replays it.
func TestWinByMutualExclusion(t *testing.T) {
	p := prog(t, "flaglock")
	sched, out, err := game(t, p, "a b\nab\na\nb\n")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out.String(),
		"You are the scheduler of program flaglock (lab.yaml:3:1): 2 threads, a = A, b = B.",
		"step 1",
		"  shared       flag = false   count = 0",
		"  a  A  next   7: while flag",
		"  b  B  next   7: while flag",
		"a or b > a b",
		"  a A: 7: while flag",
		"  b B: 7: while flag",
		"a or b > ab",
		"  a A: 8: atomic flag = true   (flag: false → true)",
		"  b B: 8: atomic flag = true",
		"step 5",
		"  shared       flag = true   count = 0",
		"a or b > a",
		"  a A: 9: enter critical",
		"step 6",
		"  inside       critical: A",
		"a or b > b",
		"  b B: 9: enter critical",
		"You broke it! mutual_exclusion at lab.yaml:9:9: B entered critical while A is inside (capacity 1)",
	)
	want := schedule.Schedule{Program: "flaglock", Hash: p.TextHash(), Steps: []int{0, 1, 0, 1, 0, 1}}.String()
	if sched != want {
		t.Errorf("schedule %s, want %s", sched, want)
	}
	wantLines(t, out.String(), "Replay it on real threads: pmrun run lab.yaml --replay "+want)
}

// TestBlockedAndDeadlock: a blocked thread is refused with what it waits
// for, the rest of its line ignored; the game goes on and the deadlock
// wins, explained.
func TestBlockedAndDeadlock(t *testing.T) {
	p := prog(t, "opposite")
	sched, out, err := game(t, p, "a2 b a\nz\nu b\n")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out.String(),
		"  b: B cannot go: it waits for mutex m2 (19: lock m2)",
		"  mutexes      m1 held by A   m2 held by A",
		"  b  B  blocked 19: lock m2   (waits for mutex m2)",
		`  "z": no such thread; the threads are a or b`,
		"  undone: back to step 2",
		"  b B: 19: lock m2",
		"You broke it! deadlock at lab.yaml:15:1: deadlock: 2 of 2 threads blocked",
		"A waits for mutex m2 at 18:19 (lock m2), held by B",
	)
	if !strings.HasSuffix(sched, ":ab") {
		t.Errorf("schedule %s: want A, then B (the rest of the first line ignored, A's second step undone)", sched)
	}
	if strings.Contains(out.String(), "  a A: 18: unlock") {
		t.Errorf("the a after the refused b was played:\n%s", out)
	}
}

// TestUndoAndSurvive: undo goes back a step; a run that ends without
// breaking the program waits for an undo; the end of input stops the game
// where it is.
func TestUndoAndSurvive(t *testing.T) {
	p := prog(t, "multiplex")
	sched, out, err := game(t, p, "a b -\nu\nc6 a6 b6\nu3\n")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out.String(),
		"  semaphores   multiplex = 2",
		"  undone: back to step 2",
		"  undone: back to step 1",
		"  semaphores   multiplex = 2",
		"  c T2: 29: wait multiplex",
		"Every thread finished and every check held. - or u undoes a step to try another order; . or q stops.",
		"u or q > u3",
		"  undone: back to step 16",
		"End of input: the game stops here.",
		"Stopped after 15 steps, before the run ended.",
	)
	if !strings.HasSuffix(sched, ":c6a6b3") {
		t.Errorf("schedule %s: want T2's 6 steps, T0's 6 and T1's first 3", sched)
	}
}

// TestQuitAndKeys: q stops at once; mistakes in a line are named and the
// line is not played.
func TestQuitAndKeys(t *testing.T) {
	p := prog(t, "multiplex")
	sched, out, err := game(t, p, "a!\na0\nq3\na\n.\nb\n")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out.String(),
		`  "!": not a key; the threads are a to c, - or u undoes, . or q stops, ? helps`,
		`  "a0": a count is a number from 1 to 100000`,
		`  "q3": only a thread or an undo takes a count`,
		"  a T0: 29: wait multiplex",
		"Stopped after 1 step, before the run ended.",
	)
	if !strings.HasSuffix(sched, ":a") {
		t.Errorf("schedule %s: want one step of T0", sched)
	}
}

// TestCancel: a game waiting for the player ends when its context does,
// with the cause, and leaves no thread behind.
func TestCancel(t *testing.T) {
	p := prog(t, "flaglock")
	ctx, cancel := context.WithCancelCause(t.Context())
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := playGame(t, ctx, p, NewInput(r), &out, Options{})
		done <- err
	}()
	w.WriteString("a\n")
	stop := errors.New("stop")
	cancel(stop)
	if err := <-done; !errors.Is(err, stop) {
		t.Errorf("Play ended with %v, want the context's cause", err)
	}
}

// TestWarnsBeforeTheTimeLimit: a player who thinks too long is told,
// once, while the game waits, how long is left before the run's time
// limit stops it, and the prompt is written again after the warning.
func TestWarnsBeforeTheTimeLimit(t *testing.T) {
	p := prog(t, "flaglock")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	var out bytes.Buffer
	if _, err := playGame(t, ctx, p, NewInput(r), &out, Options{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Play ended with %v, want the deadline", err)
	}
	text := out.String()
	if n := strings.Count(text, "left: the run's time limit stops the game at "); n != 1 {
		t.Fatalf("the warning was written %d times:\n%s", n, text)
	}
	if !regexp.MustCompile(`\n  [0-9]+ms left: |\n  1s left: `).MatchString(text) {
		t.Errorf("the warning does not say about 1s left (half of a 2s limit):\n%s", text)
	}
	_, after, _ := strings.Cut(text, " left: ")
	if !strings.HasSuffix(strings.TrimRight(after, "\n"), "> ") {
		t.Errorf("the prompt is not written again after the warning:\n%s", text)
	}
}

// TestParseKeys: the keys of a line.
func TestParseKeys(t *testing.T) {
	for _, c := range []struct {
		line string
		n    int
		want string // cmd:thread×count, or the error
	}{
		{"ab2, c", 3, "s0×1 s1×2 s2×1"},
		{"u2 - . ? h q", 3, "u×2 u×1 q×1 ?×1 ?×1 q×1"},
		{"u", 21, "s20×1"}, // with 21 threads, u is a thread
		{"B", 28, "s27×1"},
		{"_53_2", 54, "s53×2"},
		{"d", 3, `"d": no such thread; the threads are a to c`},
		{"a99999999999", 3, `"a99999999999": a count is a number from 1 to 100000`},
		{"_5", 9, `"_5": a thread past Z is written _N_, such as _52_`},
		{"", 2, ""},
	} {
		keys, err := parseKeys(c.line, c.n)
		var got []string
		for _, k := range keys {
			s := map[command]string{cmdUndo: "u", cmdQuit: "q", cmdHelp: "?"}[k.cmd]
			if k.cmd == cmdStep {
				s = fmt.Sprintf("s%d", k.thread)
			}
			got = append(got, fmt.Sprintf("%s×%d", s, k.count))
		}
		g := strings.Join(got, " ")
		if err != nil {
			g = err.Error()
		}
		if g != c.want {
			t.Errorf("parseKeys(%q, %d) = %s, want %s", c.line, c.n, g, c.want)
		}
	}
}

// TestTerminalTextEscaped: what a program's text and its log write reach
// the terminal as escapes (\x1b), never as sequences it would act on, as
// everywhere else pmrun shows them; and the player's own keys, echoed.
func TestTerminalTextEscaped(t *testing.T) {
	p := prog(t, "hostile")
	_, out, err := game(t, p, "a\x1b[2J\na\na\n")
	if err != nil {
		t.Fatal(err)
	}
	for _, raw := range []string{"\x1b", "\a", "\u202e"} {
		if strings.Contains(out.String(), raw) {
			t.Errorf("the game wrote %q raw:\n%s", raw, out)
		}
	}
	for _, want := range []string{`log: \x1b]0;pwned\x07\x1b[2Jx is 0`, `'\x1b[31m\u202e' == 'y'`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the game lacks %q:\n%s", want, out)
		}
	}
}

// TestUndoAtStart: an undo with nothing to undo says so, and only that;
// one that runs out part way says where it stopped.
func TestUndoAtStart(t *testing.T) {
	p := prog(t, "flaglock")
	_, out, err := game(t, p, "u\na u3\n")
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out.String(),
		"a or b > u",
		"  nothing to undo",
		"step 1",
		"a or b > a u3",
		"  a A: 7: while flag",
		"  undone: back to step 1 (nothing more to undo)",
	)
	if n := strings.Count(out.String(), "undone"); n != 1 {
		t.Errorf("%d lines say undone, want 1:\n%s", n, out)
	}
}

// TestCountShowsFirstAndLast: a key repeated by a count shows its first
// steps, a line for those between, and its last, however large the count
// (a line a step printed 126 MB for a game of three million steps).
func TestCountShowsFirstAndLast(t *testing.T) {
	const count = 1000
	_, out, err := game(t, prog(t, "counter"), fmt.Sprintf("a%d\nq\n", count))
	if err != nil {
		t.Fatal(err)
	}
	shown := strings.Count(out.String(), "\n  a A: ")
	if shown != maxShownRepeats+1 {
		t.Errorf("%d steps of a count of %d shown; want the first %d and the last:\n%s", shown, count, maxShownRepeats, out)
	}
	wantLines(t, out.String(),
		fmt.Sprintf("  … A took %d more steps, not shown (a count shows its first %d steps and its last)", count-maxShownRepeats-1, maxShownRepeats),
		"step 1001")
	if !strings.Contains(out.String(), "atomic x = x + 1   (x: 999 → 1000)\n\nstep 1001\n") {
		t.Errorf("the count's last step is not shown before the next choice:\n%s", out)
	}
}
