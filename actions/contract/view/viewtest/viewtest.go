// Package viewtest drives headless Chromium (through chromedp) for the
// tests of pmrun's pages: the HTML report's drawing of runs and pmrun
// play's game. It is for tests only.
//
// A test that needs a browser calls [New]: it skips when no Chromium is
// installed, but fails under CI=true, where .ci/run installs Debian's
// chromium. One browser runs at a time, across test binaries (a lock
// file in the temporary folder). PMRUN_CHROMIUM names the browser to use; PMRUN_SCREENSHOTS a
// folder that keeps the screenshots (otherwise they go to the test's
// temporary folder, and are removed with it).
package viewtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/sys/unix"
)

// Browser is one tab of a headless Chromium that a test drives.
type Browser struct {
	t   testing.TB
	ctx context.Context
	dir string // where screenshots go

	mu     sync.Mutex
	errors []string // exceptions and console errors of the page
}

// Timeout bounds each action a test asks of the browser.
const Timeout = 60 * time.Second

// lockFile is the file whose lock lets one browser run at a time, across
// the test binaries go test runs side by side: several Chromiums at once
// on a small machine take minutes to start.
var lockFile = filepath.Join(os.TempDir(), "pmrun-viewtest.lock")

// oneAtATime waits for the lock and returns what releases it.
func oneAtATime(t testing.TB) func() {
	t.Helper()
	f, err := os.OpenFile(lockFile, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		t.Fatalf("viewtest: %v", err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
		f.Close()
		t.Fatalf("viewtest: locking %s: %v", lockFile, err)
	}
	return func() { f.Close() } // closing the file releases the lock
}

// New starts a headless Chromium for t, in a fresh profile, and ends it
// when t ends; the page's uncaught exceptions and console errors fail t.
func New(t testing.TB) *Browser {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no Chromium to test the pages with: .ci/run installs Debian's chromium")
		}
		t.Skip("no Chromium (chromium, chromium-browser or google-chrome, or PMRUN_CHROMIUM): the browser tests are skipped")
	}
	t.Cleanup(oneAtATime(t)) // released last: after the browser has ended
	ctx, err := start(t, path)
	for attempt := 2; err != nil && attempt <= startAttempts; attempt++ {
		// Chromium now and then exits at once, without a word, on a
		// loaded machine; a second start in a fresh profile succeeds.
		t.Logf("starting %s: %v; trying again", path, err)
		time.Sleep(time.Second)
		ctx, err = start(t, path)
	}
	if err != nil {
		t.Fatalf("starting %s (%d attempts): %v", path, startAttempts, err)
	}
	b := &Browser{t: t, ctx: ctx, dir: os.Getenv("PMRUN_SCREENSHOTS")}
	if b.dir == "" {
		b.dir = t.TempDir()
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
	t.Cleanup(b.checkConsole)
	return b
}

// startAttempts is how many times New tries to start the browser.
const startAttempts = 3

// start starts a headless Chromium in a fresh profile and returns its
// tab, which ends when t ends.
func start(t testing.TB, path string) (context.Context, error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1300, 1000),
		// chromedp gives the browser 20 s to print its DevTools address;
		// on a loaded machine Chromium takes longer to start.
		chromedp.WSURLReadTimeout(3*time.Minute),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// The first run starts the browser; it must have no deadline.
	if err := chromedp.Do(ctx); err != nil {
		cancelTab()
		cancelAlloc()
		return nil, err
	}
	return ctx, nil
}

// chromium finds the browser: PMRUN_CHROMIUM, else the usual names.
func chromium() string {
	if p := os.Getenv("PMRUN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

func (b *Browser) checkConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errors {
		b.t.Errorf("the page's console: %s", e)
	}
}

// Errors are the exceptions and console errors seen so far.
func (b *Browser) Errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.errors...)
}

// ForgetErrors drops the console errors seen so far, which a test
// expected (a page whose server has gone).
func (b *Browser) ForgetErrors() {
	b.mu.Lock()
	b.errors = nil
	b.mu.Unlock()
}

// Do runs the actions in the tab, failing the test on an error.
func (b *Browser) Do(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v (console: %s)", err, strings.Join(b.Errors(), "; "))
	}
}

// Open loads url and waits until sel is visible.
func (b *Browser) Open(url, sel string) {
	b.t.Helper()
	b.Do(chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// Eval evaluates a JavaScript expression in the page and decodes its
// JSON value into out.
func (b *Browser) Eval(expr string, out any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[json.RawMessage]("JSON.stringify(("+expr+"))"))
	if err != nil {
		b.t.Fatalf("browser: evaluating %s: %v", expr, err)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		b.t.Fatalf("browser: %s gave %s", expr, raw)
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		b.t.Fatalf("browser: %s gave %s: %v", expr, s, err)
	}
}

// Text is the text of the first element sel matches ("" if none).
func (b *Browser) Text(sel string) string {
	b.t.Helper()
	var s string
	b.Eval(fmt.Sprintf(`(document.querySelector(%q) || {textContent: ""}).textContent`, sel), &s)
	return s
}

// Count is how many elements sel matches.
func (b *Browser) Count(sel string) int {
	b.t.Helper()
	var n int
	b.Eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel), &n)
	return n
}

// Wait waits until the JavaScript condition holds, failing the test after
// [Timeout].
func (b *Browser) Wait(cond string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(20*time.Millisecond))); err != nil {
		b.t.Fatalf("browser: waiting for %s: %v (console: %s)", cond, err, strings.Join(b.Errors(), "; "))
	}
}

// Key presses a key in the page, as a person would.
func (b *Browser) Key(key string) {
	b.t.Helper()
	b.Do(chromedp.KeyEvent(key))
}

// Click clicks the first element sel matches.
func (b *Browser) Click(sel string) {
	b.t.Helper()
	b.Do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// Shot saves a screenshot of the whole page as name.png and returns its
// path.
func (b *Browser) Shot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, Timeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	path := filepath.Join(b.dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot %s", path)
	return path
}
