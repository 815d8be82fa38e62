package actions

import (
	"context"
	"errors"
)

// threadTable is the run's threads, in the runner and in agents.
type threadTable struct{}

func (h *Host) threadAlive(name string) bool { return false }

func (h *Host) closeThreads(ctx context.Context) error { return nil }

func (h *Host) cancelThread(ctx context.Context, name string) (Result, error) {
	return nil, errors.New("threads are not available yet")
}

func (h *Host) waitThread(ctx context.Context, name string) (Result, error) {
	return nil, errors.New("threads are not available yet")
}

func (h *Host) listThreads(ctx context.Context, in string) ([]map[string]any, error) {
	return nil, errors.New("threads are not available yet")
}
