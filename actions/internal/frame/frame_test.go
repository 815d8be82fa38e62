package frame

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// stream collects the writes an Encoder makes.
type stream struct {
	writes [][]byte
	fail   error // returned by the next write, then cleared
}

func (s *stream) write(p [][]byte) (int, error) {
	if s.fail != nil {
		err := s.fail
		s.fail = nil
		return 0, err
	}
	w := bytes.Join(p, nil)
	s.writes = append(s.writes, w)
	return len(w), nil
}

// pieces returns the writes cut where a pipe may cut them: a write of at
// most PipeBuf bytes stays whole, a longer one is cut into PipeBuf pieces.
func (s *stream) pieces(t *testing.T) [][]byte {
	t.Helper()
	var out [][]byte
	for i, w := range s.writes {
		if len(w) <= PipeBuf {
			out = append(out, w)
			continue
		}
		if len(w)%PipeBuf != 0 {
			t.Fatalf("write %d has %d bytes: more than PIPE_BUF and not a burst of full chunks", i, len(w))
		}
		for ; len(w) > 0; w = w[PipeBuf:] {
			if h, err := ParseHeader(w); err != nil || HeaderSize+int(h.Length) != PipeBuf {
				t.Fatalf("write %d: a burst holding something other than full chunks (%v)", i, err)
			}
			out = append(out, w[:PipeBuf])
		}
	}
	return out
}

func (s *stream) bytes() []byte { return bytes.Join(s.writes, nil) }

// decodeAll runs d over b and returns the messages (copied) and errors in
// the order they came.
func decodeAll(t *testing.T, d interface {
	Next([]byte, bool) (Message, int, error)
}, b []byte, eof bool) (msgs []Message, errs []error) {
	t.Helper()
	limit := 2*len(b) + 10
	for steps := 0; ; steps++ {
		if steps > limit {
			t.Fatalf("decoder makes no progress at %d bytes left", len(b))
		}
		m, n, err := d.Next(b, eof)
		b = b[n:]
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if m.Data != nil {
			m.Data = bytes.Clone(m.Data)
			msgs = append(msgs, m)
			continue
		}
		if n == 0 {
			return msgs, errs
		}
	}
}

func payload(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		msg  []byte
	}{
		{"empty", []byte{}},
		{"nul and newlines", []byte("a\x00b\n\nc\x00")},
		{"utf-8", []byte("zażółć gęślą jaźń — 日本語 🚀")},
		{"one chunk exactly", payload(PipeBuf-HeaderSize, 1)},
		{"one byte over a chunk", payload(PipeBuf-HeaderSize+1, 2)},
		{"pipe buf minus one", payload(PipeBuf-1, 3)},
		{"pipe buf", payload(PipeBuf, 4)},
		{"pipe buf plus one", payload(PipeBuf+1, 5)},
		{"one MiB", payload(1<<20, 6)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s stream
			e := NewEncoder(NewSender(42, 1), PipeLimits, s.write)
			// Split the message between head and body at every kind of
			// place: the wire must not show it. Once Encode returns,
			// the caller's memory is its own again.
			msg := bytes.Clone(tc.msg)
			cut := len(msg) / 3
			if err := e.Encode(msg[:cut], msg[cut:]); err != nil {
				t.Fatal(err)
			}
			clear(msg)
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			s.pieces(t) // checks the shape of every write
			msgs, errs := decodeAll(t, NewDecoder(16<<20, PipeBuf), s.bytes(), true)
			if len(errs) != 0 {
				t.Fatalf("errors: %v", errs)
			}
			if len(msgs) != 1 || !bytes.Equal(msgs[0].Data, tc.msg) || msgs[0].Data == nil {
				t.Fatalf("got %d messages, want the one sent", len(msgs))
			}
			if n, b := e.Sent(); n != 1 || b != int64(len(tc.msg)) {
				t.Errorf("Sent() = %d, %d; want 1, %d", n, b, len(tc.msg))
			}
		})
	}
}

func TestSmallMessagesShareWrites(t *testing.T) {
	t.Parallel()
	var s stream
	e := NewEncoder(NewSender(1, 0), PipeLimits, s.write)
	const count = 1000
	for i := range count {
		if err := e.Encode(fmt.Appendf(nil, "%08d", i), make([]byte, 56)); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	perWrite := PipeBuf / (HeaderSize + 64)
	if want := (count + perWrite - 1) / perWrite; len(s.writes) != want {
		t.Errorf("%d writes for %d messages of 64 bytes, want %d", len(s.writes), count, want)
	}
	msgs, errs := decodeAll(t, NewDecoder(1<<20, PipeBuf), s.bytes(), true)
	if len(errs) != 0 || len(msgs) != count {
		t.Fatalf("%d messages, errors %v", len(msgs), errs)
	}
	for i, m := range msgs {
		if got := string(m.Data[:8]); got != fmt.Sprintf("%08d", i) || m.Seq != uint32(i) {
			t.Fatalf("message %d is %q seq %d", i, got, m.Seq)
		}
	}
}

// TestInterleavedSenders mixes the writes of several senders the way a
// pipe may: whole writes in any order, each sender's in its own order.
func TestInterleavedSenders(t *testing.T) {
	t.Parallel()
	const senders, perSender = 4, 50
	streams := make([]stream, senders)
	var want [senders][][]byte
	for s := range senders {
		e := NewEncoder(NewSender(100+s, 0), PipeLimits, streams[s].write)
		for i := range perSender {
			msg := payload(1+(i*7919)%20000, uint64(s*1000+i))
			want[s] = append(want[s], msg)
			if err := e.Encode(nil, msg); err != nil {
				t.Fatal(err)
			}
		}
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	pieces := make([][][]byte, senders)
	for s := range streams {
		pieces[s] = streams[s].pieces(t)
	}
	r := rand.New(rand.NewPCG(7, 7))
	var wire []byte
	for {
		var live []int
		for s := range pieces {
			if len(pieces[s]) > 0 {
				live = append(live, s)
			}
		}
		if len(live) == 0 {
			break
		}
		s := live[r.IntN(len(live))]
		wire = append(wire, pieces[s][0]...)
		pieces[s] = pieces[s][1:]
	}
	msgs, errs := decodeAll(t, NewDecoder(1<<20, PipeBuf), wire, true)
	if len(errs) != 0 {
		t.Fatalf("errors: %v", errs)
	}
	var got [senders][][]byte
	for _, m := range msgs {
		s := m.Sender.PID() - 100
		got[s] = append(got[s], m.Data)
	}
	for s := range senders {
		if len(got[s]) != perSender {
			t.Fatalf("sender %d: %d messages, want %d", s, len(got[s]), perSender)
		}
		for i := range got[s] {
			if !bytes.Equal(got[s][i], want[s][i]) {
				t.Fatalf("sender %d message %d differs", s, i)
			}
		}
	}
}

// wireOf encodes msgs from one sender and returns the bytes.
func wireOf(t *testing.T, sender Sender, msgs ...[]byte) []byte {
	t.Helper()
	var s stream
	e := NewEncoder(sender, PipeLimits, s.write)
	for _, m := range msgs {
		if err := e.Encode(nil, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	return s.bytes()
}

func TestDecoderErrors(t *testing.T) {
	t.Parallel()
	a, b := NewSender(1, 0), NewSender(2, 0)
	big := payload(10000, 9)
	cases := []struct {
		name     string
		wire     func(t *testing.T) []byte
		max      int      // largest message; 0 means 1 MiB
		wantMsgs []string // message bodies, in order
		wantErrs []error
	}{
		{
			name: "flipped payload bit",
			wire: func(t *testing.T) []byte {
				w := wireOf(t, a, []byte("one"), []byte("two"))
				w[HeaderSize+1] ^= 0x10
				return w
			},
			wantMsgs: []string{"two"},
			wantErrs: []error{ErrCorrupt},
		},
		{
			name: "garbage between chunks",
			wire: func(t *testing.T) []byte {
				w := wireOf(t, a, []byte("one"))
				w = append(w, "garbage PM here"...)
				return append(w, wireOf(t, b, []byte("two"))...)
			},
			wantMsgs: []string{"one", "two"},
			wantErrs: []error{ErrCorrupt, ErrCorrupt},
		},
		{
			name: "missing message",
			wire: func(t *testing.T) []byte {
				var s stream
				e := NewEncoder(a, PipeLimits, s.write)
				for _, m := range []string{"m0", "m1", "m2"} {
					if err := e.Encode(nil, []byte(m)); err != nil {
						t.Fatal(err)
					}
					if err := e.Flush(); err != nil {
						t.Fatal(err)
					}
				}
				return append(s.writes[0], s.writes[2]...)
			},
			wantMsgs: []string{"m0", "m2"},
			wantErrs: []error{ErrSequence},
		},
		{
			name: "sender stopped mid-message then went on",
			wire: func(t *testing.T) []byte {
				var s stream
				var e *Encoder
				// The burst of full chunks is cut after its first
				// chunk: the sender gave up there.
				e = NewEncoder(a, PipeLimits, func(p [][]byte) (int, error) {
					e.flush = s.write
					s.write([][]byte{bytes.Join(p, nil)[:PipeBuf]})
					return PipeBuf, errors.New("cancelled")
				})
				if err := e.Encode(nil, big); err == nil {
					t.Fatal("Encode survived a failed write")
				}
				if err := e.Encode(nil, []byte("next")); err != nil {
					t.Fatal(err)
				}
				if err := e.Flush(); err != nil {
					t.Fatal(err)
				}
				return s.bytes()
			},
			wantMsgs: []string{"next"},
			wantErrs: []error{ErrTruncated},
		},
		{
			name: "chunks of a message whose start was not seen",
			wire: func(t *testing.T) []byte {
				var s stream
				e := NewEncoder(a, PipeLimits, s.write)
				if err := e.Encode(nil, payload(20000, 1)); err != nil {
					t.Fatal(err)
				}
				if err := e.Encode(nil, []byte("after")); err != nil {
					t.Fatal(err)
				}
				if err := e.Flush(); err != nil {
					t.Fatal(err)
				}
				return bytes.Join(s.pieces(t)[1:], nil)
			},
			wantMsgs: []string{"after"},
			wantErrs: []error{ErrSequence},
		},
		{
			name:     "message larger than allowed",
			wire:     func(t *testing.T) []byte { return wireOf(t, a, big, []byte("small")) },
			max:      8192,
			wantMsgs: []string{"small"},
			wantErrs: []error{ErrTooLarge},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.max == 0 {
				tc.max = 1 << 20
			}
			msgs, errs := decodeAll(t, NewDecoder(tc.max, PipeBuf), tc.wire(t), false)
			var got []string
			for _, m := range msgs {
				got = append(got, string(m.Data))
			}
			if strings.Join(got, "|") != strings.Join(tc.wantMsgs, "|") {
				t.Errorf("messages %q, want %q", got, tc.wantMsgs)
			}
			if len(errs) != len(tc.wantErrs) {
				t.Fatalf("errors %v, want %v", errs, tc.wantErrs)
			}
			for i := range errs {
				if !errors.Is(errs[i], tc.wantErrs[i]) {
					t.Errorf("error %d is %v, want %v", i, errs[i], tc.wantErrs[i])
				}
			}
		})
	}
}

func TestAbandon(t *testing.T) {
	t.Parallel()
	a, b := NewSender(10, 0), NewSender(11, 0)
	var sa, sb stream
	ea := NewEncoder(a, PipeLimits, sa.write)
	eb := NewEncoder(b, PipeLimits, sb.write)
	if err := ea.Encode(nil, payload(9000, 1)); err != nil {
		t.Fatal(err)
	}
	if err := eb.Encode(nil, payload(9000, 2)); err != nil {
		t.Fatal(err)
	}
	// Only the flushed bursts reach the decoder: both messages are cut.
	d := NewDecoder(1<<20, PipeBuf)
	msgs, errs := decodeAll(t, d, append(sa.bytes(), sb.bytes()...), false)
	if len(msgs) != 0 || len(errs) != 0 || d.Pending() != 2 {
		t.Fatalf("msgs %d errs %v pending %d", len(msgs), errs, d.Pending())
	}
	err := d.Abandon(func(s Sender) bool { return s == a })
	var te *TruncatedError
	if !errors.As(err, &te) || te.Sender != a || te.Got != 2*(PipeBuf-HeaderSize) || te.Total != 9000 {
		t.Fatalf("Abandon(a) = %v", err)
	}
	if d.Pending() != 1 {
		t.Fatalf("pending %d after abandoning one", d.Pending())
	}
	if err := d.Abandon(nil); !errors.Is(err, ErrTruncated) || d.Pending() != 0 {
		t.Fatalf("Abandon(nil) = %v, pending %d", err, d.Pending())
	}
	if err := d.Abandon(nil); err != nil {
		t.Fatalf("Abandon with nothing pending = %v", err)
	}
}

func TestFailedFlushReusesSequence(t *testing.T) {
	t.Parallel()
	var s stream
	e := NewEncoder(NewSender(3, 0), PipeLimits, s.write)
	for _, m := range []string{"a", "b"} {
		if err := e.Encode(nil, []byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	boom := errors.New("boom")
	s.fail = boom
	if err := e.Flush(); !errors.Is(err, boom) {
		t.Fatalf("Flush = %v", err)
	}
	if n, _ := e.Sent(); n != 0 {
		t.Fatalf("Sent() = %d after a failed write", n)
	}
	if err := e.Encode(nil, []byte("c")); err != nil {
		t.Fatal(err)
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	msgs, errs := decodeAll(t, NewDecoder(1<<10, PipeBuf), s.bytes(), true)
	if len(errs) != 0 || len(msgs) != 1 || msgs[0].Seq != 0 || string(msgs[0].Data) != "c" {
		t.Fatalf("msgs %+v errs %v; want c as message 0", msgs, errs)
	}
}

func TestEncoderRejects(t *testing.T) {
	t.Parallel()
	var s stream
	if err := NewEncoder(1, Limits{Chunk: HeaderSize}, s.write).Encode(nil, []byte("x")); err == nil {
		t.Error("a write size with no room for payload was accepted")
	}
	le := NewLineEncoder(16, s.write)
	if err := le.Encode([]byte("a\nb"), nil); !errors.Is(err, ErrNewline) {
		t.Errorf("line with newline: %v", err)
	}
	if err := le.Encode(nil, make([]byte, 16)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("16-byte line in 16-byte writes: %v", err)
	}
	if err := le.Encode(nil, []byte("123456789012345")); err != nil {
		t.Errorf("15-byte line in 16-byte writes: %v", err)
	}
}

func TestLines(t *testing.T) {
	t.Parallel()
	var s stream
	e := NewLineEncoder(PipeBuf, s.write)
	for _, l := range []string{"hello", "", "zażółć\x00x"} {
		if err := e.Encode([]byte(l), nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := string(s.bytes()); got != "hello\n\nzażółć\x00x\n" {
		t.Fatalf("wire %q", got)
	}
	cases := []struct {
		name  string
		in    string
		eof   bool
		lines []string
		errs  int
	}{
		{"plain", "a\nbb\n", false, []string{"a", "bb"}, 0},
		{"unfinished waits", "a\nbb", false, []string{"a"}, 0},
		{"unfinished at eof", "a\nbb", true, []string{"a", "bb"}, 0},
		{"too long", "0123456789\nok\n", false, []string{"ok"}, 1},
		{"too long unfinished", "0123456789abc", false, nil, 1},
		{"exactly max", "01234567\n", false, []string{"01234567"}, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msgs, errs := decodeAll(t, NewLineDecoder(8), []byte(tc.in), tc.eof)
			var got []string
			for _, m := range msgs {
				got = append(got, string(m.Data))
			}
			if strings.Join(got, "|") != strings.Join(tc.lines, "|") || len(got) != len(tc.lines) {
				t.Errorf("lines %q, want %q", got, tc.lines)
			}
			if len(errs) != tc.errs {
				t.Errorf("errors %v, want %d", errs, tc.errs)
			}
			for _, err := range errs {
				if !errors.Is(err, ErrTooLarge) {
					t.Errorf("error %v is not ErrTooLarge", err)
				}
			}
		})
	}
}

func TestLongLineSkippedAcrossReads(t *testing.T) {
	t.Parallel()
	d := NewLineDecoder(4)
	if _, n, err := d.Next([]byte("abcdef"), false); !errors.Is(err, ErrTooLarge) || n != 6 {
		t.Fatalf("first part: n=%d err=%v", n, err)
	}
	if m, n, err := d.Next([]byte("gh\nok\n"), false); err != nil || m.Data != nil || n != 3 {
		t.Fatalf("rest of long line: %q n=%d err=%v", m.Data, n, err)
	}
	if m, _, err := d.Next([]byte("ok\n"), false); err != nil || string(m.Data) != "ok" {
		t.Fatalf("next line: %q %v", m.Data, err)
	}
}

// FuzzDecoder feeds arbitrary bytes, alone and around valid chunks: the
// decoder must never panic or stall, and must still find the valid message.
func FuzzDecoder(f *testing.F) {
	valid := func() []byte {
		var s stream
		e := NewEncoder(NewSender(5, 5), PipeLimits, s.write)
		_ = e.Encode(nil, []byte("needle"))
		_ = e.Flush()
		return s.bytes()
	}()
	f.Add([]byte{})
	f.Add([]byte("PM"))
	f.Add(valid[:HeaderSize])
	f.Fuzz(func(t *testing.T, junk []byte) {
		_, _ = decodeAll(t, NewDecoder(1<<16, PipeBuf), junk, true)
		// The junk must not swallow a valid chunk placed after it,
		// unless the junk ends in what looks like the start of a chunk.
		wire := append(append(bytes.Clone(junk), 0), valid...)
		msgs, _ := decodeAll(t, NewDecoder(1<<16, PipeBuf), wire, true)
		found := false
		for _, m := range msgs {
			found = found || string(m.Data) == "needle"
		}
		if !found && !bytes.Contains(junk, []byte("PM")) {
			t.Errorf("valid chunk after %d junk bytes not found", len(junk))
		}
	})
}

func TestWriteShapes(t *testing.T) {
	t.Parallel()
	const per = PipeBuf - HeaderSize
	cases := []struct {
		name   string
		lim    Limits
		size   int
		writes []int
	}{
		{"one chunk", PipeLimits, 100, []int{HeaderSize + 100}},
		{"exactly two full chunks: one burst, flushed at once", PipeLimits, 2 * per, []int{2 * PipeBuf}},
		{"burst then tail", PipeLimits, 2*per + 10, []int{2 * PipeBuf, HeaderSize + 10}},
		{"bursts are capped", PipeLimits, 130 * per, []int{64 * PipeBuf, 64 * PipeBuf, 2 * PipeBuf}},
		{"no bursts: a write per chunk", Limits{Chunk: 1000}, 2500, []int{1000, 1000, HeaderSize + 2500 - 2*(1000-HeaderSize)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var s stream
			e := NewEncoder(1, tc.lim, s.write)
			if err := e.Encode(nil, payload(tc.size, 1)); err != nil {
				t.Fatal(err)
			}
			if err := e.Flush(); err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, w := range s.writes {
				got = append(got, len(w))
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.writes) {
				t.Fatalf("writes of %v bytes, want %v", got, tc.writes)
			}
			msgs, errs := decodeAll(t, NewDecoder(1<<20, tc.lim.Chunk), s.bytes(), true)
			if len(msgs) != 1 || len(errs) != 0 || len(msgs[0].Data) != tc.size {
				t.Fatalf("decoded %d messages, errors %v", len(msgs), errs)
			}
		})
	}
}

// TestPieces decodes interleaved senders piece by piece: putting the
// pieces together must give every message back, in order.
func TestPieces(t *testing.T) {
	t.Parallel()
	var sa, sb stream
	ea := NewEncoder(NewSender(1, 0), PipeLimits, sa.write)
	eb := NewEncoder(NewSender(2, 0), PipeLimits, sb.write)
	var want [2][][]byte
	for i := range 20 {
		for s, e := range []*Encoder{ea, eb} {
			msg := payload(i*3001%20000, uint64(100*s+i))
			want[s] = append(want[s], msg)
			if err := e.Encode(nil, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range []*Encoder{ea, eb} {
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	pa, pb := sa.pieces(t), sb.pieces(t)
	var wire []byte
	for len(pa)+len(pb) > 0 {
		if len(pa) > 0 {
			wire, pa = append(wire, pa[0]...), pa[1:]
		}
		if len(pb) > 0 {
			wire, pb = append(wire, pb[0]...), pb[1:]
		}
	}
	d := NewDecoder(1<<20, PipeBuf)
	var got [2][][]byte
	var cur [2][]byte
	for len(wire) > 0 {
		p, n, err := d.NextPiece(wire)
		if err != nil || n == 0 {
			t.Fatalf("NextPiece: n=%d err=%v", n, err)
		}
		wire = wire[n:]
		s := p.Sender.PID() - 1
		if p.Offset != len(cur[s]) {
			t.Fatalf("sender %d: piece at offset %d, have %d bytes", s, p.Offset, len(cur[s]))
		}
		cur[s] = append(cur[s], p.Data...)
		if p.Last() {
			got[s] = append(got[s], cur[s])
			cur[s] = nil
		}
	}
	for s := range want {
		if len(got[s]) != len(want[s]) {
			t.Fatalf("sender %d: %d messages, want %d", s, len(got[s]), len(want[s]))
		}
		for i := range want[s] {
			if !bytes.Equal(got[s][i], want[s][i]) {
				t.Fatalf("sender %d message %d differs", s, i)
			}
		}
	}
	if d.Pending() != 0 {
		t.Errorf("%d messages pending after the last piece", d.Pending())
	}
}

// TestPiecesThenNext: a message begun piece by piece cannot be finished
// by Next, and says so.
func TestPiecesThenNext(t *testing.T) {
	t.Parallel()
	wire := wireOf(t, NewSender(1, 0), payload(10000, 1), []byte("after"))
	d := NewDecoder(1<<20, PipeBuf)
	_, n, err := d.NextPiece(wire)
	if err != nil {
		t.Fatal(err)
	}
	msgs, errs := decodeAll(t, d, wire[n:], false)
	if len(errs) != 1 || !errors.Is(errs[0], ErrSequence) || len(msgs) != 1 || string(msgs[0].Data) != "after" {
		t.Fatalf("messages %d, errors %v", len(msgs), errs)
	}
}

// TestKeep: a Decoder whose keep function declines a message still checks
// and completes it, as a Dropped message of the right size, and puts
// together the others, while chunks of two senders alternate.
func TestKeep(t *testing.T) {
	t.Parallel()
	var sa, sb stream
	ea := NewEncoder(NewSender(1, 0), PipeLimits, sa.write)
	eb := NewEncoder(NewSender(2, 0), PipeLimits, sb.write)
	var want [2][][]byte
	for i := range 20 {
		for s, e := range []*Encoder{ea, eb} {
			msg := payload(i*3001%20000, uint64(100*s+i))
			want[s] = append(want[s], msg)
			if err := e.Encode(nil, msg); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, e := range []*Encoder{ea, eb} {
		if err := e.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	pa, pb := sa.pieces(t), sb.pieces(t)
	var wire []byte
	for len(pa)+len(pb) > 0 {
		if len(pa) > 0 {
			wire, pa = append(wire, pa[0]...), pa[1:]
		}
		if len(pb) > 0 {
			wire, pb = append(wire, pb[0]...), pb[1:]
		}
	}
	d := NewDecoder(1<<20, PipeBuf)
	var asked []int
	d.SetKeep(func(size int) bool {
		asked = append(asked, size)
		return size < 10000
	})
	var got [2][]Message
	for len(wire) > 0 {
		m, n, err := d.Next(wire, false)
		if err != nil || n == 0 {
			t.Fatalf("Next: n=%d err=%v", n, err)
		}
		wire = wire[n:]
		if m.Done() {
			m.Data = bytes.Clone(m.Data)
			got[m.Sender.PID()-1] = append(got[m.Sender.PID()-1], m)
		}
	}
	for s := range want {
		if len(got[s]) != len(want[s]) {
			t.Fatalf("sender %d: %d messages, want %d", s, len(got[s]), len(want[s]))
		}
		for i, w := range want[s] {
			m := got[s][i]
			switch {
			case m.Size != len(w):
				t.Errorf("sender %d message %d: size %d, want %d", s, i, m.Size, len(w))
			case len(w) >= 10000 && (!m.Dropped || m.Data != nil):
				t.Errorf("sender %d message %d of %d bytes kept (dropped %v)", s, i, len(w), m.Dropped)
			case len(w) < 10000 && (m.Dropped || !bytes.Equal(m.Data, w)):
				t.Errorf("sender %d message %d of %d bytes: dropped %v, or its data differs", s, i, len(w), m.Dropped)
			}
		}
	}
	for _, size := range asked {
		if size <= PipeBuf-HeaderSize {
			t.Errorf("keep asked about a message of one chunk (%d bytes)", size)
		}
	}
	if len(asked) == 0 || d.Pending() != 0 {
		t.Errorf("keep asked %d times, %d messages pending", len(asked), d.Pending())
	}
}
