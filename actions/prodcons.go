package actions

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/pmrun/pmrun/actions/internal/agent"
	"github.com/pmrun/pmrun/actions/internal/place"
	"github.com/pmrun/pmrun/actions/internal/proc"
	"github.com/pmrun/pmrun/actions/internal/prodcons"
	"github.com/pmrun/pmrun/actions/internal/shm"
)

func init() {
	register(&Spec{
		Name: "prodcons",
		Summary: "Producers and consumers over a bounded buffer guarded by the semaphores mutex, empty and filled, as threads or agent processes; " +
			"checks that each item was consumed once. A worker that dies fails the step; under sync: none a violation is reported (ok: false), not a failure.",
		Params: []Param{
			{Name: "producers", Kind: Int, Default: 1, Min: intp(1), Max: intp(prodcons.MaxWorkers), Doc: "how many producers"},
			{Name: "consumers", Kind: Int, Default: 1, Min: intp(1), Max: intp(prodcons.MaxWorkers), Doc: "how many consumers"},
			{Name: "buffer", Kind: Int, Default: 5, Min: intp(1), Max: intp(prodcons.MaxBuffer), Doc: "slots in the ring buffer"},
			{Name: "items", Kind: Int, Default: 10, Min: intp(1), Max: intp(prodcons.MaxItems), Doc: "items in all, shared out between the producers"},
			{Name: "mode", Kind: String, Default: modeThreads, Enum: []string{modeThreads, modeProcesses},
				Doc: "threads: workers are OS threads of the runner; processes: each worker is an agent process, the buffer in shared memory"},
			{Name: "produce_time", Kind: Duration, Doc: "work a producer does for each item before putting it in"},
			{Name: "consume_time", Kind: Duration, Doc: "work a consumer does with each item after taking it out"},
			{Name: "jitter", Kind: Duration, Doc: "a random extra delay up to this much on each produce and consume, drawn from the run's seed, so a seed repeats the delays"},
			{Name: "sync", Kind: String, Default: prodcons.SyncSemaphores, Enum: []string{prodcons.SyncSemaphores, prodcons.SyncNone},
				Doc: "semaphores: a broken invariant fails the step; none: no guards, to show the race on purpose: lost and duplicated items are reported (ok: false) without failing the step"},
			{Name: "trace", Kind: Bool, Default: false, Doc: "log an item_produced and an item_consumed event (worker, item, occupancy, buffer) for every item"},
		},
		Results: fieldsOf[prodconsResult](),
		Events:  prodconsEvents,
		New:     newProdcons,
	})
}

const (
	modeThreads   = "threads"
	modeProcesses = "processes"
)

// prodconsResult is what a prodcons run found.
type prodconsResult struct {
	OK            bool          `result:"ok" doc:"every item produced and consumed exactly once, occupancy always within [0, buffer]"`
	Produced      int           `result:"produced" doc:"items put into the buffer"`
	Consumed      int           `result:"consumed" doc:"items taken out, duplicates included"`
	Lost          int           `result:"lost" doc:"items never consumed (or never produced)"`
	Duplicates    int           `result:"duplicates" doc:"consumptions beyond the first of an item"`
	MaxOccupancy  int           `result:"max_occupancy" doc:"the most items the buffer held at once"`
	Overflow      int           `result:"overflow" doc:"steps that left the occupancy outside [0, buffer]"`
	Throughput    float64       `result:"throughput" doc:"items consumed per second of runtime"`
	Runtime       time.Duration `result:"runtime" doc:"from the moment every worker had started to the last one's end (duration is the whole step, start-up included)"`
	ProducerWaits int           `result:"producer_waits" doc:"times a producer found the buffer full and blocked on empty (sync: none: polls of a full buffer)"`
	ConsumerWaits int           `result:"consumer_waits" doc:"times a consumer found the buffer empty and blocked on filled (sync: none: polls of an empty buffer)"`
	PerProducer   []int         `result:"per_producer" doc:"items each producer made, by producer index"`
	PerConsumer   []int         `result:"per_consumer" doc:"items each consumer took, by consumer index"`
	Workers       []string      `result:"workers" doc:"processes: the agents' names, producers first (<step>.producer-0, …); threads: the thread names"`
}

type prodconsStep struct {
	cfg  prodcons.Config
	mode string
}

func newProdcons(a Args) (Action, error) {
	return &prodconsStep{
		mode: a.String("mode"),
		cfg: prodcons.Config{
			Producers:   a.Int("producers"),
			Consumers:   a.Int("consumers"),
			Buffer:      a.Int("buffer"),
			Items:       a.Int("items"),
			ProduceTime: a.Duration("produce_time"),
			ConsumeTime: a.Duration("consume_time"),
			Jitter:      a.Duration("jitter"),
			Sync:        a.String("sync"),
			Trace:       a.Bool("trace"),
		},
	}, nil
}

func (p *prodconsStep) Run(ctx context.Context, env *Env) (Result, error) {
	cfg := p.cfg
	cfg.Seed = env.Seed()
	var res prodcons.Result
	var names []string
	var err error
	if p.mode == modeProcesses {
		names, err = agentNames(env, cfg)
		if err == nil {
			res, err = prodcons.RunProcesses(ctx, cfg, workerLauncher(env, names, cfg.Producers))
		}
	} else {
		if cfg.Trace {
			cfg.OnEvent = func(e prodcons.Event) {
				env.Event(e.Kind, e.Message(), "worker", e.Worker.ThreadName(),
					"item", e.Item.String(), "occupancy", e.Occupancy, "buffer", e.Buffer)
			}
		}
		for _, w := range workersOf(cfg) {
			names = append(names, w.ThreadName())
		}
		restore := raiseProcs(cfg.Producers + cfg.Consumers)
		res, err = prodcons.Run(ctx, cfg)
		restore()
	}
	out := resultOf(prodconsResult{
		OK: res.OK, Produced: res.Produced, Consumed: res.Consumed, Lost: res.Lost, Duplicates: res.Duplicates,
		MaxOccupancy: res.MaxOccupancy, Overflow: res.Overflow, Throughput: res.Throughput, Runtime: res.Duration,
		ProducerWaits: res.ProducerWaits, ConsumerWaits: res.ConsumerWaits,
		PerProducer: res.PerProducer, PerConsumer: res.PerConsumer, Workers: names,
	})
	if err != nil {
		return out, err
	}
	if !res.OK && cfg.Sync == prodcons.SyncSemaphores {
		return out, fmt.Errorf("prodcons: invariants broken under sync: semaphores: %d of %d items produced, %d lost, %d duplicated, occupancy left [0, %d] %d times",
			res.Produced, cfg.Items, res.Lost, res.Duplicates, cfg.Buffer, res.Overflow)
	}
	return out, nil
}

// workersOf lists the workers of cfg, producers first, as the result's
// workers field and per_producer, per_consumer order them.
func workersOf(cfg prodcons.Config) []prodcons.Worker {
	ws := make([]prodcons.Worker, 0, cfg.Producers+cfg.Consumers)
	for i := range cfg.Producers {
		ws = append(ws, prodcons.Worker{Role: prodcons.Producer, Index: i})
	}
	for i := range cfg.Consumers {
		ws = append(ws, prodcons.Worker{Role: prodcons.Consumer, Index: i})
	}
	return ws
}

// agentNames chooses the names of a processes-mode run's worker agents:
// "<step id>.producer-0", or "step3.producer-0" for a step without an id.
// A retried step's agents of the earlier attempt keep their names in the
// run's process table, so later attempts add "-2", "-3", ….
func agentNames(env *Env, cfg prodcons.Config) ([]string, error) {
	label := env.StepID
	if label == "" {
		label = fmt.Sprintf("step%d", env.Step)
	}
	for attempt := 1; ; attempt++ {
		prefix := label
		if attempt > 1 {
			prefix = fmt.Sprintf("%s-%d", label, attempt)
		}
		var names []string
		taken := false
		for _, w := range workersOf(cfg) {
			name := prefix + "." + w.ThreadName()
			if _, err := hostOf(env).process(name); err == nil {
				taken = true
				break
			}
			names = append(names, name)
		}
		if !taken {
			return names, nil
		}
		if attempt > 1000 {
			return nil, fmt.Errorf("prodcons: no free agent names for %s", label)
		}
	}
}

// agentStopGrace is how long a worker agent that has finished its share
// gets to exit when asked, and then on SIGTERM, before it is killed.
const agentStopGrace = time.Second

// stopWorkerAgent asks a worker agent to exit, so that it ends with status 0,
// and terminates it if it does not; an agent that has already died just
// gives its exit.
func stopWorkerAgent(ctx context.Context, a *place.Agent, p *proc.Process) (proc.Exit, error) {
	if err := a.Exit(ctx); err == nil {
		wctx, cancel := context.WithTimeout(ctx, agentStopGrace)
		exit, err := p.Wait(wctx)
		cancel()
		if err == nil {
			return exit, nil
		}
	}
	return p.Terminate(ctx, syscall.SIGTERM, agentStopGrace)
}

// workerLauncher starts each worker as an agent of the run, hands it the
// region's memfd and drives it with the prodcons.worker operation. The
// agent is stopped once its worker has returned, so nothing outlives the
// step.
func workerLauncher(env *Env, names []string, producers int) prodcons.Launcher {
	return func(ctx context.Context, w prodcons.Worker, region *shm.Region) (func(context.Context) error, error) {
		name := names[w.Index]
		if w.Role == prodcons.Consumer {
			name = names[producers+w.Index]
		}
		p, err := hostOf(env).startAgent(ctx, name, nil, region.File())
		if err != nil {
			return nil, fmt.Errorf("agent %s: %w", name, err)
		}
		a, err := hostOf(env).agent(name)
		if err != nil {
			return nil, err
		}
		called := make(chan error, 1)
		go func() {
			// The call's context is not the step's: on a timeout or an
			// abort the coordinator stops the worker through the region
			// first, and only kills the agent (below) when it does not stop.
			called <- a.RunWorker(context.WithoutCancel(ctx), place.WorkerArgs{Role: w.Role, Index: w.Index, Step: env.Step, StepID: env.StepID})
		}()
		return func(ctx context.Context) error {
			var err error
			select {
			case err = <-called:
			case <-ctx.Done():
				p.Signal(syscall.SIGKILL)
				<-p.Done()
				<-called
				return fmt.Errorf("agent %s (pid %d) killed: it did not stop when asked", name, p.PID())
			}
			// The worker is done (or failed): the agent has nothing left to do.
			exit, terr := stopWorkerAgent(context.WithoutCancel(ctx), a, p)
			switch {
			case err == nil:
				return terr
			case terr == nil && exit.Signal != "":
				// Killed behind our back: the call's error says the same.
				return fmt.Errorf("agent %s (pid %d) killed by %s", name, p.PID(), exit.Signal)
			}
			var remote *agent.RemoteError
			if errors.As(err, &remote) {
				// The worker's own error, which the agent sends without
				// the worker's name (prodcons adds it); its sentinels
				// still match.
				return place.Errorf(err, "agent %s (pid %d): %s", name, p.PID(), remote.Message)
			}
			return fmt.Errorf("agent %s (pid %d): %w", name, p.PID(), err)
		}, nil
	}
}

// Threads mode and GOMAXPROCS. Every worker is a goroutine locked to its
// own OS thread, and a locked thread can only run Go code while it holds
// one of the runtime's GOMAXPROCS Ps. With GOMAXPROCS at the CPU count and
// more workers than that, a worker woken from a futex wait often finds every
// P taken and waits for the Go scheduler to hand it one, on top of the
// kernel's scheduling; a C program's threads only have the kernel's. So,
// while a threads-mode run goes, the action raises GOMAXPROCS by the number
// of its workers: each can hold a P, and the kernel alone decides who runs,
// as it does for C threads. Measured on 2 CPUs, 1,000,000 items, buffer 16
// (medians of 5 to 15 interleaved runs; the rate against the C program's):
//
//	shape   GOMAXPROCS 2   3      4      2+workers
//	1P/1C   0.84×          —      1.07×  1.07×
//	4P/4C   0.81×          0.53×  0.65×  0.97–1.01×
//	6P/6C   0.94×          —      —      1.13×
//	8P/8C   0.65×          —      —      0.79×
//	8P/2C   1.4–1.8×       1.0×   1.03×  0.7–0.9×
//	2P/8C   1.9×           —      —      0.97×
//
// A P for every worker keeps pmrun level with C. Partway is the worst. With
// one side much larger than the other, the P limit happens to be the better
// throttle (the crowd of waiting producers queues for a P instead of
// crowding the consumers off the mutex), but that is the Go scheduler's
// doing, not the semaphores', and a lab compares threads scheduled by the
// kernel. A run's workers each get a P up to maxRaisedWorkers, over all
// threads-mode runs going at once; beyond it, GOMAXPROCS stays as it is.
// GOMAXPROCS is process-wide: concurrent runs add up, and the last to end
// restores it.

// maxRaisedWorkers is the most workers, over all threads-mode runs going at
// once, that get a P each; beyond it, GOMAXPROCS stays as it is. Many more
// Ps than CPUs would also make the garbage collector start many workers.
var maxRaisedWorkers = max(16, 8*runtime.NumCPU())

var procs struct {
	sync.Mutex
	extra int // Ps the runs going now asked for
	base  int // GOMAXPROCS before the first of them
}

// raiseProcs raises GOMAXPROCS by workers for the caller's run, unless that
// would give more than maxRaisedWorkers workers a P, and returns the
// function that gives them back.
func raiseProcs(workers int) (restore func()) {
	procs.Lock()
	defer procs.Unlock()
	if procs.extra+workers > maxRaisedWorkers {
		return func() {}
	}
	if procs.extra == 0 {
		procs.base = runtime.GOMAXPROCS(0)
	}
	procs.extra += workers
	runtime.GOMAXPROCS(procs.base + procs.extra)
	var once sync.Once
	return func() {
		once.Do(func() {
			procs.Lock()
			defer procs.Unlock()
			procs.extra -= workers
			switch {
			case procs.extra > 0:
				runtime.GOMAXPROCS(procs.base + procs.extra)
			case os.Getenv("GOMAXPROCS") == "":
				// Back to the runtime's own choice, which follows the CPU
				// count and cgroup limits; an explicit setting would stop
				// that for the rest of the process.
				runtime.SetDefaultGOMAXPROCS()
			default:
				runtime.GOMAXPROCS(procs.base)
			}
		})
	}
}

// prodconsEvents draw each worker on a row of its own, a mark for every
// item it produced or consumed (with trace), and print them with -v.
var prodconsEvents = []*Event{
	{
		Name: prodcons.ItemProduced, Row: prodconsRow,
		Mark:    &Mark{Label: Text("produced {item} (occupancy {occupancy})"), Color: outColor, Legend: "item produced"},
		Console: Text("{worker} produced {item} (buffer {occupancy}/{buffer})"),
		Count:   &Count{Noun: "items produced"},
		Gauge:   occupancy,
	},
	{
		Name: prodcons.ItemConsumed, Row: prodconsRow,
		Mark:    &Mark{Label: Text("consumed {item} (occupancy {occupancy})"), Color: inColor, Legend: "item consumed"},
		Console: Text("{worker} consumed {item} (buffer {occupancy}/{buffer})"),
		Count:   &Count{Noun: "items consumed"},
		Gauge:   occupancy,
	},
}

// occupancy draws how full the buffer is, item by item.
var occupancy = &Gauge{Label: "buffer occupancy", Field: "occupancy", Max: "buffer", Color: "#6a5acd", Legend: "items in the buffer"}

var prodconsRow = Row{Kind: WorkerRow, Key: []string{"worker"}, Label: Text("prodcons {worker}")}
