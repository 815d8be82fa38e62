package native

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/control"
	pl "github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// benchEnv selects what TestBenchHelper measures for cmd/pmbench:
// "switches N SRC" (SRC passes a turn between two threads N times and
// prints the seconds it took), "runs N SRC" (N controlled runs of SRC's
// program) or "plain N SRC" (N plain executions of it, through a process
// table as a controlled run's are).
const benchEnv = "PMRUN_NATIVE_BENCH"

// TestBenchHelper is what cmd/pmbench's rows of real programs run (this
// test binary, built with go test -c): with the variable set, it measures
// and prints one line of JSON. It is skipped otherwise.
func TestBenchHelper(t *testing.T) {
	what := strings.Fields(os.Getenv(benchEnv))
	if len(what) != 3 {
		t.Skip("the measurement of cmd/pmbench's rows of real programs")
	}
	n, err := strconv.Atoi(what[1])
	if err != nil {
		t.Fatalf("%s=%q: want MODE N SRC", benchEnv, what)
	}
	bin := compileFile(t, what[2])
	var res map[string]any
	switch what[0] {
	case "switches":
		res = benchSwitches(t, bin, n)
	case "runs":
		res = benchRuns(t, bin, n)
	case "plain":
		res = benchPlain(t, bin, n)
	default:
		t.Fatalf("%s=%q: want switches, runs or plain", benchEnv, what)
	}
	line, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(string(line))
}

// compileFile compiles a C file given by its path into the test's
// folder, -O2 as the baselines are.
func compileFile(t *testing.T, src string) string {
	cc, err := pl.Compiler()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), strings.TrimSuffix(filepath.Base(src), ".c"))
	runPlain(t, []string{cc, "-O2", "-g", "-pthread", "-o", bin, src})
	return bin
}

func runPlain(t *testing.T, argv []string) proc.Exit {
	tab, err := proc.NewTable(proc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close(context.Background(), time.Second)
	p, err := tab.Start(proc.Spec{Name: "x", Argv: argv})
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.Wait(t.Context())
	if err != nil || !e.Success {
		t.Fatalf("%v: %v\n%s", argv, err, e.Stderr)
	}
	return e
}

// benchSwitches runs the turn-passing program once under control: every
// turn is a context switch between its two threads, each made of a
// sem_post and a sem_wait that pmrun lets go. The seconds are the
// program's own, from its threads' creation to their join.
func benchSwitches(t *testing.T, bin string, n int) map[string]any {
	p, err := Prepare(t.Context(), Config{Argv: []string{bin, strconv.Itoa(n)}, Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	out, err := search(t, p, Expect{}, control.Options{Runs: 1, MaxSteps: 4*n + 100, NoInterleaving: true})
	if err != nil || !out.OK {
		t.Fatalf("%v %v", err, out.Failure)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(out.exit.Stdout), 64)
	if err != nil {
		t.Fatalf("the program printed %q", out.exit.Stdout)
	}
	return map[string]any{"switches": out.Switches, "steps": out.Steps, "seconds": secs}
}

// benchRuns makes n controlled runs of the program, one search.
func benchRuns(t *testing.T, bin string, n int) map[string]any {
	p, err := Prepare(t.Context(), Config{Argv: []string{bin}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, err := search(t, p, Expect{}, control.Options{Runs: n, Seed: 1})
	if err != nil || !out.OK {
		t.Fatalf("%v %v", err, out.Failure)
	}
	return map[string]any{"runs": out.Runs, "steps": out.Steps, "seconds": time.Since(start).Seconds()}
}

// benchPlain executes the program n times, one after the other, as a
// controlled search does but without pmrun's library.
func benchPlain(t *testing.T, bin string, n int) map[string]any {
	start := time.Now()
	for range n {
		runPlain(t, []string{bin})
	}
	return map[string]any{"runs": n, "seconds": time.Since(start).Seconds()}
}
