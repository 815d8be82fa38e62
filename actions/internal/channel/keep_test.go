package channel

import (
	"bytes"
	"runtime"
	"testing"
	"time"
)

// TestReceiveKeep: a receive that keeps only some messages keeps the first
// ones that fit (the first always, whole), and counts every one.
func TestReceiveKeep(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sizes []int
		keep  Keep
		kept  int
	}{
		{"bytes run out", []int{10, 20000, 30, 5000, 40, 50}, Keep{Messages: 10, Bytes: 20035}, 2},
		{"messages run out", []int{10, 20000, 30, 5000, 40, 50}, Keep{Messages: 3, Bytes: 1 << 20}, 3},
		{"the first is kept whole", []int{20000, 10}, Keep{Messages: 5, Bytes: 100}, 1},
		{"everything fits", []int{1, 2, 3}, Keep{Messages: 3, Bytes: 6}, 3},
	}
	for _, kind := range kinds {
		for _, tc := range tests {
			t.Run(string(kind)+"/"+tc.name, func(t *testing.T) {
				t.Parallel()
				c := newTestChannel(t, "keep", Options{Kind: kind})
				var msgs [][]byte
				var total int64
				for i, n := range tc.sizes {
					msgs = append(msgs, randomBytes(n, uint64(i)))
					total += int64(n)
				}
				sent := sendAsync(t.Context(), peer(t, c), msgs...)
				kept, st, err := c.ReceiveKeep(t.Context(), len(msgs), time.Minute, tc.keep)
				if err != nil || <-sent != nil {
					t.Fatalf("ReceiveKeep: %v", err)
				}
				if st.Messages != len(msgs) || st.Bytes != total {
					t.Errorf("counted %d messages, %d bytes; want %d, %d", st.Messages, st.Bytes, len(msgs), total)
				}
				if len(kept) != tc.kept {
					t.Fatalf("kept %d messages, want %d", len(kept), tc.kept)
				}
				for i := range kept {
					if !bytes.Equal(kept[i], msgs[i]) {
						t.Errorf("kept message %d differs from the message sent %d-th", i, i)
					}
				}
			})
		}
	}
}

// TestReceiveKeepDoesNotCopy: messages a receive does not keep are not
// put together in memory: receiving 16 MiB of them allocates far less.
func TestReceiveKeepDoesNotCopy(t *testing.T) {
	c := newTestChannel(t, "big", Options{})
	const count, size = 256, 64 << 10
	msg := randomBytes(size, 1)
	msgs := make([][]byte, count)
	for i := range msgs {
		msgs[i] = msg
	}
	// Warm up: the sender's and the receiver's buffers are made once.
	sent := sendAsync(t.Context(), peer(t, c), msg)
	if _, _, err := c.ReceiveKeep(t.Context(), 1, time.Minute, Keep{}); err != nil || <-sent != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sent = sendAsync(t.Context(), peer(t, c), msgs...)
	kept, st, err := c.ReceiveKeep(t.Context(), count, time.Minute, Keep{Messages: 1, Bytes: 1})
	if err != nil || <-sent != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if st.Messages != count || len(kept) != 1 {
		t.Fatalf("received %d, kept %d", st.Messages, len(kept))
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > count*size/4 {
		t.Errorf("receiving %d messages of %d bytes, keeping one, allocated %d bytes", count, size, alloc)
	}
}
