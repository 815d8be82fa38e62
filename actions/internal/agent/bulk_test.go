package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// bulkValue is a call's arguments or result with bulk bytes.
type bulkValue struct {
	Name string   `json:"name"`
	Data [][]byte `json:"-"`
}

func (v bulkValue) BulkParts() [][]byte { return v.Data }

func (v *bulkValue) SetBulkParts(p [][]byte) error {
	v.Data = p
	return nil
}

func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// TestLargeMessages: calls and replies of any size, up to 16 MiB of bulk
// bytes and JSON of several packets, go both ways whole, while small calls
// and events go on beside them on the same connection.
func TestLargeMessages(t *testing.T) {
	t.Parallel()
	ticks := 0
	var mu sync.Mutex
	c, _ := spawnAgent(t, ClientOptions{OnEvent: func(ev Event) {
		mu.Lock()
		ticks++
		mu.Unlock()
	}})
	big := randomBytes(16<<20, 1)
	values := []bulkValue{
		{Name: "16 MiB", Data: [][]byte{big}},
		{Name: "parts of every size", Data: [][]byte{{}, randomBytes(1, 2), randomBytes(MaxPacket, 3), randomBytes(MaxPacket+1, 4), {}}},
		{Name: strings.Repeat("a name of 300 KiB in JSON ", 12<<10)},
		{Name: "small", Data: [][]byte{[]byte("x\n\x00y")}},
		{Name: "one empty part", Data: [][]byte{{}}},
	}
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for _, v := range values {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var got bulkValue
			if err := c.Call(t.Context(), "test.bulk", v, &got); err != nil {
				errs <- fmt.Errorf("%.20s: %w", v.Name, err)
				return
			}
			if got.Name != v.Name || len(got.Data) != len(v.Data) {
				errs <- fmt.Errorf("%.20s: came back as %.20q with %d parts", v.Name, got.Name, len(got.Data))
				return
			}
			for i := range v.Data {
				if !bytes.Equal(got.Data[i], v.Data[i]) {
					errs <- fmt.Errorf("%.20s: part %d differs", v.Name, i)
				}
			}
		}()
	}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n int
			if err := c.Call(t.Context(), "test.emit", 50, &n); err != nil || n != 50 {
				errs <- fmt.Errorf("emit %d: %d, %v", i, n, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if ticks != 20*50 {
		t.Errorf("%d events, want %d", ticks, 20*50)
	}
}

// TestCancelledCallGetsAnswer: a call given up on still gets what the
// handler did before it stopped, such as the messages a receive took.
func TestCancelledCallGetsAnswer(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("the step's time ran out")
	c, _ := spawnAgent(t, ClientOptions{OnEvent: func(ev Event) {
		if ev.Name == "waiting" {
			cancel(stop)
		}
	}})
	var got bulkValue
	err := c.Call(ctx, "test.partial", nil, &got)
	if !errors.Is(err, stop) {
		t.Errorf("cancelled call: %v, want the context's cause", err)
	}
	if got.Name != "partial" || len(got.Data) != 1 || string(got.Data[0]) != "taken" {
		t.Errorf("the handler's answer came back as %q %q, want partial and taken", got.Name, got.Data)
	}
}

// TestHeaderTooLarge: a header announcing a message past MaxMessage is an
// error, not an allocation.
func TestHeaderTooLarge(t *testing.T) {
	t.Parallel()
	a, b, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	conn, err := NewConn(a)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	hdr := fmt.Appendf(nil, `{"more":%d}`, MaxMessage+1)
	if err := unix.Sendmsg(int(b.Fd()), hdr, nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := conn.recv(); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("recv = %v, want the size refused", err)
	}
}

// BenchmarkLargeCall sends a message to the agent and back: as bulk bytes
// beside the JSON, and, to compare, as a []byte inside it (base64).
func BenchmarkLargeCall(b *testing.B) {
	c, _ := spawnAgent(b, ClientOptions{})
	for _, size := range []int{64 << 10, 1 << 20, 16 << 20} {
		data := randomBytes(size, 5)
		b.Run(fmt.Sprintf("bulk/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(2 * size))
			for b.Loop() {
				var got bulkValue
				if err := c.Call(b.Context(), "test.bulk", bulkValue{Data: [][]byte{data}}, &got); err != nil || len(got.Data[0]) != size {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("json/%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(2 * size))
			for b.Loop() {
				var got []byte
				if err := c.Call(b.Context(), "test.echo", data, &got); err != nil || len(got) != size {
					b.Fatal(err)
				}
			}
		})
	}
}
