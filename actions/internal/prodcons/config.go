// Package prodcons is the producer-consumer engine behind the prodcons
// action: a bounded ring buffer guarded by three counting semaphores, mutex,
// empty and filled, that producers fill with numbered items and consumers
// drain, while the engine checks the invariants: every item consumed exactly
// once, occupancy always within [0, buffer].
//
// Everything the workers share lives in one [shm.Region]: the semaphores,
// the ring, the per-item consumption counters and the per-worker statistics.
// The same worker code therefore runs as threads of this process ([Run]) or
// as separate processes ([RunProcesses] with a [Launcher], each process
// calling [RunWorker]).
//
// With Sync "none" the guards are removed on purpose, and the windows between
// reading and writing the shared indexes widened, so that lost and
// duplicated items show up: the classic lab. The race is logical, not a Go
// data race: every shared word is still read and written atomically, only
// the read-modify-write sequences are not.
package prodcons

import (
	"errors"
	"fmt"
	"time"
)

// Sync modes.
const (
	SyncSemaphores = "semaphores" // mutex, empty and filled guard the buffer
	SyncNone       = "none"       // no guards: busy waiting and racy updates
)

// Limits that keep a configuration's shared memory and thread count sane.
const (
	MaxWorkers = 1024      // producers, and consumers, each
	MaxBuffer  = 1 << 24   // ring slots
	MaxItems   = 100000000 // 400 MB of per-item counters
)

// Config describes one producer-consumer run.
type Config struct {
	Producers int // default 1
	Consumers int // default 1
	Buffer    int // ring slots, default 5
	Items     int // total, split between producers; default 10

	ProduceTime time.Duration // each producer's work per item
	ConsumeTime time.Duration // each consumer's work per item
	// Jitter adds a random delay in [0, Jitter] to each produce and consume
	// step, drawn from a generator seeded with Seed and the worker, so the
	// same seed repeats the same delays.
	Jitter time.Duration
	Seed   int64

	Sync  string // SyncSemaphores (default) or SyncNone
	Trace bool   // call OnEvent for every item produced and consumed

	// OnEvent receives trace events. Workers call it concurrently, from their
	// own threads, so it must be safe for that and quick.
	OnEvent func(Event) `json:"-"`
}

// ErrConfig is matched by every configuration error.
var ErrConfig = errors.New("prodcons: invalid configuration")

// withDefaults fills in the prodcons action's defaults (README, Actions)
// and checks the result.
func (c Config) withDefaults() (Config, error) {
	if c.Producers == 0 {
		c.Producers = 1
	}
	if c.Consumers == 0 {
		c.Consumers = 1
	}
	if c.Buffer == 0 {
		c.Buffer = 5
	}
	if c.Items == 0 {
		c.Items = 10
	}
	if c.Sync == "" {
		c.Sync = SyncSemaphores
	}
	return c, c.validate()
}

func (c Config) validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...))
	}
	if c.Producers < 1 || c.Producers > MaxWorkers {
		bad("producers %d not in [1, %d]", c.Producers, MaxWorkers)
	}
	if c.Consumers < 1 || c.Consumers > MaxWorkers {
		bad("consumers %d not in [1, %d]", c.Consumers, MaxWorkers)
	}
	if c.Buffer < 1 || c.Buffer > MaxBuffer {
		bad("buffer %d not in [1, %d]", c.Buffer, MaxBuffer)
	}
	if c.Items < 0 || c.Items > MaxItems {
		bad("items %d not in [0, %d]", c.Items, MaxItems)
	}
	if c.ProduceTime < 0 || c.ConsumeTime < 0 || c.Jitter < 0 {
		bad("negative produce_time, consume_time or jitter")
	}
	if c.Sync != SyncSemaphores && c.Sync != SyncNone {
		bad("sync %q is neither %q nor %q", c.Sync, SyncSemaphores, SyncNone)
	}
	return errors.Join(errs...)
}

// Role is what a worker does.
type Role string

// The two roles.
const (
	Producer Role = "producer"
	Consumer Role = "consumer"
)

// Worker names one worker of a run: producer 0, consumer 3, …
type Worker struct {
	Role  Role
	Index int
}

// String is the worker's name in reports: "producer 2".
func (w Worker) String() string { return fmt.Sprintf("%s %d", w.Role, w.Index) }

// ThreadName is the worker's kernel thread name, short enough (at most 15
// bytes for indexes below 100000) to survive PR_SET_NAME: "producer-2".
func (w Worker) ThreadName() string { return fmt.Sprintf("%s-%d", w.Role, w.Index) }

// Item identifies an item: the Seq-th (from 0) item of producer Producer.
type Item struct {
	Producer int
	Seq      int
}

// String is how events name an item: the producer and the producer's
// sequence number, "p1#7".
func (it Item) String() string { return fmt.Sprintf("p%d#%d", it.Producer, it.Seq) }

// Event kinds, as the structured log names them.
const (
	ItemProduced = "item_produced"
	ItemConsumed = "item_consumed"
)

// Event is one trace event: an item put into or taken out of the buffer.
type Event struct {
	Kind      string // ItemProduced or ItemConsumed
	Worker    Worker
	Item      Item
	Occupancy int // items in the buffer right after this step
	Buffer    int // the buffer's slots, which occupancy should stay within
	Time      time.Time
}

// Message is the event's message in the log.
func (e Event) Message() string {
	if e.Kind == ItemProduced {
		return "item produced"
	}
	return "item consumed"
}

// Result is what a run found; the prodcons action's result fields are
// made of it.
type Result struct {
	OK            bool // every item consumed exactly once, occupancy within [0, buffer]
	Produced      int
	Consumed      int // items taken out of the buffer, duplicates included
	Lost          int // items never consumed
	Duplicates    int // consumptions beyond the first of an item
	MaxOccupancy  int
	Overflow      int     // steps that left the occupancy outside [0, buffer]
	Throughput    float64 // items consumed per second
	Duration      time.Duration
	ProducerWaits int // times a producer blocked on empty
	ConsumerWaits int // times a consumer blocked on filled
	PerProducer   []int
	PerConsumer   []int
}
