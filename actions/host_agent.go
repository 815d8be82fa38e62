package actions

import (
	"context"
	"errors"

	"github.com/pmrun/pmrun/actions/internal/proc"
)

// agent is a pmrun agent process of the run.
type agent struct{}

func (h *Host) closeAgents(ctx context.Context) {}

func (h *Host) startAgent(ctx context.Context, name string, env map[string]string) (*proc.Process, error) {
	return nil, errors.New("agents are not available yet")
}
