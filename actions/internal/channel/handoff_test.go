package channel

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/frame"
)

// TestReceiveStateHandoff: an endpoint that stopped in the middle of a
// message hands what it read to another endpoint of the channel, which
// goes on where it stopped: the message arrives whole, and the sender's
// next one follows without a sequence gap (issue 27, item 5).
func TestReceiveStateHandoff(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	c := newTestChannel(t, "jobs", Options{Kind: Pipe})
	files, err := c.Files()
	if err != nil {
		t.Fatal(err)
	}
	w := files[1]
	defer files[0].Close()
	defer w.Close()
	var stream bytes.Buffer
	enc := frame.NewEncoder(frame.NewSender(os.Getpid(), 7), frame.PipeLimits, func(p [][]byte) (int, error) {
		n := 0
		for _, b := range p {
			stream.Write(b)
			n += len(b)
		}
		return n, nil
	})
	big := randomBytes(200_000, 9)
	for _, m := range [][]byte{[]byte("first"), big, []byte("after")} {
		if err := enc.Encode(nil, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Flush(); err != nil {
		t.Fatal(err)
	}
	all := stream.Bytes()
	// The first message, and part of the big one, cut inside a chunk.
	cut := 50_001
	if _, err := w.Write(all[:cut]); err != nil {
		t.Fatal(err)
	}
	got, err := c.Receive(ctx, 0)
	if err != nil || string(got) != "first" {
		t.Fatalf("first receive = %q, %v; want \"first\"", got, err)
	}
	if _, err := c.Receive(ctx, 0); !errors.Is(err, ErrEmpty) {
		t.Fatalf("receive of an unfinished message = %v, want ErrEmpty", err)
	}
	st, err := c.TakeReceiveState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Decoder.Senders) != 1 || !st.Decoder.Senders[0].Assembling {
		t.Fatalf("taken state = %+v, want one sender with a message under way", st.Decoder)
	}
	other := peer(t, c)
	if err := other.PutReceiveState(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := other.PutReceiveState(ctx, st); err == nil {
		t.Fatal("a second state put into an endpoint that holds one: no error")
	}
	done := make(chan error, 1)
	go func() {
		_, err := w.Write(all[cut:])
		done <- err
	}()
	msgs, err := other.ReceiveN(ctx, 2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || !bytes.Equal(msgs[0], big) || string(msgs[1]) != "after" {
		t.Fatalf("after the handoff: %d messages, want the big one whole and \"after\"", len(msgs))
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// The endpoint that gave its state away is as new.
	if st, err := c.TakeReceiveState(ctx); err != nil || !st.Empty() {
		t.Fatalf("state left behind = %+v, %v; want none", st, err)
	}
}
