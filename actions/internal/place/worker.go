package place

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/actions/internal/osthread"
	"github.com/pmrun/pmrun/actions/internal/prodcons"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

// WorkerArgs is what the runner sends an agent to run one prodcons
// worker; the rest of the configuration is in the shared region. Step and
// StepID let the agent's trace events carry the step's fields, as those of
// threads mode do.
type WorkerArgs struct {
	Role   prodcons.Role `json:"role"`
	Index  int           `json:"index"`
	Step   int           `json:"step"`
	StepID string        `json:"step_id,omitempty"`
}

// errNoRegion: the agent was started without the prodcons region.
var errNoRegion = errors.New("prodcons.worker: the agent was started without the shared region")

// runWorker is the agent side of a processes-mode prodcons run: it maps
// the region the runner passed at spawn (the first of files), and runs the
// worker that wa names on an OS thread named after it ("producer-0", so
// ps -L shows who is who), forwarding trace events with emit. It returns
// when the worker's share is done, or with the worker's error (without the
// worker's name: the runner's side names it); when ctx ends first, the
// worker is cancelled at its next cancellation point.
func runWorker(ctx context.Context, files []*os.File, wa WorkerArgs, emit Emitter) error {
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
		step := contract.AppendStepFields(nil, wa.Step, "prodcons", wa.StepID)
		onEvent = func(e prodcons.Event) {
			// at is when it happened, in the critical section: events of
			// several agents reach the log in the order their sockets
			// deliver them, so at is the timeline's order.
			emit(e.Kind, e.Message(), slices.Concat(step, []any{"worker", e.Worker.ThreadName(),
				"item", e.Item.String(), "occupancy", e.Occupancy, "buffer", e.Buffer, "at", e.Time.Format(time.RFC3339Nano)})...)
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
