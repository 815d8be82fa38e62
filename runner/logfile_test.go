package runner_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmrun/pmrun/runner"
)

// recorder keeps every Write it gets, optionally slowly, so that batches
// written in the background overlap new lines.
type recorder struct {
	mu     sync.Mutex
	writes [][]byte
	delay  time.Duration
	failAt int // the 1-based write that fails, 0 for none
}

func (r *recorder) Write(p []byte) (int, error) {
	time.Sleep(r.delay)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.failAt > 0 && len(r.writes)+1 >= r.failAt {
		return 0, errors.New("disk full")
	}
	r.writes = append(r.writes, bytes.Clone(p))
	return len(p), nil
}

func (r *recorder) all() (joined string, writes int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, w := range r.writes {
		b.Write(w)
	}
	return b.String(), len(r.writes)
}

// checkWhole fails unless every write the recorder got ends a line.
func (r *recorder) checkWhole(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, w := range r.writes {
		if len(w) == 0 || w[len(w)-1] != '\n' {
			t.Fatalf("write %d does not end a line: ...%q", i, w[max(0, len(w)-20):])
		}
	}
}

// TestLineBatcherOrder: lines written faster than a slow writer takes them
// arrive whole, all of them, in order, in batches.
func TestLineBatcherOrder(t *testing.T) {
	t.Parallel()
	rec := &recorder{delay: 2 * time.Millisecond}
	b := runner.NewLineBatcher(rec, time.Hour)
	var want strings.Builder
	for i := 0; i < 20000; i++ {
		line := fmt.Sprintf("line %d %s\n", i, strings.Repeat("x", i%97))
		want.WriteString(line)
		if _, err := b.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got, writes := rec.all()
	if got != want.String() {
		t.Fatalf("got %d bytes, want %d; the lines differ or are out of order", len(got), want.Len())
	}
	if writes < 2 || writes > want.Len()/(32<<10) {
		t.Errorf("%d writes for %d bytes: not batched", writes, want.Len())
	}
	rec.checkWhole(t)
}

// TestLineBatcherConcurrent: lines from several goroutines are never torn.
func TestLineBatcherConcurrent(t *testing.T) {
	t.Parallel()
	rec := &recorder{delay: time.Millisecond}
	b := runner.NewLineBatcher(rec, 5*time.Millisecond)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i := 0; i < 5000; i++ {
				fmt.Fprintf(b, "g%d %05d %s\n", g, i, strings.Repeat("y", 50))
			}
		})
	}
	wg.Wait()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	got, _ := rec.all()
	next := map[string]int{}
	for _, line := range strings.Split(strings.TrimSuffix(got, "\n"), "\n") {
		var g string
		var i int
		if _, err := fmt.Sscanf(line, "%s %d", &g, &i); err != nil || !strings.HasSuffix(line, strings.Repeat("y", 50)) {
			t.Fatalf("torn line %q", line)
		}
		if i != next[g] {
			t.Fatalf("%s: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
	for g := 0; g < 4; g++ {
		if n := next[fmt.Sprintf("g%d", g)]; n != 5000 {
			t.Errorf("g%d: %d lines, want 5000", g, n)
		}
	}
	rec.checkWhole(t)
}

// TestLineBatcherInterval: a line is written after the interval without a
// Flush; Close ends an unterminated last line.
func TestLineBatcherInterval(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	b := runner.NewLineBatcher(rec, 10*time.Millisecond)
	fmt.Fprint(b, "first\n")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, _ := rec.all(); got == "first\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the line was not written after the interval")
		}
		time.Sleep(time.Millisecond)
	}
	fmt.Fprint(b, "half")
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := rec.all(); got != "first\nhalf\n" {
		t.Errorf("got %q", got)
	}
}

// TestLineBatcherError: a failed write, in the background or not, is
// returned by the next Write and by Close.
func TestLineBatcherError(t *testing.T) {
	t.Parallel()
	rec := &recorder{failAt: 2}
	b := runner.NewLineBatcher(rec, time.Hour)
	line := []byte(strings.Repeat("z", 1000) + "\n")
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		_, err = b.Write(line)
	}
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Write: got %v, want the writer's error", err)
	}
	if err := b.Close(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Close: got %v, want the writer's error", err)
	}
	if _, writes := rec.all(); writes != 1 {
		t.Errorf("%d writes kept, want 1", writes)
	}
}
