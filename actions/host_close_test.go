package actions

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/place"
)

// endingPlace is a place whose threads end a few at each close: each
// CloseThreads ends perClose of them (never the stuck ones) and then
// waits for its deadline, as a slow place does, unless none is left.
type endingPlace struct {
	place.Place
	mu       sync.Mutex
	running  int
	stuck    int
	perClose int
	closes   int
}

func (p *endingPlace) CloseThreads(ctx context.Context) error {
	p.mu.Lock()
	p.closes++
	p.running = max(p.stuck, p.running-p.perClose)
	done := p.running == 0
	p.mu.Unlock()
	if done {
		return nil
	}
	<-ctx.Done()
	return ctx.Err()
}

func (p *endingPlace) Threads(context.Context) ([]place.ThreadItem, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	items := []place.ThreadItem{{TID: 1, Name: "main"}}
	for i := range p.running {
		items = append(items, place.ThreadItem{TID: i + 2, Name: "t", PMRun: true})
	}
	return items, nil
}

// TestClosePlaceWaitsWhileThreadsEnd: closing a place's threads takes as
// long as they keep ending, past the limit (a loaded machine ends
// thousands of threads slowly), and gives up, naming how many are left,
// once the limit passes with none ending.
func TestClosePlaceWaitsWhileThreadsEnd(t *testing.T) {
	t.Parallel()
	const limit = 10 * time.Millisecond
	slow := &endingPlace{running: 10, perClose: 3}
	if err := closePlace(t.Context(), slow, 10, limit); err != nil {
		t.Errorf("threads that end 3 per limit: %v", err)
	}
	if slow.closes != 4 {
		t.Errorf("%d closes of 10 threads ending 3 at a time, want 4", slow.closes)
	}
	stuck := &endingPlace{running: 10, perClose: 3, stuck: 2}
	err := closePlace(t.Context(), stuck, 10, limit)
	if err == nil || !strings.Contains(err.Error(), "2 threads have not ended, none of them in the last 10ms") {
		t.Errorf("2 threads that never end: %v", err)
	}
	if stuck.closes != 4 {
		t.Errorf("%d closes of 10 threads, 2 stuck, ending 3 at a time, want 4 (the last with none ending)", stuck.closes)
	}
}
