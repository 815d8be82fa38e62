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
// threads. The two sides alternate (b.alternate).
func measureControlledSwitches(b *bench) (measurement, error) {
	bin, err := b.controlTest()
	if err != nil {
		return measurement{}, err
	}
	cbin, err := b.cc("turns.c", "-lpthread")
	if err != nil {
		return measurement{}, err
	}
	ourSide := func() (time.Duration, error) {
		res, _, err := controlHelper(bin, "switches "+strconv.Itoa(controlSwitches))
		if err != nil {
			return 0, err
		}
		switches, _ := res["switches"].(float64)
		secs, _ := res["seconds"].(float64)
		if switches != controlSwitches || secs <= 0 {
			return 0, fmt.Errorf("control.test made %v switches in %v s, want %d", switches, secs, controlSwitches)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	s, err := b.alternate(ourSide, func() (time.Duration, error) { return cSeconds(cbin, strconv.Itoa(controlSwitches)) })
	if err != nil {
		return measurement{}, err
	}
	ours, theirs := statOf(s[0]).per(controlSwitches), statOf(s[1]).per(controlSwitches)
	ratio, text := speedRatio(ours, theirs)
	return measurement{
		value: fmt.Sprintf("%s (%.2f µs a switch)", ours.rate("%.0f switches/s"), us(ours.best)),
		base:  fmt.Sprintf("%s (%.2f µs)", theirs.rate("%.0f switches/s"), us(theirs.best)),
		ratio: text,
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
	var last map[string]any
	var peak int64
	s, err := b.alternate(func() (time.Duration, error) {
		res, rss, err := controlHelper(bin, "exhaustive")
		if err != nil {
			return 0, err
		}
		if complete, _ := res["complete"].(bool); !complete {
			return 0, fmt.Errorf("the exhaustive search did not complete: %v", res)
		}
		secs, _ := res["seconds"].(float64)
		last, peak = res, max(peak, rss)
		return time.Duration(secs * float64(time.Second)), nil
	})
	if err != nil {
		return measurement{}, err
	}
	states, _ := last["states"].(float64)
	transitions, _ := last["transitions"].(float64)
	took := statOf(s[0])
	perState := took.scale(1 / states)
	const limit = 500 << 20
	return measurement{
		value: fmt.Sprintf("%.0f states, %.0f steps, %s interleavings: complete in %v (median %v), %s; peak RSS %.1f MiB",
			states, transitions, last["interleavings"], took.best.Round(time.Microsecond), took.median.Round(time.Microsecond),
			perState.rate("%.0f states/s"), float64(peak)/(1<<20)),
		base:  "—",
		ratio: "—",
		ok:    peak <= limit,
	}, nil
}
