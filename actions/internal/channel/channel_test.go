package channel

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/frame"
)

var kinds = []Kind{Pipe, FIFO, Socket}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// sendAsync sends msgs through c from another goroutine (a message larger
// than the pipe needs a receiver draining it) and returns where the
// result arrives.
func sendAsync(ctx context.Context, c *Channel, msgs ...[]byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if err := c.Send(ctx, m); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

func TestPayloads(t *testing.T) {
	t.Parallel()
	payloads := []struct {
		name string
		msg  []byte
	}{
		{"empty", []byte{}},
		{"NUL bytes", []byte("\x00\x00a\x00")},
		{"newlines", []byte("\n\nline\r\n")},
		{"utf-8", []byte("zażółć gęślą jaźń 日本語 🚀")},
		{"PIPE_BUF-1", randomBytes(frame.PipeBuf-1, 1)},
		{"PIPE_BUF", randomBytes(frame.PipeBuf, 2)},
		{"PIPE_BUF+1", randomBytes(frame.PipeBuf+1, 3)},
		{"1 MiB", randomBytes(1<<20, 4)},
	}
	for _, kind := range kinds {
		for _, p := range payloads {
			t.Run(string(kind)+"/"+p.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				c := newTestChannel(t, "jobs", Options{Kind: kind})
				sender := peer(t, c)
				done := sendAsync(ctx, sender, p.msg, []byte("after"))
				got, err := c.Receive(ctx, time.Minute)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, p.msg) || got == nil {
					t.Fatalf("received %d bytes, want the %d sent", len(got), len(p.msg))
				}
				if got, err := c.Receive(ctx, time.Minute); err != nil || string(got) != "after" {
					t.Fatalf("second message %q, %v", got, err)
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

func TestTooLarge(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{Kind: kind, MaxMessage: 1000})
			err := c.Send(t.Context(), make([]byte, 1001))
			if !errors.Is(err, frame.ErrTooLarge) {
				t.Fatalf("Send(1001 bytes) = %v, want ErrTooLarge", err)
			}
			if !strings.Contains(err.Error(), "channel jobs") {
				t.Errorf("error %q does not name the channel", err)
			}
			if err := c.Send(t.Context(), make([]byte, 1000)); err != nil {
				t.Fatalf("Send(1000 bytes) = %v", err)
			}
			if got, err := c.Receive(t.Context(), time.Minute); err != nil || len(got) != 1000 {
				t.Fatalf("Receive = %d bytes, %v", len(got), err)
			}
		})
	}
}

// TestReceiverTooSmall sends from an endpoint that believes in a larger
// maximum than the receiver: the receiver reports it and goes on.
func TestReceiverRejectsLargerThanItsMax(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{MaxMessage: 5000})
	spec := c.Spec()
	spec.MaxMessage = 10000
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	sender, err := Attach(spec, files)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	done := sendAsync(t.Context(), sender, make([]byte, 9000), []byte("ok"))
	if _, err := c.Receive(t.Context(), time.Minute); !errors.Is(err, frame.ErrTooLarge) {
		t.Fatalf("Receive of 9000 bytes = %v, want ErrTooLarge", err)
	}
	if got, err := c.Receive(t.Context(), time.Minute); err != nil || string(got) != "ok" {
		t.Fatalf("next Receive = %q, %v", got, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentSenders has four endpoints send 64 KiB messages at once
// through one channel; every message must arrive whole and in its sender's
// order.
func TestConcurrentSenders(t *testing.T) {
	t.Parallel()
	const senders, perSender, size = 4, 64, 64 << 10
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			c := newTestChannel(t, "jobs", Options{Kind: kind})
			errs := make(chan error, senders)
			for range senders {
				s := peer(t, c)
				go func() {
					_, err := s.SendStress(ctx, perSender, size)
					errs <- err
				}()
			}
			st, err := c.ReceiveStress(ctx, senders*perSender, time.Minute)
			if err != nil || !st.Verified || st.Senders != senders {
				t.Fatalf("ReceiveStress = %+v, %v", st, err)
			}
			for range senders {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestConcurrentSendsOnOneEndpoint(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newTestChannel(t, "jobs", Options{})
	s := peer(t, c)
	const goroutines, each = 4, 20
	done := make(chan error, goroutines)
	for g := range goroutines {
		go func() {
			for i := range each {
				msg := bytes.Repeat([]byte{byte('a' + g)}, 10000+i)
				if err := s.Send(ctx, msg); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	last := map[byte]int{}
	for range goroutines * each {
		msg, err := c.Receive(ctx, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.Trim(msg, string(msg[:1]))) != 0 {
			t.Fatal("a message mixes the bytes of two sends")
		}
		if len(msg) <= last[msg[0]] {
			t.Fatalf("goroutine %c: message of %d bytes after one of %d", msg[0], len(msg), last[msg[0]])
		}
		last[msg[0]] = len(msg)
	}
	for range goroutines {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}

func TestReceiverGone(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{Kind: kind})
			s := peer(t, c)
			// The peer of a pipe or socket channel holds a read end
			// too; only its sending side may stay.
			if err := s.CloseRead(); err != nil {
				t.Fatal(err)
			}
			// Open the sending side while a reader exists...
			if err := s.Send(t.Context(), []byte("first")); err != nil {
				t.Fatal(err)
			}
			// ...then the only reader goes.
			if err := c.CloseRead(); err != nil {
				t.Fatal(err)
			}
			err := s.Send(t.Context(), []byte("second"))
			if !errors.Is(err, ErrReceiverGone) {
				t.Fatalf("Send to a channel no one reads = %v, want ErrReceiverGone", err)
			}
			if kind != Socket && (!errors.Is(err, syscall.EPIPE) || !strings.Contains(err.Error(), "receiver gone (EPIPE)")) {
				t.Errorf("error %q does not say EPIPE", err)
			}
		})
	}
}

// TestReceiverProcessDied: the receiving agent exits; the next send says so
// and SIGPIPE does not kill the sender.
func TestReceiverProcessDied(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{})
	h := startHelper(t, c, "receive-one")
	if err := c.CloseRead(); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(t.Context(), []byte("hello")); err != nil {
		t.Fatal(err)
	}
	h.mustExit0(t)
	if got := strings.TrimSpace(h.stdout.String()); got != "hello" {
		t.Fatalf("helper received %q", got)
	}
	err := c.Send(t.Context(), []byte("anyone?"))
	if !errors.Is(err, ErrReceiverGone) || !errors.Is(err, syscall.EPIPE) {
		t.Fatalf("Send after the receiver died = %v, want EPIPE", err)
	}
}

func TestFIFONoReader(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{Kind: FIFO})
	spec := c.Spec()
	if err := c.CloseRead(); err != nil {
		t.Fatal(err)
	}
	s, err := Attach(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.Send(t.Context(), []byte("hello"))
	if !errors.Is(err, ErrNoReader) || !errors.Is(err, syscall.ENXIO) {
		t.Fatalf("Send to a FIFO no one has open = %v, want ErrNoReader", err)
	}
}

func TestSenderDiedMidMessage(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		closeOwn  bool // close the runner's write end, so the death is EOF
		wantAfter error
	}{
		{"end of stream", true, io.EOF},
		{"timeout", false, ErrTimeout},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{})
			h := startHelper(t, c, "die-mid-message", "4000000")
			if tc.closeOwn {
				if err := c.CloseWrite(); err != nil {
					t.Fatal(err)
				}
			}
			if code := h.wait(t); code != 3 {
				t.Fatalf("helper exited %d, want 3; stderr: %s", code, h.stderr.String())
			}
			_, err := c.Receive(t.Context(), time.Minute)
			var te *frame.TruncatedError
			if !errors.As(err, &te) || te.Sender.PID() != h.cmd.Process.Pid || te.Got == 0 || te.Total != 4000000 {
				t.Fatalf("Receive after the sender died = %v, want a truncated message from pid %d", err, h.cmd.Process.Pid)
			}
			if _, err := c.Receive(t.Context(), 10*time.Millisecond); !errors.Is(err, tc.wantAfter) {
				t.Fatalf("Receive after the truncation = %v, want %v", err, tc.wantAfter)
			}
		})
	}
}

func TestReceiveEmptyAndTimeout(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		for _, framing := range []Framing{Framed, Lines} {
			t.Run(string(kind)+"/"+string(framing), func(t *testing.T) {
				t.Parallel()
				c := newTestChannel(t, "jobs", Options{Kind: kind, Framing: framing})
				if _, err := c.Receive(t.Context(), 0); !errors.Is(err, ErrEmpty) {
					t.Fatalf("non-blocking Receive on an empty channel = %v, want ErrEmpty", err)
				}
				if _, err := c.Receive(t.Context(), 20*time.Millisecond); !errors.Is(err, ErrTimeout) {
					t.Fatalf("Receive with a timeout on an empty channel = %v, want ErrTimeout", err)
				}
				if msgs, err := c.ReceiveN(t.Context(), 5, 0); !errors.Is(err, ErrEmpty) || len(msgs) != 0 {
					t.Fatalf("non-blocking ReceiveN = %d, %v; want ErrEmpty", len(msgs), err)
				}
				// The channel still works afterwards.
				if err := c.Send(t.Context(), []byte("x")); err != nil {
					t.Fatal(err)
				}
				if err := c.Send(t.Context(), []byte("y")); err != nil {
					t.Fatal(err)
				}
				msgs, err := c.ReceiveN(t.Context(), 5, 0)
				if err != nil || len(msgs) != 2 || string(msgs[0]) != "x" || string(msgs[1]) != "y" {
					t.Fatalf("ReceiveN = %q, %v", msgs, err)
				}
				msgs, err = c.ReceiveN(t.Context(), 2, 20*time.Millisecond)
				if !errors.Is(err, ErrTimeout) || len(msgs) != 0 {
					t.Fatalf("ReceiveN on an empty channel = %q, %v; want ErrTimeout", msgs, err)
				}
			})
		}
	}
}

// pageMessage is a message whose chunk fills a page exactly: a pipe that
// poll(2) calls full cannot take it, where a smaller write could still be
// merged into the last, part-filled page.
var pageMessage = make([]byte, frame.PipeBuf-frame.HeaderSize)

// fill sends pageMessage (one chunk, so each is sent whole or not at all)
// until the channel is full, and returns how many went.
func fill(t *testing.T, c *Channel) int {
	t.Helper()
	for n := 1; ; n++ {
		if err := c.Send(t.Context(), pageMessage); err != nil {
			t.Fatal(err)
		}
		if !writable(c) {
			return n
		}
	}
}

func TestSendOnFullChannelHonoursContext(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{Kind: kind})
			sent := fill(t, c)
			stopped := errors.New("step cancelled")
			ctx, cancel := context.WithCancelCause(t.Context())
			done := sendAsync(ctx, c, pageMessage)
			cancel(stopped)
			if err := <-done; !errors.Is(err, stopped) {
				t.Fatalf("Send on a full channel after cancel = %v, want the cancel cause", err)
			}
			// Every message that was sent arrives, nothing else.
			msgs, err := c.ReceiveN(t.Context(), sent+1, 0)
			if err != nil || len(msgs) != sent {
				t.Fatalf("received %d messages (%v), %d were sent", len(msgs), err, sent)
			}
		})
	}
}

func TestReceiveHonoursContext(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{})
	stopped := errors.New("interrupted")
	ctx, cancel := context.WithCancelCause(t.Context())
	done := make(chan error, 1)
	go func() {
		_, err := c.Receive(ctx, -1)
		done <- err
	}()
	cancel(stopped)
	if err := <-done; !errors.Is(err, stopped) {
		t.Fatalf("Receive after cancel = %v, want the cancel cause", err)
	}
	if err := c.Send(t.Context(), []byte("still works")); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Receive(t.Context(), time.Minute); err != nil || string(got) != "still works" {
		t.Fatalf("Receive = %q, %v", got, err)
	}
}

func TestCloseWakesWaiters(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{})
	done := make(chan error, 1)
	go func() {
		_, err := c.Receive(t.Context(), -1)
		done <- err
	}()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Receive on a closed channel = %v, want os.ErrClosed", err)
	}
	if err := c.Send(t.Context(), nil); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Send on a closed channel = %v, want os.ErrClosed", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

func TestFIFOShellWriter(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{Kind: FIFO, Framing: Lines})
	cmd := exec.Command("sh", "-c", `echo hi > "$PMRUN_CHANNEL_JOBS"; printf 'two\nthree' > "$PMRUN_CHANNEL_JOBS"`)
	cmd.Env = append(os.Environ(), c.EnvVar())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shell writer: %v: %s", err, out)
	}
	msgs, err := c.ReceiveN(t.Context(), 3, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// "three" has no newline: it ends when its writer closes the FIFO.
	if got := strings.Join(bytesToStrings(msgs), "|"); got != "hi|two|three" {
		t.Fatalf("lines %q, want hi|two|three", got)
	}
	// The FIFO has no writer now; a new one can come.
	done := make(chan error, 1)
	go func() {
		_, err := c.Receive(t.Context(), time.Minute)
		done <- err
	}()
	cmd = exec.Command("sh", "-c", `echo later > "$PMRUN_CHANNEL_JOBS"`)
	cmd.Env = append(os.Environ(), c.EnvVar())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shell writer: %v: %s", err, out)
	}
	if err := <-done; err != nil {
		t.Fatalf("Receive waiting for a new writer = %v", err)
	}
}

func TestFIFOShellReader(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{Kind: FIFO, Framing: Lines})
	spec := c.Spec()
	// The shell reads while the channel's own read end stays open.
	cmd := exec.Command("sh", "-c", `read line < "$PMRUN_CHANNEL_JOBS"; echo "got $line"`)
	cmd.Env = append(os.Environ(), c.EnvVar())
	out := make(chan string, 1)
	go func() {
		b, _ := cmd.CombinedOutput()
		out <- string(b)
	}()
	// Send from an endpoint that does not read, through the shell's
	// read end or the channel's: both are readers of the FIFO. Close the
	// channel's read end first so the shell is the one to get it.
	if err := c.CloseRead(); err != nil {
		t.Fatal(err)
	}
	s, err := Attach(spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for {
		err := s.Send(t.Context(), []byte("hello shell"))
		if err == nil {
			break
		}
		if !errors.Is(err, ErrNoReader) {
			t.Fatal(err)
		}
		// The shell has not opened the FIFO yet.
		time.Sleep(5 * time.Millisecond)
	}
	if got := <-out; got != "got hello shell\n" {
		t.Fatalf("shell printed %q", got)
	}
}

func bytesToStrings(msgs [][]byte) []string {
	s := make([]string, len(msgs))
	for i, m := range msgs {
		s[i] = string(m)
	}
	return s
}

func TestLines(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{Kind: kind, Framing: Lines})
			s := peer(t, c)
			for _, m := range []string{"one", "", "zażółć\x00"} {
				if err := s.Send(t.Context(), []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Send(t.Context(), []byte("two\nlines")); !errors.Is(err, frame.ErrNewline) {
				t.Fatalf("Send of two lines = %v, want ErrNewline", err)
			}
			msgs, err := c.ReceiveN(t.Context(), 3, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(bytesToStrings(msgs), "|"); got != "one||zażółć\x00" {
				t.Fatalf("lines %q", got)
			}
		})
	}
	t.Run("pipe line longer than PIPE_BUF", func(t *testing.T) {
		t.Parallel()
		c := newTestChannel(t, "jobs", Options{Framing: Lines})
		if err := c.Send(t.Context(), bytes.Repeat([]byte("x"), frame.PipeBuf)); !errors.Is(err, frame.ErrTooLarge) {
			t.Fatalf("Send of a %d-byte line = %v, want ErrTooLarge", frame.PipeBuf, err)
		}
	})
}

// TestSocketDatagramsFromAnyProgram sends datagrams the way socat or nc
// would: plain sendto(2) on an unbound socket, no framing, no newline.
func TestSocketDatagramsFromAnyProgram(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{Kind: Socket, Framing: Lines})
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	for _, d := range []string{"no newline", "two\nlines\n"} {
		if err := unix.Sendto(fd, []byte(d), 0, &unix.SockaddrUnix{Name: c.Path()}); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := c.ReceiveN(t.Context(), 3, time.Minute)
	if got := strings.Join(bytesToStrings(msgs), "|"); err != nil || got != "no newline|two|lines" {
		t.Fatalf("lines %q, %v", got, err)
	}
}

func TestCorruptDataIsReportedNotDelivered(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{})
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	raw := files[1] // the write end, blocking: plain writes
	defer files[0].Close()
	defer raw.Close()
	if _, err := raw.Write([]byte("this is not a chunk")); err != nil {
		t.Fatal(err)
	}
	if err := c.Send(t.Context(), []byte("good")); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Receive(t.Context(), time.Minute); !errors.Is(err, frame.ErrCorrupt) {
		t.Fatalf("Receive after garbage = %v, want ErrCorrupt", err)
	}
	if got, err := c.Receive(t.Context(), time.Minute); err != nil || string(got) != "good" {
		t.Fatalf("Receive = %q, %v; want the good message", got, err)
	}
}

func TestEndOfStream(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{})
	if err := c.Send(t.Context(), []byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.Receive(t.Context(), time.Minute); err != nil || string(got) != "last words" {
		t.Fatalf("Receive = %q, %v", got, err)
	}
	for range 2 {
		if _, err := c.Receive(t.Context(), time.Minute); !errors.Is(err, io.EOF) {
			t.Fatalf("Receive with every writer gone = %v, want io.EOF", err)
		}
	}
	if err := c.Send(t.Context(), nil); !errors.Is(err, ErrNoEnd) {
		t.Fatalf("Send without a write end = %v, want ErrNoEnd", err)
	}
}

func TestStressInProcess(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		for _, framing := range []Framing{Framed, Lines} {
			t.Run(string(kind)+"/"+string(framing), func(t *testing.T) {
				t.Parallel()
				c := newTestChannel(t, "jobs", Options{Kind: kind, Framing: framing})
				s := peer(t, c)
				const count, size = 20000, 64
				done := make(chan error, 1)
				go func() {
					st, err := s.SendStress(t.Context(), count, size)
					if err == nil && (st.Messages != count || st.Bytes != count*size) {
						err = errors.New("SendStress miscounted")
					}
					done <- err
				}()
				st, err := c.ReceiveStress(t.Context(), count, time.Minute)
				if err != nil || !st.Verified || st.Messages != count || st.Bytes != count*size || st.Senders != 1 {
					t.Fatalf("ReceiveStress = %+v, %v", st, err)
				}
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// TestStressDetectsBadMessages feeds ReceiveStress messages that are not
// what SendStress would send.
func TestStressDetectsBadMessages(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{})
	s := peer(t, c)
	if _, err := s.SendStress(t.Context(), 3, 64); err != nil {
		t.Fatal(err)
	}
	// A message with number 3 but a damaged body, then one out of order.
	p := newPattern(Framed, 64)
	head, body := p.message(nil, 0, 3)
	body = bytes.Clone(body)
	body[10] ^= 1
	if err := s.Send(t.Context(), append(head, body...)); err != nil {
		t.Fatal(err)
	}
	head, body = p.message(nil, 0, 7)
	if err := s.Send(t.Context(), append(head, body...)); err != nil {
		t.Fatal(err)
	}
	st, err := c.ReceiveStress(t.Context(), 5, time.Minute)
	if !errors.Is(err, ErrVerify) || st.Verified || st.Messages != 5 {
		t.Fatalf("ReceiveStress = %+v, %v; want a verify error", st, err)
	}
	if !strings.Contains(err.Error(), "body differs") || !strings.Contains(err.Error(), "1 more") {
		t.Errorf("error %q does not describe both problems", err)
	}
}

func TestStressArguments(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{Framing: Lines})
	for _, tc := range []struct{ count, size int }{{-1, 64}, {1, 33}, {1, frame.PipeBuf}} {
		if _, err := c.SendStress(t.Context(), tc.count, tc.size); err == nil {
			t.Errorf("SendStress(%d, %d) on a lines pipe succeeded", tc.count, tc.size)
		}
	}
	if _, err := c.ReceiveStress(t.Context(), -1, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("ReceiveStress(-1) = %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		opt  Options
		ok   bool
	}{
		{"jobs", Options{}, true},
		{"_x9", Options{Kind: Socket, Framing: Lines, MaxMessage: 1}, true},
		{"", Options{}, false},
		{"Jobs", Options{}, false},
		{"9lives", Options{}, false},
		{"a-b", Options{}, false},
		{"../x", Options{}, false},
		{strings.Repeat("a", 65), Options{}, false},
		{"jobs", Options{Kind: "tcp"}, false},
		{"jobs", Options{Framing: "json"}, false},
		{"jobs", Options{MaxMessage: -1}, false},
		{"jobs", Options{MaxMessage: LimitMaxMessage + 1}, false},
	}
	for _, tc := range cases {
		err := Validate(tc.name, tc.opt)
		if (err == nil) != tc.ok {
			t.Errorf("Validate(%q, %+v) = %v, want ok=%v", tc.name, tc.opt, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalid) {
			t.Errorf("Validate(%q) = %v, not ErrInvalid", tc.name, err)
		}
	}
}

func TestCreateRefusesSharedDirectory(t *testing.T) {
	t.Parallel()
	dir := privateDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dir, "jobs", Options{Kind: FIFO}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Create in a mode 0777 directory = %v, want ErrInvalid", err)
	}
	if _, err := Create(filepath.Join(dir, "missing"), "jobs", Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Create in a missing directory = %v", err)
	}
}

func TestCreateRefusesExistingName(t *testing.T) {
	t.Parallel()
	dir := privateDir(t)
	for _, kind := range []Kind{FIFO, Socket} {
		c, err := Create(dir, "jobs", Options{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := Create(dir, "jobs", Options{Kind: kind}); !errors.Is(err, os.ErrExist) && !errors.Is(err, syscall.EADDRINUSE) {
			t.Fatalf("second %s channel with one name = %v", kind, err)
		}
	}
}

func TestSpecAndEnv(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			dir := privateDir(t)
			c, err := Create(dir, "jobs", Options{Kind: kind, Framing: Lines, MaxMessage: 100})
			if err != nil {
				t.Fatal(err)
			}
			spec := c.Spec()
			b, err := json.Marshal(spec)
			if err != nil {
				t.Fatal(err)
			}
			var back Spec
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, spec) {
				t.Fatalf("spec %s did not survive JSON: %+v", b, back)
			}
			files, err := c.Files()
			if err != nil {
				t.Fatal(err)
			}
			if len(files) != len(spec.Files) {
				t.Fatalf("%d files for spec files %v", len(files), spec.Files)
			}
			for _, f := range files {
				f.Close()
			}
			env := c.EnvVar()
			switch kind {
			case Pipe:
				if env != "" {
					t.Errorf("pipe EnvVar = %q, want none", env)
				}
			default:
				if want := "PMRUN_CHANNEL_JOBS=" + c.Path(); env != want || filepath.Dir(c.Path()) != dir {
					t.Errorf("EnvVar = %q, want %q in %s", env, want, dir)
				}
				if _, err := os.Lstat(c.Path()); err != nil {
					t.Fatal(err)
				}
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			if c.Path() != "" {
				if _, err := os.Lstat(c.Path()); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s still there after Close: %v", c.Path(), err)
				}
			}
		})
	}
}

func TestAttachRejectsBadInput(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{})
	regular, err := os.CreateTemp(t.TempDir(), "x")
	if err != nil {
		t.Fatal(err)
	}
	spec := c.Spec()
	cases := []struct {
		name  string
		spec  Spec
		files []*os.File
	}{
		{"too few files", spec, nil},
		{"not a pipe", Spec{Name: "jobs", Kind: Pipe, Framing: Framed, MaxMessage: 10, Files: []Role{ReadEnd}}, []*os.File{regular}},
		{"bad name", Spec{Name: "A", Kind: Pipe, Framing: Framed, MaxMessage: 10}, nil},
		{"fifo without path", Spec{Name: "jobs", Kind: FIFO, Framing: Framed, MaxMessage: 10}, nil},
		{"no max message", Spec{Name: "jobs", Kind: Pipe, Framing: Framed}, nil},
	}
	for _, tc := range cases {
		if _, err := Attach(tc.spec, tc.files); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Attach = %v, want ErrInvalid", tc.name, err)
		}
	}
	// Attach closed the file it was given.
	if _, err := regular.Stat(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("file given to a failed Attach is still open")
	}
}

// TestNoDescriptorLeaks is not parallel: it counts the process's
// descriptors around a full life cycle of every kind.
func TestNoDescriptorLeaks(t *testing.T) {
	cycle := func() {
		for _, kind := range kinds {
			c := newTestChannel(t, "jobs", Options{Kind: kind})
			p := peer(t, c)
			if err := p.Send(t.Context(), []byte("x")); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Receive(t.Context(), time.Minute); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Receive(t.Context(), 0); !errors.Is(err, ErrEmpty) {
				t.Fatal(err)
			}
			p.Close()
			c.Close()
		}
	}
	cycle() // let the runtime poller set itself up
	before := len(openFDs())
	cycle()
	if after := len(openFDs()); after != before {
		t.Fatalf("%d descriptors open before, %d after", before, after)
	}
}

// TestChildGetsOnlyExtraFiles: every descriptor is close-on-exec, so a
// child gets what was passed to it and nothing else of any channel.
func TestChildGetsOnlyExtraFiles(t *testing.T) {
	t.Parallel()
	c := newTestChannel(t, "jobs", Options{})
	others := []*Channel{
		newTestChannel(t, "fifo", Options{Kind: FIFO}),
		newTestChannel(t, "sock", Options{Kind: Socket}),
	}
	// What the channels' descriptors refer to, here.
	objects := map[string]string{}
	for _, ch := range append(others, c) {
		for _, e := range []*end{ch.r, ch.w} {
			if e == nil {
				continue
			}
			_ = rawControl(e.f, func(fd int) {
				target, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
				if err == nil {
					objects[target] = ch.name
				}
			})
		}
	}
	h := startHelper(t, c, "fds")
	h.mustExit0(t)
	passed := 0
	for _, line := range strings.Split(strings.TrimSpace(h.stdout.String()), "\n") {
		fd, target, _ := strings.Cut(line, " ")
		owner, ok := objects[target]
		switch {
		case (fd == "3" || fd == "4") && owner == "jobs":
			passed++
		case ok:
			t.Errorf("child has fd %s, %s of channel %s, that it was not given", fd, target, owner)
		}
	}
	if passed != 2 {
		t.Errorf("child got %d ends of its pipe channel, want 2; it has:\n%s", passed, h.stdout.String())
	}
}

// TestUnread: a pipe or FIFO channel counts the bytes waiting for a
// receiver, frame headers included, and none once they are received; a
// socket does not say.
func TestUnread(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{Kind: kind})
			if err := c.Send(t.Context(), []byte("hello")); err != nil {
				t.Fatal(err)
			}
			n, ok := c.Unread()
			if kind == Socket {
				if ok {
					t.Fatalf("Unread on a socket = %d, true; want false", n)
				}
				return
			}
			if want := frame.HeaderSize + len("hello"); !ok || n != want {
				t.Fatalf("Unread = %d, %v; want %d, true", n, ok, want)
			}
			if _, err := c.Receive(t.Context(), time.Second); err != nil {
				t.Fatal(err)
			}
			if n, ok := c.Unread(); !ok || n != 0 {
				t.Fatalf("Unread after the receive = %d, %v; want 0, true", n, ok)
			}
		})
	}
}
