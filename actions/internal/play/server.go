// Package play is pmrun play: the manual scheduler as a page in a browser.
// The person is the scheduler of one program of a scenario file: the
// threads side by side with their code, the next step of each
// highlighted, a blocked thread greyed with what it waits for, the shared
// values, semaphores, mutex holders and who is inside each region; a
// click on a thread (or its key) has it take its step, on its own OS
// thread (control.Game, as the terminal's manual scheduler). The player
// undoes, restarts, wins by breaking the program and gets the run as a
// table with the command that replays it; opens a schedule (a replay line,
// or the failure a search finds) and steps through it; or takes a quiz,
// as OSTEP's x86.py: a run's steps with the values hidden, to predict.
//
// The server listens on 127.0.0.1 only, on a free port, under a random
// token that is the first segment of every path; it refuses a Host header
// other than its own address (a page of another site that resolves its
// name to 127.0.0.1 cannot talk to it) and a request that changes the game
// from another origin. Its page, scripts and styles are embedded and load
// nothing from elsewhere.
//
// For a real program (a controlled or scripts step: a C program, shell
// scripts) pmrun has no model to step by hand: the page shows the run the
// step found or replayed instead ([Shown]), to step through, and says
// what it cannot do for such a program.
package play

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pmrun/pmrun/actions/contract/view"
	"github.com/pmrun/pmrun/actions/internal/program"
)

//go:embed page
var page embed.FS

// Options say what to play and how the server ends.
type Options struct {
	// Set is the scenario's programs, File its path and Source its text
	// (for each thread's code; nil writes the operations out).
	Set    *program.Set
	File   string
	Source []byte
	// Program is the program the game starts with.
	Program string
	// Open, if set, is a schedule (or a replay command holding one) the
	// game opens at the start, in place of Program, ready to be stepped
	// through.
	Open string
	// Rerun are the arguments of pmrun run that run the scenario as the
	// game's replay command should (the file, its --var values, a seed);
	// nil: the file alone.
	Rerun []string
	// Seed, if not 0, seeds the searches and the quizzes, which are
	// otherwise drawn at random.
	Seed uint64
	// MaxSteps ends a run that takes more steps (a spin); 0: the
	// program package's default.
	MaxSteps int
	// Idle ends the server when no page has been open for that long; 0:
	// 30 s. Before the first page opens, it waits FirstIdle (0: 10 min).
	Idle, FirstIdle time.Duration
	// Limit, if not 0, ends the game after that long; the page counts
	// down and warns in the last minute.
	Limit time.Duration
	// Ready is called with the page's address once the server listens.
	Ready func(url string)
	// Say, if set, is told what the server does as it ends.
	Say func(format string, args ...any)
	// Shown, if set, is a run of a real program to show in place of a
	// game (Set, Program and Open are then not used): the run a
	// controlled or scripts step of the file showed (see shown.go).
	Shown *Shown
}

// Errors Serve ends with when the game did not end the usual ways (the
// context, or the page closed a while).
var (
	ErrTimeLimit = errors.New("play: the time limit was reached")
	ErrNoPage    = errors.New("play: no page opened the game")
)

// server is the game's HTTP server.
type server struct {
	token string
	hosts map[string]bool // the Host headers it answers
	sess  *session        // the game; nil when the page shows a real program's run
	shown *Shown
	path  string    // the scenario file
	end   time.Time // the time limit; zero: none

	mu       sync.Mutex
	pages    int           // open event streams: pages showing the game
	lastSeen time.Time     // when the last page closed (or the server started)
	seen     bool          // a page has opened
	quit     chan struct{} // closed as the server ends: event streams end
}

// Serve plays the game until ctx ends, the page has been closed for
// o.Idle, or the time limit passes; it then ends the event streams,
// shuts the server down and ends the game's threads. The error is nil
// when ctx ended or the page was closed.
func Serve(ctx context.Context, o Options) error {
	if o.Idle <= 0 {
		o.Idle = 30 * time.Second
	}
	if o.FirstIdle <= 0 {
		o.FirstIdle = 10 * time.Minute
	}
	say := o.Say
	if say == nil {
		say = func(string, ...any) {}
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("play: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	var secret [16]byte
	rand.Read(secret[:])
	gameCtx, stopGame := context.WithCancel(context.WithoutCancel(ctx))
	defer stopGame()
	s := &server{
		token: hex.EncodeToString(secret[:]),
		hosts: map[string]bool{fmt.Sprintf("127.0.0.1:%d", port): true, fmt.Sprintf("localhost:%d", port): true},
		shown: o.Shown, path: o.File,
		quit: make(chan struct{}), lastSeen: time.Now(),
	}
	if o.Limit > 0 {
		s.end = time.Now().Add(o.Limit)
	}
	if s.shown == nil {
		s.sess = newSession(gameCtx, o)
		if err := s.sess.start(o.Program); err != nil {
			ln.Close()
			return fmt.Errorf("play: %w", err)
		}
	}
	if o.Open != "" && s.sess != nil {
		if err := s.sess.open(o.Open); err != nil {
			ln.Close()
			s.sess.close()
			return fmt.Errorf("play: the schedule to open: %w", err)
		}
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if o.Ready != nil {
		o.Ready(fmt.Sprintf("http://127.0.0.1:%d/%s/", port, s.token))
	}

	why := s.wait(ctx, served, o.Idle, o.FirstIdle)
	switch {
	case errors.Is(why, ErrTimeLimit):
		say("The time limit is reached: the game ends.")
	case errors.Is(why, ErrNoPage):
		say("No page opened the game in %v: it ends.", o.FirstIdle)
	case why == nil && ctx.Err() == nil:
		say("The page has been closed for %v: the game ends.", o.Idle)
	}
	close(s.quit)
	// Shutdown waits for open connections to be idle, and counts one a
	// browser opened ahead (no request yet) as busy for 5 s: past a short
	// wait the rest are closed, which is no error of the game's.
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	if srv.Shutdown(shutdown) != nil {
		srv.Close()
	}
	stopGame()
	if s.sess != nil {
		err = s.sess.close()
	}
	if serr := <-served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	if why != nil && !errors.Is(why, ErrNoPage) {
		err = errors.Join(why, err)
	}
	return err
}

// wait returns when the server should end: nil for ctx's end or the page
// closed for idle, ErrNoPage, ErrTimeLimit, or the server's own error.
func (s *server) wait(ctx context.Context, served chan error, idle, firstIdle time.Duration) error {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-served:
			served <- err
			return fmt.Errorf("play: %w", err)
		case now := <-tick.C:
			if !s.end.IsZero() && now.After(s.end) {
				return ErrTimeLimit
			}
			s.mu.Lock()
			pages, seen, last := s.pages, s.seen, s.lastSeen
			s.mu.Unlock()
			switch {
			case pages > 0:
			case !seen && now.Sub(last) > firstIdle:
				return ErrNoPage
			case seen && now.Sub(last) > idle:
				return nil
			}
		}
	}
}

// ServeHTTP checks every request (its Host, its token, for a change its
// origin), then serves the page, its files and the game's calls.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.hosts[r.Host] {
		http.Error(w, "pmrun play answers only at its own address (127.0.0.1): this Host header is refused", http.StatusMisdirectedRequest)
		return
	}
	rest, ok := s.under(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	if rest == "" && r.URL.Path[len(r.URL.Path)-1] != '/' {
		http.Redirect(w, r, r.URL.Path+"/", http.StatusFound)
		return
	}
	switch {
	case (rest == "" || rest == "index.html") && s.shown != nil:
		s.file(w, r, "page/shown.html", "text/html; charset=utf-8")
	case rest == "shown.js":
		s.file(w, r, "page/shown.js", "text/javascript; charset=utf-8")
	case rest == "" || rest == "index.html":
		s.file(w, r, "page/index.html", "text/html; charset=utf-8")
	case rest == "play.js":
		s.file(w, r, "page/play.js", "text/javascript; charset=utf-8")
	case rest == "play.css":
		s.file(w, r, "page/play.css", "text/css; charset=utf-8")
	case rest == "icon.svg":
		s.file(w, r, "page/icon.svg", "image/svg+xml")
	case rest == "view.js":
		s.text(w, r, view.Script, "text/javascript; charset=utf-8")
	case rest == "view.css":
		s.text(w, r, view.Style, "text/css; charset=utf-8")
	case rest == "api/events":
		s.events(w, r)
	case strings.HasPrefix(rest, "api/"):
		s.call(w, r, strings.TrimPrefix(rest, "api/"))
	default:
		http.NotFound(w, r)
	}
}

// under checks a path's token and returns what follows it.
func (s *server) under(path string) (string, bool) {
	path = strings.TrimPrefix(path, "/")
	tok, rest, _ := strings.Cut(path, "/")
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.token)) != 1 {
		return "", false
	}
	return rest, true
}

func (s *server) file(w http.ResponseWriter, r *http.Request, name, kind string) {
	b, err := page.ReadFile(name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	s.text(w, r, string(b), kind)
}

func (s *server) text(w http.ResponseWriter, r *http.Request, body, kind string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "GET only", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", kind)
	io.WriteString(w, body)
}

// events is the page's event stream: while it is open the page is open.
// It says how long is left when there is a time limit, and "end" as the
// server ends.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok || r.Method != http.MethodGet {
		http.Error(w, "an event stream, GET only", http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.pages++
	s.seen = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.pages--
		s.lastSeen = time.Now()
		s.mu.Unlock()
	}()
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(event, data string) bool {
		_, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, data)
		flusher.Flush()
		return err == nil
	}
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	send("hello", s.remaining())
	for {
		select {
		case <-r.Context().Done():
			return
		case <-s.quit:
			send("end", "the game has ended")
			return
		case <-tick.C:
			if !send("time", s.remaining()) {
				return
			}
		}
	}
}

// remaining is the time left, in milliseconds, or -1.
func (s *server) remaining() string {
	if s.end.IsZero() {
		return "-1"
	}
	return strconv.FormatInt(max(0, time.Until(s.end).Milliseconds()), 10)
}

// call is one of the game's calls: GET state, and the POSTs that change
// the game, each from the page's own origin with a JSON body.
func (s *server) call(w http.ResponseWriter, r *http.Request, name string) {
	if s.shown != nil {
		s.callShown(w, r, name)
		return
	}
	if name == "state" {
		if r.Method != http.MethodGet {
			http.Error(w, "GET only", http.StatusMethodNotAllowed)
			return
		}
		st, err := s.sess.do(func() error { return nil })
		s.reply(w, st, err)
		return
	}
	if err := s.sameOrigin(r); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	var in struct {
		Thread   *int   `json:"thread"`
		Program  string `json:"program"`
		Schedule string `json:"schedule"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	if err := dec.Decode(&in); err != nil && !errors.Is(err, io.EOF) {
		http.Error(w, "play: the call's body: "+err.Error(), http.StatusBadRequest)
		return
	}
	sess := s.sess
	var act func() error
	switch name {
	case "step":
		if in.Thread == nil {
			http.Error(w, "play: step: which thread?", http.StatusBadRequest)
			return
		}
		act = func() error { return sess.step(*in.Thread) }
	case "undo":
		act = sess.undo
	case "restart":
		act = sess.restart
	case "forward":
		act = sess.forward
	case "program":
		act = func() error { return sess.choose(in.Program) }
	case "open":
		act = func() error { return sess.open(in.Schedule) }
	case "search":
		act = sess.search
	case "quiz":
		run, err := sess.quiz()
		s.reply(w, run, err)
		return
	default:
		http.NotFound(w, r)
		return
	}
	st, err := sess.do(act)
	s.reply(w, st, err)
}

// sameOrigin refuses a change asked for by another site: the body must be
// JSON (which a form cannot send without asking first), and the Origin
// and Sec-Fetch-Site headers, when there, must be the page's own.
func (s *server) sameOrigin(r *http.Request) error {
	if r.Method != http.MethodPost {
		return errors.New("play: POST only")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return errors.New("play: the body must be JSON")
	}
	if o := r.Header.Get("Origin"); o != "" && !s.hosts[strings.TrimPrefix(o, "http://")] {
		return errors.New("play: a call from another origin is refused")
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return errors.New("play: a call from another site is refused")
	}
	return nil
}

func (s *server) reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		http.Error(w, err.Error(), http.StatusConflict)
		return
	}
	if !s.end.IsZero() {
		switch st := v.(type) {
		case *state:
			st.Remaining = max(0, time.Until(s.end).Milliseconds())
		case *shownState:
			st.Remaining = max(0, time.Until(s.end).Milliseconds())
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
