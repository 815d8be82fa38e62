package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The controlled-program rows. The controlled executor is internal to
// actions (actions/internal/control), so the rows run its test binary,
// whose TestBenchHelper measures and prints a line of JSON when
// PMRUN_CONTROL_BENCH says what to measure.
func init() {
	addRow(row{
		order:    70,
		name:     "controlled program: 1,000,000 context switches between two real threads",
		baseline: "C: two threads passing a turn through two sem_t",
		target:   "≥ 0.7× its rate",
		measure:  measureControlledSwitches,
	})
	addRow(row{
		order:    71,
		name:     "exhaustive search: 3 workers × Downey's reusable barrier × 2 rounds",
		baseline: "—",
		target:   "states/s and time reported; ≤ 500 MiB",
		measure:  measureExhaustive,
	})
}

const controlSwitches = 1_000_000

// controlTest builds the control package's test binary into the work
// directory, once.
func (b *bench) controlTest() (string, error) {
	bin := filepath.Join(b.dir, "control.test")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "./actions/internal/control").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go test -c ./actions/internal/control: %v\n%s", err, out)
	}
	return bin, nil
}

// controlHelper runs the test binary's helper with what to measure and
// returns the JSON it printed and the process's peak resident set.
func controlHelper(bin, what string) (map[string]any, int64, error) {
	cmd := exec.Command(bin, "-test.run=^TestBenchHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PMRUN_CONTROL_BENCH="+what)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, 0, fmt.Errorf("control.test %s: %v: %s%s", what, err, lastLines(string(out), 5), lastLines(stderr.String(), 5))
	}
	var peak int64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		peak = ru.Maxrss * 1024 // KiB on Linux
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "{") {
			var res map[string]any
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				return nil, 0, fmt.Errorf("control.test %s printed %q: %v", what, line, err)
			}
			return res, peak, nil
		}
	}
	return nil, 0, fmt.Errorf("control.test %s printed no result: %s", what, lastLines(string(out), 5))
}

// measureControlledSwitches replays a schedule that alternates two
// threads a million times, against the C program passing a turn between
// two threads as often; both times include starting and joining the two
// threads. The two sides alternate and each keeps its best.
func measureControlledSwitches(b *bench) (measurement, error) {
	bin, err := b.controlTest()
	if err != nil {
		return measurement{}, err
	}
	cbin, err := b.cc("turns.c", "-lpthread")
	if err != nil {
		return measurement{}, err
	}
	var ours, theirs float64
	for range b.repeat {
		res, _, err := controlHelper(bin, "switches "+strconv.Itoa(controlSwitches))
		if err != nil {
			return measurement{}, err
		}
		switches, _ := res["switches"].(float64)
		secs, _ := res["seconds"].(float64)
		if switches != controlSwitches || secs <= 0 {
			return measurement{}, fmt.Errorf("control.test made %v switches in %v s, want %d", switches, secs, controlSwitches)
		}
		ours = max(ours, switches/secs)
		tC, err := cSeconds(cbin, strconv.Itoa(controlSwitches))
		if err != nil {
			return measurement{}, err
		}
		theirs = max(theirs, controlSwitches/tC.Seconds())
	}
	ratio := ours / theirs
	return measurement{
		value: fmt.Sprintf("%.0fk switches/s (%.2f µs a switch)", ours/1e3, 1e6/ours),
		base:  fmt.Sprintf("%.0fk switches/s (%.2f µs)", theirs/1e3, 1e6/theirs),
		ratio: fmt.Sprintf("%.2f×", ratio),
		ok:    ratio >= 0.7,
	}, nil
}

// measureExhaustive runs the exhaustive search of the reference program
// to complete: true and reports its states a second, its time and the
// peak resident set of the process that ran it.
func measureExhaustive(b *bench) (measurement, error) {
	bin, err := b.controlTest()
	if err != nil {
		return measurement{}, err
	}
	var best map[string]any
	var bestSecs float64
	var peak int64
	for range b.repeat {
		res, rss, err := controlHelper(bin, "exhaustive")
		if err != nil {
			return measurement{}, err
		}
		if complete, _ := res["complete"].(bool); !complete {
			return measurement{}, fmt.Errorf("the exhaustive search did not complete: %v", res)
		}
		secs, _ := res["seconds"].(float64)
		if best == nil || secs < bestSecs {
			best, bestSecs = res, secs
		}
		peak = max(peak, rss)
	}
	states, _ := best["states"].(float64)
	transitions, _ := best["transitions"].(float64)
	const limit = 500 << 20
	return measurement{
		value: fmt.Sprintf("%.0f states (%.0f steps, %s interleavings) in %s: %.0f states/s; peak RSS %.1f MiB",
			states, transitions, best["interleavings"], time.Duration(bestSecs*float64(time.Second)).Round(time.Microsecond),
			states/bestSecs, float64(peak)/(1<<20)),
		base:  "—",
		ratio: "—",
		ok:    peak <= limit,
	}, nil
}
