package main

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

func init() {
	addRow(row{
		order:    35,
		name:     "check of a 10 MB scenario",
		baseline: "—",
		target:   "≤ 2 s and ≤ 300 MiB",
		measure:  measureCheck,
	})
}

// longScenarioBlock is one round of the long scenario: a tour of the
// actions as the demo has it (logs and templates, sleeps in the
// foreground and background, a wait, retry, if, processes, a channel,
// and an assertion after each), every id, name and expression distinct.
const longScenarioBlock = `  - log: "round {i}: ${{ vars.items }} items"
  - id: nap_{i}
    name: a short nap {i}
    sleep: "${{ vars.nap }}"
  - assert: steps.nap_{i}.status == "ok" && steps.nap_{i}.slept >= duration(vars.nap)
  - id: slow_{i}
    sleep: 5ms
    background: true
  - id: joined_{i}
    wait: {step: slow_{i}}
  - assert: {that: 'steps.joined_{i}.result.status == "ok"', message: "the background step {i} finished"}
  - log: "never shown"
    if: vars.items < {i}
  - id: tries_{i}
    log: "attempt"
    retry: {until: "result.attempt >= 2", attempts: 3, interval: 1ms}
  - spawn: {name: sleeper_{i}, cmd: [sleep, "30"]}
  - spawn: {name: greeter_{i}, shell: 'echo "hello {i}"; exit 3', env: {ROUND: "{i}"}}
  - id: greeted_{i}
    wait: {process: greeter_{i}, timeout: 10s}
  - assert: steps.greeted_{i}.exit_code == 3 && steps.greeted_{i}.stdout == "hello {i}\n"
  - id: stopped_{i}
    terminate: {process: sleeper_{i}}
  - assert: steps.stopped_{i}.signal == "SIGTERM"
  - send: {channel: jobs, message: "hello, {i}"}
  - id: got_{i}
    receive: {channel: jobs, timeout: 5s}
  - assert: steps.got_{i}.ok && steps.got_{i}.message == "hello, {i}" && steps.got_{i}.bytes == {i} + 7
`

// longScenario returns a scenario of size bytes or a little more: the
// block repeated with a round number.
func longScenario(size int) string {
	var s strings.Builder
	s.WriteString("name: long\ndescription: a long scenario, for make bench\nvars:\n  items: 200\n  nap: 1ms\nchannels:\n  jobs: {}\nsteps:\n")
	for i := 0; s.Len() < size; i++ {
		s.WriteString(strings.ReplaceAll(longScenarioBlock, "{i}", fmt.Sprint(i)))
	}
	return s.String()
}

// measureCheck times `pmrun check` of a 10 MB scenario and reads its peak
// resident set from the kernel (the child's rusage), -repeat times.
func measureCheck(b *bench) (measurement, error) {
	path, err := b.write("long.yaml", longScenario(10_000_000))
	if err != nil {
		return measurement{}, err
	}
	var rss []int64 // KiB
	times, err := b.alternate(func() (time.Duration, error) {
		cmd := exec.Command(b.pmrun, "check", path)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return 0, fmt.Errorf("pmrun check: %v: %s", err, lastLines(stderr.String(), 3))
		}
		d := time.Since(start)
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			rss = append(rss, ru.Maxrss)
		}
		return d, nil
	})
	if err != nil {
		return measurement{}, err
	}
	t := statOf(times[0])
	slices.Sort(rss)
	bestRSS, medRSS := float64(rss[0])/1024, float64(rss[len(rss)/2])/1024
	return measurement{
		value: fmt.Sprintf("%.2f s (median %.2f s), %.0f MiB (median %.0f MiB)", t.best.Seconds(), t.median.Seconds(), bestRSS, medRSS),
		base:  "—",
		ratio: fmt.Sprintf("%.2f× the time, %.2f× the memory", t.best.Seconds()/2, bestRSS/300),
		ok:    t.best <= 2*time.Second && bestRSS <= 300,
	}, nil
}
