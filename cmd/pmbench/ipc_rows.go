package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func init() {
	addRow(row{
		order:    40,
		name:     "1,000,000 messages of 64 B between two processes",
		baseline: "C writer, one write(2) a message, to a reader",
		target:   "≥ 1.0× its rate",
		measure:  func(b *bench) (measurement, error) { return measureIPC(b, 1_000_000, 64, 1.0) },
	})
	addRow(row{
		order:    41,
		name:     "10,000 messages of 64 KiB between two processes",
		baseline: "C writer, one 64 KiB write(2) a message",
		target:   "≥ 0.8× its bandwidth",
		measure:  func(b *bench) (measurement, error) { return measureIPC(b, 10_000, 64<<10, 0.8) },
	})
}

// measureIPC sends count generated messages of size bytes from an agent to
// the runner through a pipe channel, the receiver checking every one, and
// compares the rate with the C pipe benchmark of the channel package. The
// transfer time is the longer of the sending and the receiving step, which
// start together.
func measureIPC(b *bench, count, size int, target float64) (measurement, error) {
	path, err := b.write(fmt.Sprintf("ipc-%d-%d.yaml", count, size), fmt.Sprintf(`name: ipc-bench
timeout: 10m
channels: {jobs: {}}
steps:
  - spawn: {name: tx, agent: true}
  - id: flood
    send: {channel: jobs, from: tx, count: %d, size: %d}
    background: true
  - id: rx
    receive: {channel: jobs, count: %d, verify: true, timeout: 5m}
  - wait: {step: flood}
  - assert: steps.rx.verified && steps.rx.count == %d
`, count, size, count, count))
	if err != nil {
		return measurement{}, err
	}
	cbin, err := b.cc("actions/internal/channel/testdata/pipebench.c")
	if err != nil {
		return measurement{}, err
	}
	pmrunSide := func() (time.Duration, error) {
		times, err := b.stepTimes(path)
		if err != nil {
			return 0, err
		}
		t := max(times["flood"], times["rx"])
		if t == 0 {
			return 0, fmt.Errorf("no step times in the log")
		}
		return t, nil
	}
	cSide := func() (time.Duration, error) {
		out, err := exec.Command(cbin, strconv.Itoa(count), strconv.Itoa(size)).Output()
		if err != nil {
			return 0, fmt.Errorf("pipebench: %v", err)
		}
		f := strings.Fields(string(out))
		if len(f) != 3 {
			return 0, fmt.Errorf("pipebench printed %q", out)
		}
		secs, err := strconv.ParseFloat(f[2], 64)
		if err != nil {
			return 0, fmt.Errorf("pipebench printed %q", out)
		}
		return time.Duration(secs * float64(time.Second)), nil
	}
	s, err := b.alternate(pmrunSide, cSide)
	if err != nil {
		return measurement{}, err
	}
	// The unit of work: a million messages, or a MiB for the large ones.
	unit, format := 1e6/float64(count), "%.2fM msg/s"
	if size >= 4096 {
		unit, format = float64(1<<20)/(float64(count)*float64(size)), "%.0f MiB/s"
	}
	ours, theirs := statOf(s[0]).scale(unit), statOf(s[1]).scale(unit)
	ratio, text := speedRatio(ours, theirs)
	return measurement{
		value: ours.rate(format),
		base:  theirs.rate(format),
		ratio: text,
		ok:    ratio >= target,
	}, nil
}
