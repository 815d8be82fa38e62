package play_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/play"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

const labFile = "testdata/lab.yaml"

// options are the options of a game of testdata/lab.yaml's program name.
func options(t *testing.T, name string) play.Options {
	t.Helper()
	src, err := os.ReadFile(labFile)
	if err != nil {
		t.Fatal(err)
	}
	return play.Options{Set: programtest.File(t, labFile), File: labFile, Source: src, Program: name}
}

// server is a game served for a test.
type server struct {
	url  string
	done chan error
	stop context.CancelFunc
}

// serve starts o's game and returns its address; the test's end stops it
// and checks that it ended.
func serve(t *testing.T, o play.Options) *server {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	o.Ready = func(u string) { urls <- u }
	s := &server{done: make(chan error, 1), stop: stop}
	go func() { s.done <- play.Serve(ctx, o) }()
	select {
	case s.url = <-urls:
	case err := <-s.done:
		t.Fatalf("Serve: %v", err)
	}
	t.Cleanup(func() {
		stop()
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			t.Error("the server did not end")
		}
	})
	return s
}

// ended waits for the server's end and returns its error.
func (s *server) ended(t *testing.T, within time.Duration) error {
	t.Helper()
	select {
	case err := <-s.done:
		s.done <- err // for the cleanup
		return err
	case <-time.After(within):
		t.Fatalf("the server did not end within %v", within)
		return nil
	}
}

func request(t *testing.T, method, url string, header map[string]string, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestServerRefuses: the game answers only on 127.0.0.1, under its token,
// with its own Host header; a change comes only as JSON from its own
// origin; its pages say what they may load.
func TestServerRefuses(t *testing.T) {
	t.Parallel()
	s := serve(t, options(t, "flag_lock"))
	if !strings.HasPrefix(s.url, "http://127.0.0.1:") || len(strings.Split(s.url, "/")[3]) != 32 {
		t.Fatalf("address %s: want 127.0.0.1 and a token of 32 hex digits", s.url)
	}
	root := s.url[:strings.LastIndex(strings.TrimSuffix(s.url, "/"), "/")+1]
	json := map[string]string{"Content-Type": "application/json"}
	for _, tc := range []struct {
		name, method, url string
		header            map[string]string
		body              string
		code              int
	}{
		{"the page", "GET", s.url, nil, "", 200},
		{"the state", "GET", s.url + "api/state", nil, "", 200},
		{"a step", "POST", s.url + "api/step", json, `{"thread": 0}`, 200},
		{"no token", "GET", root, nil, "", 404},
		{"another token", "GET", root + "0123456789abcdef0123456789abcdef/", nil, "", 404},
		{"a token's prefix", "GET", s.url[:len(s.url)-2] + "/", nil, "", 404},
		{"another Host", "GET", s.url, map[string]string{"Host": "evil.example"}, "", 421},
		{"another Host with the port", "GET", s.url, map[string]string{"Host": "evil.example:" + strings.Split(strings.Split(s.url, ":")[2], "/")[0]}, "", 421},
		{"a form's post", "POST", s.url + "api/step", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "thread=0", 403},
		{"another origin", "POST", s.url + "api/step", map[string]string{"Content-Type": "application/json", "Origin": "http://evil.example"}, `{"thread": 0}`, 403},
		{"another site", "POST", s.url + "api/undo", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, `{}`, 403},
		{"a GET that changes", "GET", s.url + "api/step", nil, "", 403},
		{"a body too large", "POST", s.url + "api/open", json, `{"schedule": "` + strings.Repeat("a", 100<<10) + `"}`, 400},
		{"an unknown call", "POST", s.url + "api/format", json, `{}`, 404},
	} {
		code, body, header := request(t, tc.method, tc.url, tc.header, tc.body)
		if code != tc.code {
			t.Errorf("%s: %d %q, want %d", tc.name, code, body, tc.code)
		}
		if code == 200 && !strings.Contains(header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: CSP %q", tc.name, header.Get("Content-Security-Policy"))
		}
	}
}

// TestCtrlC: the server ends with its context, its threads with it, and
// Serve says nothing went wrong.
func TestCtrlC(t *testing.T) {
	t.Parallel()
	s := serve(t, options(t, "mutex"))
	request(t, "POST", s.url+"api/step", map[string]string{"Content-Type": "application/json"}, `{"thread": 0}`)
	s.stop()
	if err := s.ended(t, 10*time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := http.Get(s.url); err == nil {
		t.Error("the server still answers")
	}
}

// TestNoPage: a game no page opens ends after FirstIdle, saying so.
func TestNoPage(t *testing.T) {
	t.Parallel()
	o := options(t, "mutex")
	o.FirstIdle = time.Second
	var said []string
	o.Say = func(format string, args ...any) { said = append(said, format) }
	s := serve(t, o)
	if err := s.ended(t, 20*time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}
	if len(said) != 1 || !strings.Contains(said[0], "No page opened") {
		t.Errorf("said %q", said)
	}
}

// TestTimeLimit: a game with a time limit ends with ErrTimeLimit.
func TestTimeLimit(t *testing.T) {
	t.Parallel()
	o := options(t, "mutex")
	o.Limit = time.Second
	s := serve(t, o)
	if err := s.ended(t, 20*time.Second); !errors.Is(err, play.ErrTimeLimit) {
		t.Errorf("Serve: %v, want the time limit", err)
	}
}

// TestUnknownProgram: a game of a program that is not there is an error.
func TestUnknownProgram(t *testing.T) {
	t.Parallel()
	o := options(t, "nope")
	o.Ready = func(string) { t.Error("served") }
	if err := play.Serve(context.Background(), o); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("Serve: %v", err)
	}
}

// TestOpenAtStart: Options.Open opens a schedule (or a replay command
// holding one) at the start, of its own program; one that does not fit
// the program's text is an error before anything is served.
func TestOpenAtStart(t *testing.T) {
	t.Parallel()
	o := options(t, "mutex")
	o.Open = "pmrun run testdata/lab.yaml --replay pmrun1:flag_lock:83de8b808d5913ce:ababab"
	s := serve(t, o)
	code, body, _ := request(t, "GET", s.url+"api/state", nil, "")
	if code != 200 || !strings.Contains(body, `"program":"flag_lock"`) || !strings.Contains(body, `"plan":{"schedule":"pmrun1:flag_lock:83de8b808d5913ce:ababab"`) {
		t.Errorf("the state at the start: %d %s", code, body)
	}

	o.Open = "pmrun1:flag_lock:0123456789abcdef:ab"
	o.Ready = func(string) { t.Error("served") }
	if err := play.Serve(context.Background(), o); err == nil || !strings.Contains(err.Error(), "play: the schedule to open: ") {
		t.Errorf("Serve: %v", err)
	}
}

// TestCtrlCWithSpareConnection: a connection a browser opened ahead,
// which never sends a request, does not turn Ctrl-C into an error.
func TestCtrlCWithSpareConnection(t *testing.T) {
	t.Parallel()
	s := serve(t, options(t, "mutex"))
	conn, err := net.Dial("tcp", strings.Split(s.url, "/")[2])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s.stop()
	if err := s.ended(t, 20*time.Second); err != nil {
		t.Errorf("Serve: %v", err)
	}
}
