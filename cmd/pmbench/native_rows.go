package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// The rows of real C programs under pmrun's scheduler. Package native is
// internal to actions, so, as the controlled-program rows do, these run
// its test binary, whose TestBenchHelper measures and prints a line of
// JSON when PMRUN_NATIVE_BENCH says what to measure.
func init() {
	addRow(row{
		order:    72,
		name:     "controlled C program: 20,000 switches between its two threads (sem_t ping-pong)",
		baseline: "the in-process controlled switch between two program threads",
		target:   "reported",
		measure:  measureNativeSwitches,
	})
	addRow(row{
		order:    73,
		name:     "controlled C program: runs of a small program (3 threads, 56 steps)",
		baseline: "the same binary run plainly through pmrun's process table",
		target:   "reported",
		measure:  measureNativeRuns,
	})
	addRow(row{
		order:    74,
		name:     "pmrun's library loaded, pmrun absent: 10,000,000 rounds of 7 synchronization calls",
		baseline: "the same program without the library",
		target:   "≥ 0.95× its rate",
		measure:  measureDormant,
	})
}

const (
	nativeSwitches = 20_000
	nativeRuns     = 100
	dormantRounds  = 10_000_000
)

// nativeTest builds package native's test binary, once.
func (b *bench) nativeTest() (string, error) {
	bin := filepath.Join(b.dir, "native.test")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if out, err := exec.Command("go", "test", "-c", "-o", bin, "./actions/internal/native").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go test -c ./actions/internal/native: %v\n%s", err, out)
	}
	return bin, nil
}

// nativeHelper runs the test binary's helper: mode n src.
func nativeHelper(bin, mode string, n int, src string) (map[string]any, error) {
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "-test.run=^TestBenchHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("PMRUN_NATIVE_BENCH=%s %d %s", mode, n, abs))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("native.test %s: %v: %s%s", mode, err, lastLines(string(out), 5), lastLines(stderr.String(), 5))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(line, "{") {
			var res map[string]any
			return res, json.Unmarshal([]byte(line), &res)
		}
	}
	return nil, fmt.Errorf("native.test %s printed no result: %s", mode, lastLines(string(out), 5))
}

func seconds(res map[string]any) time.Duration {
	s, _ := res["seconds"].(float64)
	return time.Duration(s * float64(time.Second))
}

// measureNativeSwitches runs turns.c (the C baseline of the controlled
// program row) under pmrun's control: each switch between its threads is
// a sem_post and a sem_wait that pmrun lets go, through the control
// block, against the controlled switch between two of a program's
// threads inside pmrun. Both are timed from the threads' start to their
// join.
func measureNativeSwitches(b *bench) (measurement, error) {
	nbin, err := b.nativeTest()
	if err != nil {
		return measurement{}, err
	}
	cbin, err := b.controlTest()
	if err != nil {
		return measurement{}, err
	}
	var switches float64
	c := func() (time.Duration, error) {
		res, err := nativeHelper(nbin, "switches", nativeSwitches, "cmd/pmbench/c/turns.c")
		if err != nil {
			return 0, err
		}
		switches, _ = res["switches"].(float64)
		return seconds(res), nil
	}
	inProcess := func() (time.Duration, error) {
		res, _, err := controlHelper(cbin, "switches "+strconv.Itoa(nativeSwitches))
		if err != nil {
			return 0, err
		}
		return seconds(res), nil
	}
	s, err := b.alternate(c, inProcess)
	if err != nil {
		return measurement{}, err
	}
	if switches < nativeSwitches {
		return measurement{}, fmt.Errorf("the C program made %v switches, want %d", switches, nativeSwitches)
	}
	ours, theirs := statOf(s[0]).per(int(switches)), statOf(s[1]).per(nativeSwitches)
	_, text := speedRatio(ours, theirs)
	return measurement{
		value: fmt.Sprintf("%.1f µs a switch (median %.1f)", us(ours.best), us(ours.median)),
		base:  fmt.Sprintf("%.1f µs (median %.1f)", us(theirs.best), us(theirs.median)),
		ratio: text,
		ok:    true,
	}, nil
}

// measureNativeRuns makes 100 controlled runs of the bounded buffer of
// package native's tests (a producer and a consumer on three semaphores),
// each executing the binary anew, against 100 plain executions of it.
func measureNativeRuns(b *bench) (measurement, error) {
	nbin, err := b.nativeTest()
	if err != nil {
		return measurement{}, err
	}
	src := "actions/internal/native/testdata/buffer.c"
	side := func(mode string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			res, err := nativeHelper(nbin, mode, nativeRuns, src)
			return seconds(res), err
		}
	}
	s, err := b.alternate(side("runs"), side("plain"))
	if err != nil {
		return measurement{}, err
	}
	ours, theirs := statOf(s[0]).per(nativeRuns), statOf(s[1]).per(nativeRuns)
	_, text := speedRatio(ours, theirs)
	return measurement{
		value: ours.rate("%.0f runs/s"),
		base:  theirs.rate("%.0f runs/s"),
		ratio: text,
		ok:    true,
	}, nil
}

// measureDormant runs c/dormant.c with pmrun's library in LD_PRELOAD and
// no control block, and without the library.
func measureDormant(b *bench) (measurement, error) {
	bin, err := b.cc("dormant.c", "-lpthread")
	if err != nil {
		return measurement{}, err
	}
	out, err := exec.Command(b.pmrun, "preload").Output()
	if err != nil {
		return measurement{}, fmt.Errorf("pmrun preload: %v", err)
	}
	lib := strings.TrimSpace(string(out))
	run := func(preload string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			cmd := exec.Command(bin, strconv.Itoa(dormantRounds))
			cmd.Env = append(os.Environ(), "LD_PRELOAD="+preload)
			out, err := cmd.Output()
			if err != nil {
				return 0, fmt.Errorf("dormant.c: %v", err)
			}
			secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
			return time.Duration(secs * float64(time.Second)), err
		}
	}
	s, err := b.alternate(run(lib), run(""))
	if err != nil {
		return measurement{}, err
	}
	const calls = 7 * dormantRounds
	ours, theirs := statOf(s[0]), statOf(s[1]) // the whole loop: a call is a few ns
	ratio, text := speedRatio(ours, theirs)
	return measurement{
		value: fmt.Sprintf("%.2f ns a call (median %.2f)", nsPer(ours.best, calls), nsPer(ours.median, calls)),
		base:  fmt.Sprintf("%.2f ns (median %.2f)", nsPer(theirs.best, calls), nsPer(theirs.median, calls)),
		ratio: text,
		ok:    ratio >= 0.95,
	}, nil
}

// nsPer is d shared among n calls, in nanoseconds.
func nsPer(d time.Duration, n int) float64 { return float64(d.Nanoseconds()) / float64(n) }
