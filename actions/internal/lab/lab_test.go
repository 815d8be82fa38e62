package lab

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/osthread"
)

func TestNames(t *testing.T) {
	t.Parallel()
	if got := strings.Join(Names("worker", 3), ","); got != "worker-0,worker-1,worker-2" {
		t.Errorf("Names = %s", got)
	}
	if len(Names("phil", 0)) != 0 {
		t.Error("Names of none is not empty")
	}
}

func TestStandstill(t *testing.T) {
	t.Parallel()
	s := NewStandstill[int](10 * time.Second)
	t0 := time.Unix(1000, 0)
	steps := []struct {
		key  int
		at   time.Duration
		want bool
	}{
		{1, 0, false},                // first look
		{1, 9 * time.Second, false},  // not long enough
		{1, 10 * time.Second, true},  // stood still for the limit
		{2, 11 * time.Second, false}, // it moved: start again
		{2, 20 * time.Second, false},
		{2, 21 * time.Second, true},
	}
	for _, st := range steps {
		if got := s.Still(st.key, t0.Add(st.at)); got != st.want {
			t.Errorf("Still(%d) at %v = %v, want %v", st.key, st.at, got, st.want)
		}
	}
	s.Reset()
	if s.Still(2, t0.Add(100*time.Second)) {
		t.Error("Still right after Reset")
	}
}

// TestRunEndings: each way a run ends, and the error it ends with.
func TestRunEndings(t *testing.T) {
	t.Parallel()
	names := Names("w", 3)
	idle := func(_ int, th *osthread.Thread) error { return th.Idle() }

	t.Run("finished", func(t *testing.T) {
		t.Parallel()
		var ran atomic.Int32
		e, err := Run(t.Context(), "lab", names, func(int, *osthread.Thread) error { ran.Add(1); return nil }, Watch{})
		if err != nil || e.Stuck || e.Err("x") != nil || ran.Load() != 3 {
			t.Errorf("Run = %+v, %v; err %v; %d ran", e, err, e.Err("x"), ran.Load())
		}
	})
	t.Run("stuck", func(t *testing.T) {
		t.Parallel()
		looks, stopping := 0, false
		e, err := Run(t.Context(), "lab", names, idle, Watch{
			Tick:     time.Millisecond,
			Stuck:    func(time.Time) bool { looks++; return looks == 3 },
			Stopping: func() { stopping = true },
		})
		if err != nil || !e.Stuck || e.Err("x") != nil || !stopping {
			t.Errorf("Run = %+v, %v; err %v; stopping %v: want stuck, no error", e, err, e.Err("x"), stopping)
		}
	})
	t.Run("context", func(t *testing.T) {
		t.Parallel()
		cause := errors.New("time is up")
		ctx, cancel := context.WithCancelCause(t.Context())
		time.AfterFunc(10*time.Millisecond, func() { cancel(cause) })
		e, err := Run(ctx, "lab", names, idle, Watch{})
		if err != nil || !errors.Is(e.Err("2 rounds"), cause) || e.Err("2 rounds").Error() != "lab: stopped after 2 rounds: time is up" {
			t.Errorf("Run = %+v, %v; err %v", e, err, e.Err("2 rounds"))
		}
	})
	t.Run("failed", func(t *testing.T) {
		t.Parallel()
		broke := errors.New("broke")
		var failed atomic.Bool
		e, err := Run(t.Context(), "lab", names, func(i int, th *osthread.Thread) error {
			if i == 1 {
				failed.Store(true)
				return broke
			}
			return th.Idle()
		}, Watch{Tick: time.Millisecond, Stuck: func(time.Time) bool { return failed.Load() }})
		if err != nil || !errors.Is(e.Err("x"), broke) || !strings.Contains(e.Err("x").Error(), "lab: w-1: broke") {
			t.Errorf("Run = %+v, %v; err %v: want w-1's failure", e, err, e.Err("x"))
		}
	})
}
