package place

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// TestAgentReceivesAnyAmount: a receive into an agent returns however many
// messages it took, counted exactly and the first ones kept, and takes no
// message it does not return; messages of 16 MiB go both ways.
func TestAgentReceivesAnyAmount(t *testing.T) {
	t.Parallel()
	local, proxy, _ := places(t)
	ctx := t.Context()
	const count = 3000 // their reply was some 400 KiB, more than a packet
	var want [][]byte
	var total int64
	for i := range count {
		m := fmt.Appendf(nil, "message %04d %s", i, bytes.Repeat([]byte{'x'}, 80))
		want = append(want, m)
		total += int64(len(m))
	}
	sent := make(chan error, 1)
	go func() {
		for _, m := range want {
			if _, err := local.Send(ctx, SendArgs{Channel: "c", Message: m, Count: 1}); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()
	got, err := proxy.Receive(ctx, ReceiveArgs{Channel: "c", Count: count, Timeout: time.Minute})
	if err != nil || <-sent != nil {
		t.Fatalf("Receive: %v", err)
	}
	if got.Count != count || got.Bytes != total || !got.Verified {
		t.Errorf("received %d messages, %d bytes (verified %v); want %d, %d", got.Count, got.Bytes, got.Verified, count, total)
	}
	if len(got.Messages) != Keep.Messages {
		t.Errorf("kept %d messages, want the first %d", len(got.Messages), Keep.Messages)
	}
	for i, m := range got.Messages {
		if !bytes.Equal(m, want[i]) {
			t.Fatalf("kept message %d is %q, want %q", i, m, want[i])
		}
	}
	if left, err := local.Receive(ctx, ReceiveArgs{Channel: "c", Count: 1}); err != nil || left.Count != 0 {
		t.Errorf("left in the channel: %+v, %v; want nothing", left, err)
	}

	big := bytes.Repeat([]byte("16 MiB, "), 2<<20)
	for _, pair := range [][2]Place{{proxy, local}, {local, proxy}} {
		from, to := pair[0], pair[1]
		go func() {
			_, err := from.Send(ctx, SendArgs{Channel: "c", Message: big, Count: 1})
			sent <- err
		}()
		got, err := to.Receive(ctx, ReceiveArgs{Channel: "c", Count: 1, Timeout: time.Minute})
		if err := errors.Join(err, <-sent); err != nil {
			t.Fatalf("16 MiB from %s to %s: %v", from.Name(), to.Name(), err)
		}
		if got.Count != 1 || len(got.Messages) != 1 || !bytes.Equal(got.Messages[0], big) {
			t.Errorf("16 MiB from %s to %s: %d messages, %d kept", from.Name(), to.Name(), got.Count, len(got.Messages))
		}
	}
}

// TestCancelledReceiveKeepsMessages: a receive into an agent that its step
// gives up on still returns the messages it took; none is lost. Each
// receive is given up on after 200 ms, and on a loaded machine the agent
// may not have taken all three by then: the messages the receives given
// up on return are counted together, in order.
func TestCancelledReceiveKeepsMessages(t *testing.T) {
	t.Parallel()
	local, proxy, _ := places(t)
	for _, m := range []string{"one", "two", "taken"} {
		if _, err := local.Send(t.Context(), SendArgs{Channel: "c", Message: []byte(m), Count: 1}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for try := 0; len(got) < 3 && try < 50; try++ {
		ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
		r, err := proxy.Receive(ctx, ReceiveArgs{Channel: "c", Count: 10, Timeout: -1})
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Receive: %v, want the step's deadline", err)
		}
		if r.Count != len(r.Messages) {
			t.Fatalf("the receive given up on counted %d messages and returned %d", r.Count, len(r.Messages))
		}
		for _, m := range r.Messages {
			got = append(got, string(m))
		}
	}
	if fmt.Sprint(got) != "[one two taken]" {
		t.Errorf("the receives given up on returned %q, want the 3 messages sent", got)
	}
}
