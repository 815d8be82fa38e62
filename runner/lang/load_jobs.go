package lang

// The loader's deferred work. Compiling expressions is most of loading a
// long file; it needs every step id and var, which collectIDs finds
// before the steps are decoded, so it runs on other CPUs while they are.
// Checking references needs every declaration: runLater runs those jobs
// once the steps are all decoded.

import (
	"runtime"
	"sync"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
)

// collectIDs names every valid step id to expressions before the steps are
// decoded (the decoding reports malformed and duplicate ids).
func (l *loader) collectIDs(sections ...*yaml.Node) {
	for _, n := range sections {
		if n == nil || n.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range n.Content {
			m := deref(item)
			if m.Kind != yaml.MappingNode {
				continue
			}
			for i := 0; i+1 < len(m.Content); i += 2 {
				if k, v := m.Content[i], deref(m.Content[i+1]); k.Kind == yaml.ScalarNode && k.Value == "id" &&
					v.Kind == yaml.ScalarNode && v.Tag != "!!null" && idPattern.MatchString(v.Value) {
					l.names.steps[v.Value] = true
				}
			}
		}
	}
}

// batchSize is how many jobs a worker takes at once: neighbouring jobs, so
// that what one step's jobs allocate (its compiled expressions) lies
// together in memory, as it would had one goroutine loaded the file, and
// running the steps in order walks memory in order.
const batchSize = 64

// compileQueue runs jobs on worker goroutines as they are added, a batch
// at a time; a file with fewer than a batch runs them in finish, on the
// loading goroutine. A queue that holds back runs them all in finish: for
// check, which keeps no program, compiling beside the decoding would only
// add its garbage to the heap while the file's YAML tree still fills it
// (a 10 MB file's check went from 290 to 330 MB), and the tree is gone by
// the time finish runs.
type compileQueue struct {
	holdBack bool
	pending  []func() []*Error
	batches  []*jobBatch
	work     chan *jobBatch
	wg       sync.WaitGroup
}

type jobBatch struct {
	jobs []func() []*Error
	errs []*Error
}

func (b *jobBatch) run() {
	for _, job := range b.jobs {
		b.errs = append(b.errs, job()...)
	}
	b.jobs = nil
}

// add queues a job.
func (q *compileQueue) add(job func() []*Error) {
	q.pending = append(q.pending, job)
	if len(q.pending)%batchSize == 0 && (!q.holdBack || q.work != nil) {
		q.send()
	}
}

// send hands the pending jobs to the workers, starting them the first time.
func (q *compileQueue) send() {
	b := &jobBatch{jobs: q.pending}
	q.pending = nil
	q.batches = append(q.batches, b)
	if q.work == nil {
		workers := min(runtime.GOMAXPROCS(0), 8)
		q.work = make(chan *jobBatch, 4*workers)
		for range workers {
			q.wg.Go(func() {
				for b := range q.work {
					b.run()
				}
			})
		}
	}
	q.work <- b
}

// finish runs what is left, waits for the workers and returns every
// job's errors, in the jobs' order.
func (q *compileQueue) finish() []*Error {
	if q.holdBack && len(q.pending) > batchSize {
		q.holdBack = false
		jobs := q.pending
		q.pending = nil
		for len(jobs) > 0 {
			n := min(batchSize, len(jobs))
			q.pending = jobs[:n:n]
			jobs = jobs[n:]
			q.send()
		}
	}
	if q.work == nil {
		b := &jobBatch{jobs: q.pending}
		b.run()
		q.pending, q.batches = nil, append(q.batches, b)
	} else {
		if len(q.pending) > 0 {
			q.send()
		}
		close(q.work)
		q.wg.Wait()
	}
	var errs []*Error
	for _, b := range q.batches {
		errs = append(errs, b.errs...)
	}
	q.batches = nil
	return errs
}

// laterInParallel is how many jobs make runLater worth its goroutines.
const laterInParallel = 256

// runLater runs the later jobs, on every CPU for a long file, and collects
// their errors in the jobs' order.
func (l *loader) runLater() {
	errs := make([][]*Error, len(l.later))
	workers := min(runtime.GOMAXPROCS(0), 8)
	if len(l.later) < laterInParallel || workers < 2 {
		workers = 1
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for first := int(next.Add(batchSize) - batchSize); first < len(l.later); first = int(next.Add(batchSize) - batchSize) {
				for i := first; i < min(first+batchSize, len(l.later)); i++ {
					errs[i] = l.later[i]()
				}
			}
		})
	}
	wg.Wait()
	for _, e := range errs {
		l.errs = append(l.errs, e...)
	}
	l.later = nil
}
