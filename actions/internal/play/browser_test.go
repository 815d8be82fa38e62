package play_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pmrun/pmrun/actions/contract/view/viewtest"
)

// pageState is what the page shows of the game, read from its elements.
const pageState = `({
	status: document.getElementById("status").textContent,
	message: document.getElementById("message").textContent,
	threads: Array.from(document.querySelectorAll(".thread")).map(c => ({
		cls: c.className, what: c.querySelector(".what").textContent,
		next: (c.querySelector(".line.next .ln") || {}).textContent || "",
		lines: c.querySelectorAll(".line").length})),
	rows: document.querySelectorAll("#table tbody tr").length - 1,
	shared: Array.from(document.querySelectorAll("#shared .value")).map(v => v.textContent),
	sched: document.getElementById("sched").textContent,
	replay: (document.querySelector("#won .pv-cmd") || {}).textContent || "",
	won: !document.getElementById("won").hidden
})`

type shown struct {
	Status, Message string
	Threads         []struct {
		Cls, What, Next string
		Lines           int
	}
	Rows   int
	Shared []string
	Sched  string
	Replay string
	Won    bool
}

func (b *game) state() shown {
	b.t.Helper()
	var s shown
	b.Eval(pageState, &s)
	return s
}

type game struct {
	*viewtest.Browser
	t *testing.T
}

// waitSteps waits for the page to show n steps in its table.
func (b *game) waitSteps(n int) shown {
	b.t.Helper()
	b.Wait(`document.getElementById("won").hidden === false || document.querySelectorAll("#table tbody tr").length - 1 === ` + strconv.Itoa(n))
	return b.state()
}

// TestGameInBrowser plays testdata/lab.yaml in headless Chromium as a
// student would: keys and clicks step threads (each step on its own OS
// thread), undo takes one back, a blocked thread is greyed with what it
// waits for and refuses to go, and breaking the flag lock wins, with the
// run as a table and the command that replays it. An opened schedule
// steps forward and back; the quiz hides the values, and how the run
// ends, until checked. The page's search finds abba's deadlock and opens
// it; stepped through, it wins with the wait-for graph; back and restart
// leave it. A program with nothing shared and no region plays too.
func TestGameInBrowser(t *testing.T) {
	t.Parallel()
	b := &game{viewtest.New(t), t}
	s := serve(t, options(t, "flag_lock"))
	b.Open(s.url, ".thread")

	st := b.state()
	if len(st.Threads) != 2 || st.Threads[0].Next != "9" || st.Threads[1].Next != "9" || st.Threads[0].Lines != 7 ||
		!strings.Contains(st.Threads[0].Cls, "ready") || !strings.Contains(st.Status, "Step 1") {
		t.Fatalf("the page at the start: %+v", st)
	}
	b.Shot("play-start")

	b.Key("a") // A: while flag
	st = b.waitSteps(1)
	b.Click(`.thread[data-key="b"]`) // B: while flag
	st = b.waitSteps(2)
	b.Key("a") // A: flag = true
	st = b.waitSteps(3)
	if st.Threads[0].Next != "11" || !strings.Contains(strings.Join(st.Shared, " "), "flagtrue") {
		t.Errorf("after a b a: %+v", st)
	}
	b.Key("-") // undo
	st = b.waitSteps(2)
	if st.Threads[0].Next != "10" || !strings.Contains(strings.Join(st.Shared, " "), "flagfalse") {
		t.Errorf("after the undo: %+v", st)
	}
	for i, k := range []string{"a", "b", "a", "b"} {
		b.Key(k)
		st = b.waitSteps(3 + i)
	}
	if !st.Won || !strings.HasPrefix(st.Status, "You broke it! mutual_exclusion: B entered critical while A is inside") {
		t.Fatalf("after a b a b a b: %+v", st)
	}
	wantReplay := "pmrun run " + labFile + " --replay " + st.Sched
	if st.Replay != wantReplay || !strings.HasSuffix(st.Sched, ":ababab") {
		t.Errorf("replay %q, schedule %q; want %q", st.Replay, st.Sched, wantReplay)
	}
	if n := b.Count("#won .pv-table tr.pv-failed"); n != 1 {
		t.Errorf("%d failed rows in the table", n)
	}
	b.Shot("play-won")

	// A blocked thread: under the semaphore, B waits while A is inside.
	b.choose("#program", "mutex")
	b.Wait(`document.title === "pmrun play: mutex"`)
	b.Key("a") // A: wait m
	b.waitSteps(1)
	b.Key("a") // A: enter critical
	st = b.waitSteps(2)
	if !strings.Contains(st.Threads[1].Cls, "blocked") || st.Threads[1].What != "blocked: waits for semaphore m" ||
		!strings.Contains(strings.Join(st.Shared, " "), "criticalA") {
		t.Errorf("B is not shown blocked: %+v", st)
	}
	b.Shot("play-blocked")
	b.Click(`.thread[data-key="b"]`)
	b.Wait(`document.getElementById("message").textContent !== ""`)
	if st = b.state(); st.Message != "B cannot go: it waits for semaphore m (line 22: wait m)" || st.Rows != 2 {
		t.Errorf("a click on blocked B: %+v", st)
	}

	// A schedule opened from a replay line: forward and back.
	b.choose("#program", "flag_lock")
	b.Wait(`document.title === "pmrun play: flag_lock"`)
	b.Click("#openbtn")
	b.Do(typeInto("#schedule", wantReplay))
	b.Click(`#open button[type="submit"]`)
	b.Wait(`!document.getElementById("plan").hidden`)
	b.Key(kb.ArrowRight)
	b.waitSteps(1)
	b.Key(kb.ArrowRight)
	b.waitSteps(2)
	b.Key(kb.ArrowLeft)
	st = b.waitSteps(1)
	if b.Text("#planat") != "1" || b.Text("#planlen") != "6" {
		t.Errorf("the plan's bar says step %s of %s", b.Text("#planat"), b.Text("#planlen"))
	}
	for n := 2; n <= 6; n++ {
		b.Click("#fwd")
		st = b.waitSteps(n)
	}
	if !st.Won || st.Replay != wantReplay {
		t.Errorf("the schedule replayed: %+v", st)
	}
	b.Shot("play-schedule")

	// The quiz: the values hidden, then checked.
	b.Click("#quizbtn")
	b.Wait(`document.querySelector("#quizrun .pv-quiz") !== null`)
	var hidden []string
	b.Eval(`Array.from(document.querySelectorAll("#quizrun tbody tr:not(.pv-start) td.pv-val")).map(td => td.textContent)`, &hidden)
	for _, v := range hidden {
		if v != "?" {
			t.Fatalf("the quiz shows a value: %q", hidden)
		}
	}
	if n := b.visible("#quizrun .pv-x"); n != 0 || b.redRule() {
		t.Errorf("the quiz shows how the run ends: %d ✗ marks, the rule row red: %v", n, b.redRule())
	}
	b.Shot("play-quiz")
	b.Do(typeInto(`#quizrun input[name="flag"]`, "true"), typeInto(`#quizrun input[name="count"]`, "2"))
	b.Click("#quizrun .pv-check")
	b.Wait(`document.querySelector("#quizrun .pv-quiz-result").textContent !== ""`)
	if got := b.Text("#quizrun .pv-quiz-result"); !strings.Contains(got, "of 2 right") || b.Count(`#quizrun td.pv-val`) == 0 || b.Text(`#quizrun td.pv-val`) == "?" {
		t.Errorf("after the check: %q", got)
	}
	if n := b.visible("#quizrun .pv-x"); n != 1 || !b.redRule() {
		t.Errorf("the checked quiz hides how the run ends: %d ✗ marks, the rule row red: %v", n, b.redRule())
	}
	b.Shot("play-quiz-checked")

	// A deadlock the page's search finds: its schedule opens, steps
	// forward to the win, which draws the wait-for graph; back and
	// restart leave it.
	b.Click("#closequiz")
	b.choose("#program", "abba")
	b.Wait(`document.title === "pmrun play: abba"`)
	b.Click("#search")
	b.Wait(`!document.getElementById("plan").hidden`)
	if got := b.Text("#message"); !strings.Contains(got, "found deadlock") {
		t.Errorf("after the search the page says %q", got)
	}
	n, _ := strconv.Atoi(b.Text("#planlen"))
	if n < 2 {
		t.Fatalf("the search opened a schedule of %d steps", n)
	}
	for i := 1; i <= n; i++ {
		b.Key(kb.ArrowRight)
		st = b.waitSteps(i)
	}
	if !st.Won || !strings.HasPrefix(st.Status, "You broke it! deadlock") {
		t.Fatalf("after the found schedule: %+v", st)
	}
	for _, th := range st.Threads {
		if !strings.Contains(th.Cls, "blocked") || !strings.HasPrefix(th.What, "blocked: waits for mutex ") {
			t.Errorf("a thread of the deadlock: %+v", th)
		}
	}
	if nodes, cycle := b.Count("#won .pv-graph .pv-node"), b.Count("#won .pv-graph path.pv-edge.pv-cycle"); nodes != 2 || cycle != 2 {
		t.Errorf("the wait-for graph: %d nodes, %d edges of the cycle; want 2 and 2", nodes, cycle)
	}
	if got := b.Text("#won .pv-explain"); !strings.Contains(got, "cycle: ") {
		t.Errorf("the explanation: %q", got)
	}
	b.Shot("play-deadlock")
	// Its quiz hides the graph, which names the mutexes' holders.
	b.Click("#quizbtn")
	b.Wait(`document.querySelector("#quizrun .pv-quiz") !== null`)
	if n := b.visible("#quizrun .pv-graph"); n != 0 {
		t.Errorf("the quiz shows the wait-for graph")
	}
	b.Click("#quizrun .pv-check")
	b.Wait(`document.querySelector("#quizrun .pv-quiz-result").textContent !== ""`)
	if n := b.visible("#quizrun .pv-graph"); n != 1 {
		t.Errorf("the checked quiz shows %d graphs", n)
	}
	b.Click("#closequiz")
	b.Key(kb.ArrowLeft)
	b.Wait(`document.getElementById("won").hidden && document.querySelectorAll("#table tbody tr").length - 1 === ` + strconv.Itoa(n-1))
	if st = b.state(); st.Won || b.Count("#won .pv-graph") != 0 {
		t.Errorf("a step back from the deadlock: %+v", st)
	}
	b.Click("#restart")
	st = b.waitSteps(0)
	if st.Won || b.Text("#planat") != "0" || b.Text("#planlen") != strconv.Itoa(n) {
		t.Errorf("after restart: %+v, the plan at step %s of %s", st, b.Text("#planat"), b.Text("#planlen"))
	}

	// A program with nothing shared and no region plays to its end.
	b.choose("#program", "bare")
	b.Wait(`document.title === "pmrun play: bare" && document.querySelectorAll(".thread").length === 2`)
	b.Key("a")
	b.waitSteps(1)
	b.Key("b")
	b.Wait(`document.getElementById("status").className.includes("survived")`)
	if st = b.state(); len(st.Shared) != 0 || len(st.Threads) != 2 || st.Threads[1].What != "finished" {
		t.Errorf("the bare program: %+v", st)
	}
}

// TestPageClosed: the game ends when its page has been closed for Idle,
// and the page that is still open when the game ends says so.
func TestPageClosed(t *testing.T) {
	t.Parallel()
	b := &game{viewtest.New(t), t} // first: the time limit starts with the server
	o := options(t, "mutex")
	o.Idle = time.Second
	o.Limit = 59 * time.Second // under a minute: the page warns at once
	s := serve(t, o)
	b.Open(s.url, ".thread")
	b.Wait(`!document.getElementById("timer").hidden && document.getElementById("timer").className.includes("warn")`)
	if got := b.Text("#timer"); !strings.Contains(got, "the game ends when the time limit is reached") {
		t.Errorf("the timer says %q", got)
	}
	b.Open("about:blank", "body")
	if err := s.ended(t, 20*time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}

	// A page open as the server ends is told.
	s2 := serve(t, options(t, "mutex"))
	b.Open(s2.url, ".thread")
	s2.stop()
	b.Wait(`!document.getElementById("ended").hidden`)
	b.ForgetErrors() // the page's event stream loses its server
}

// visible counts the elements sel matches that are drawn.
func (b *game) visible(sel string) int {
	b.t.Helper()
	var n int
	b.Eval(fmt.Sprintf(`Array.from(document.querySelectorAll(%q)).filter(e => e.getClientRects().length > 0).length`, sel), &n)
	return n
}

// redRule says whether the quiz's rule row is drawn red, as a broken
// rule is.
func (b *game) redRule() bool {
	b.t.Helper()
	var red bool
	b.Eval(`(() => { const td = document.querySelector("#quizrun .pv-rule-row td.pv-rule"); return !!td && getComputedStyle(td).backgroundColor === "rgb(192, 38, 45)" })()`, &red)
	return red
}

// choose picks value in the select element sel and tells the page, as a
// person's choice would.
func (b *game) choose(sel, value string) {
	b.t.Helper()
	var ok bool
	b.Eval(fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event("change")); return true })()`, sel, value), &ok)
}

// typeInto types text into the input sel.
func typeInto(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.CSS(sel), text)
}
