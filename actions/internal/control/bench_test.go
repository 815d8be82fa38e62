package control

import (
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// roundRobin is a schedule of steps steps taken by n threads in turn.
func roundRobin(n, steps int) []int {
	out := make([]int, steps)
	for i := range out {
		out[i] = i % n
	}
	return out
}

// benchSwitches replays a round-robin schedule of program name, every step
// a context switch between real threads.
func benchSwitches(b *testing.B, name string, n int) {
	p := prog(b, name)
	steps := len(p.Threads()) * 20000
	sched := schedule.Schedule{Program: p.Name(), Hash: p.TextHash(), Steps: roundRobin(n, steps)}
	var switches int
	var elapsed time.Duration
	for b.Loop() {
		out, err := Replay(b.Context(), p, sched, Options{MaxSteps: steps + 1})
		if err != nil {
			b.Fatal(err)
		}
		switches += out.Switches
		elapsed += out.Runtime
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(switches), "ns/switch")
}

func BenchmarkSwitches2(b *testing.B) { benchSwitches(b, "alternate", 2) }
func BenchmarkSwitches3(b *testing.B) { benchSwitches(b, "alternate3", 3) }

// BenchmarkSteps replays a schedule with one switch: the cost of a step
// that needs no system call.
func BenchmarkSteps(b *testing.B) {
	p := prog(b, "alternate")
	steps := make([]int, 40000)
	for i := 20000; i < len(steps); i++ {
		steps[i] = 1
	}
	sched := schedule.Schedule{Program: p.Name(), Hash: p.TextHash(), Steps: steps}
	var n int
	var elapsed time.Duration
	for b.Loop() {
		out, err := Replay(b.Context(), p, sched, Options{MaxSteps: len(steps) + 1})
		if err != nil {
			b.Fatal(err)
		}
		n += out.Steps
		elapsed += out.Runtime
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/step")
}

// BenchmarkCrew starts and joins a crew of three threads: what a search
// would pay a run if it did not keep its threads.
func BenchmarkCrew(b *testing.B) {
	for b.Loop() {
		c, err := newCrew([]string{"W0", "W1", "W2"})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.close(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBarrierRun is one random run of the reusable barrier on a crew
// kept across the runs (about 100 steps, 40 switches).
func BenchmarkBarrierRun(b *testing.B) {
	p := prog(b, "barrier")
	const runs = 200
	var elapsed time.Duration
	n := 0
	for b.Loop() {
		out, err := Search(b.Context(), p, Options{Runs: runs, Seed: 1})
		if err != nil {
			b.Fatal(err)
		}
		elapsed += out.Runtime
		n += runs
	}
	b.ReportMetric(float64(elapsed.Nanoseconds())/float64(n), "ns/run")
}
