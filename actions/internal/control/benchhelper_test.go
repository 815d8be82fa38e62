package control

import (
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program/programtest"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// benchEnv selects what TestBenchHelper measures for cmd/pmbench:
// "switches N" or "exhaustive".
const benchEnv = "PMRUN_CONTROL_BENCH"

// TestBenchHelper is what cmd/pmbench's controlled-program rows run (the
// test binary, built with go test -c): with the variable set, it measures
// and prints one line of JSON. It is skipped otherwise.
func TestBenchHelper(t *testing.T) {
	what := strings.Fields(os.Getenv(benchEnv))
	if len(what) == 0 {
		t.Skip("the measurement of cmd/pmbench's controlled-program rows")
	}
	var res map[string]any
	switch what[0] {
	case "switches":
		n := 1_000_000
		if len(what) > 1 {
			n, _ = strconv.Atoi(what[1])
		}
		res = benchSwitchRow(t, n)
	case "exhaustive":
		res = benchExhaustiveRow(t)
	default:
		t.Fatalf("%s=%q: want switches N or exhaustive", benchEnv, what)
	}
	line, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(string(line))
}

// benchSwitchRow replays a schedule that alternates two threads n steps
// long, so that every step but the first is a context switch between the
// two real threads; the time includes starting and joining them, as the C
// baseline's does.
func benchSwitchRow(t *testing.T, n int) map[string]any {
	src := fmt.Sprintf("turns:\n  threads:\n    A: [{repeat: %d, do: [yield]}]\n    B: [{repeat: %d, do: [yield]}]\n", (n+2)/2, (n+1)/2)
	p := programtest.One(t, src, "turns")
	steps := make([]int, n+1)
	for i := range steps {
		steps[i] = i % 2
	}
	sched := schedule.Schedule{Program: p.Name(), Hash: p.TextHash(), Steps: steps}
	out, err := Replay(t.Context(), p, sched, Options{MaxSteps: len(steps), NoInterleaving: true})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{"switches": out.Switches, "seconds": out.Runtime.Seconds()}
}

// benchExhaustiveRow searches the reference program exhaustively: three
// workers through Downey's reusable barrier, two rounds.
func benchExhaustiveRow(t *testing.T) map[string]any {
	p := programtest.One(t, referenceBarrier, "barrier")
	start := time.Now()
	out, err := Search(t.Context(), p, Options{Scheduler: Exhaustive})
	if err != nil {
		t.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	return map[string]any{
		"states": out.States, "transitions": out.Transitions, "complete": out.Complete, "verdict": out.Verdict,
		"interleavings": out.Interleavings.String(), "seconds": secs, "runs": out.Runs,
	}
}

// referenceBarrier is Downey's reusable barrier (The Little Book of
// Semaphores, 3.7), three workers, two rounds, with a check that nobody
// leaves a round before everybody has arrived.
const referenceBarrier = `
barrier:
  vars: {count: 0, arrived: 0}
  semaphores: {mutex: 1, turnstile: 0, turnstile2: 1}
  threads:
    W:
      count: 3
      body:
        - local: round = 0
        - repeat: 2
          do:
            - atomic_set: arrived = arrived + 1
            - wait: mutex
            - set: count = count + 1
            - if: count == 3
              then: [wait: turnstile2, signal: turnstile]
            - signal: mutex
            - wait: turnstile
            - signal: turnstile
            - local: round = round + 1
            - assert: arrived >= 3 * round
            - wait: mutex
            - set: count = count - 1
            - if: count == 0
              then: [wait: turnstile, signal: turnstile2]
            - signal: mutex
            - wait: turnstile2
            - signal: turnstile2
  expect: count == 0 && arrived == 6
`
