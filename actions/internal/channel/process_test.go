package channel

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/actions/internal/frame"
)

// TestStressBetweenProcesses moves 100,000 stress messages between this
// process and an agent, in each direction, and checks every one.
func TestStressBetweenProcesses(t *testing.T) {
	t.Parallel()
	const count, size = 100_000, 64
	for _, kind := range kinds {
		t.Run(string(kind)+"/agent sends", func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{Kind: kind})
			h := startHelper(t, c, "stress-send", strconv.Itoa(count), strconv.Itoa(size))
			st, err := c.ReceiveStress(t.Context(), count, time.Minute)
			if err != nil || !st.Verified || st.Messages != count || st.Senders != 1 {
				t.Fatalf("ReceiveStress = %+v, %v; helper stderr: %s", st, err, h.stderr.String())
			}
			h.mustExit0(t)
		})
		t.Run(string(kind)+"/agent receives", func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{Kind: kind})
			// This endpoint keeps its read end but does not read:
			// everything goes to the agent.
			h := startHelper(t, c, "stress-receive", strconv.Itoa(count))
			if st, err := c.SendStress(t.Context(), count, size); err != nil || st.Messages != count {
				t.Fatalf("SendStress = %+v, %v", st, err)
			}
			h.mustExit0(t)
			if got, want := strings.TrimSpace(h.stdout.String()), strconv.Itoa(count)+" 1 true"; got != want {
				t.Fatalf("agent reports %q, want %q", got, want)
			}
		})
	}
}

// TestSenderProcesses has four agent processes send 64 KiB messages into
// one channel at once: each message must arrive whole, in its sender's
// order, without any lock between the senders.
func TestSenderProcesses(t *testing.T) {
	t.Parallel()
	const senders, count, size = 4, 200, 64 << 10
	for _, kind := range kinds {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			c := newTestChannel(t, "jobs", Options{Kind: kind})
			var hs []*helper
			for range senders {
				hs = append(hs, startHelper(t, c, "stress-send", strconv.Itoa(count), strconv.Itoa(size)))
			}
			st, err := c.ReceiveStress(t.Context(), senders*count, time.Minute)
			if err != nil || !st.Verified || st.Senders != senders {
				t.Fatalf("ReceiveStress = %+v, %v", st, err)
			}
			for _, h := range hs {
				h.mustExit0(t)
			}
		})
	}
}

// TestSplitBurstsKeepChunksWhole shrinks the pipe to four pages, so that
// every 64 KiB burst is written in several parts, while other senders
// write small messages in between: every chunk must still arrive whole.
func TestSplitBurstsKeepChunksWhole(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newTestChannel(t, "jobs", Options{})
	var got int
	var serr error
	if err := rawControl(c.w.f, func(fd int) {
		_, serr = unix.FcntlInt(uintptr(fd), unix.F_SETPIPE_SZ, 4*frame.PipeBuf)
		got, _ = unix.FcntlInt(uintptr(fd), unix.F_GETPIPE_SZ, 0)
	}); err != nil || serr != nil || got != 4*frame.PipeBuf {
		t.Fatalf("could not shrink the pipe: %v %v (size %d)", err, serr, got)
	}
	shapes := []struct{ count, size int }{{100, 64 << 10}, {100, 100 << 10}, {20000, 64}, {20000, 200}}
	errs := make(chan error, len(shapes))
	total := 0
	for _, sh := range shapes {
		total += sh.count
		s := peer(t, c)
		go func() {
			_, err := s.SendStress(ctx, sh.count, sh.size)
			errs <- err
		}()
	}
	st, err := c.ReceiveStress(ctx, total, time.Minute)
	if err != nil || !st.Verified || st.Senders != len(shapes) {
		t.Fatalf("ReceiveStress = %+v, %v", st, err)
	}
	for range shapes {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
