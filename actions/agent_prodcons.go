package actions

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/prodcons"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

// agentOpWorker runs one prodcons worker inside an agent; see
// [runAgentWorker].
const agentOpWorker = "prodcons.worker"

func init() {
	handleAgent(agentOpWorker, func(ctx context.Context, args json.RawMessage, emit Emitter) (any, error) {
		return nil, runAgentWorker(ctx, agentFiles(), args, emit)
	})
}

// errNoRegion: the agent was started without the prodcons region.
var errNoRegion = errors.New("prodcons.worker: the agent was started without the shared region")

// runAgentWorker is the agent side of a processes-mode prodcons run: it maps
// the region the runner passed at spawn (the first of files), and runs the
// worker that args names on an OS thread named after it ("producer-0", so
// ps -L shows who is who), forwarding trace events with emit. The rest of
// the configuration is read from the region. It returns when the worker's
// share is done, or with the worker's error; when ctx ends first, the worker
// is cancelled at its next cancellation point.
func runAgentWorker(ctx context.Context, files []*os.File, args json.RawMessage, emit Emitter) error {
	var wa workerArgs
	if err := json.Unmarshal(args, &wa); err != nil {
		return fmt.Errorf("prodcons.worker: bad arguments %s: %w", args, err)
	}
	w := prodcons.Worker{Role: wa.Role, Index: wa.Index}
	if len(files) == 0 || files[0] == nil {
		return errNoRegion
	}
	region, err := shm.Open(files[0])
	if err != nil {
		return fmt.Errorf("prodcons.worker: %s: %w", w, err)
	}
	defer region.Close()
	var onEvent func(prodcons.Event)
	if emit != nil {
		step := []any{"step", wa.Step, "action", "prodcons"}
		if wa.StepID != "" {
			step = append(step, "step_id", wa.StepID)
		}
		onEvent = func(e prodcons.Event) {
			// at is when it happened, in the critical section: events of
			// several agents reach the log in the order their sockets
			// deliver them, so at is the timeline's order.
			emit(e.Kind, itemMessage(e.Kind), slices.Concat(step, []any{"worker", e.Worker.ThreadName(),
				"item", itemName(e.Item), "occupancy", e.Occupancy, "at", e.Time.Format(time.RFC3339Nano)})...)
		}
	}
	th, err := osthread.Start(w.ThreadName(), func(t *osthread.Thread) error {
		return prodcons.RunWorker(region, w, t, onEvent)
	})
	if err != nil {
		return fmt.Errorf("prodcons.worker: %s: %w", w, err)
	}
	select {
	case <-th.Done():
	case <-ctx.Done():
		th.Cancel() // ErrFinished if it ended meanwhile: then there is nothing to stop
	}
	// The region must outlive the thread, so the join does not give up.
	exit, err := th.Wait(context.WithoutCancel(ctx))
	if err != nil {
		return err
	}
	return exit.Err
}
