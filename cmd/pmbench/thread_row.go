package main

import (
	"fmt"
	"strconv"
	"time"
)

func init() {
	addRow(row{
		order:    40,
		name:     "thread create + terminate + join ×1,000",
		baseline: "C pthread_create + pthread_cancel + pthread_join loop",
		target:   "≥ 0.5× its rate",
		measure:  measureThreads,
	})
}

// measureThreads times a scenario that starts and terminates 1,000
// threads, one after the other as the C loop does, beyond the start-up of
// a scenario that does it once. Loading the 2,000 steps counts: it is part
// of running the scenario; the note says how much of a cycle it is.
func measureThreads(b *bench) (measurement, error) {
	const n = 1000
	many, one, err := b.repeated("threads", "name: threads\nsteps:\n", n, func(i int) string {
		return fmt.Sprintf("  - thread: {name: t%d}\n  - terminate: {thread: t%d}\n", i, i)
	})
	if err != nil {
		return measurement{}, err
	}
	cbin, err := b.cc("threads.c", "-lpthread")
	if err != nil {
		return measurement{}, err
	}
	s, err := b.alternate(on(b.runScenario, many), on(b.runScenario, one),
		func() (time.Duration, error) { return cSeconds(cbin, strconv.Itoa(n)) })
	if err != nil {
		return measurement{}, err
	}
	l, err := b.alternate(on(b.loading, many), on(b.loading, one))
	if err != nil {
		return measurement{}, err
	}
	ours, theirs := diffStat(s[0], s[1]).per(n-1), statOf(s[2]).per(n)
	load := diffStat(l[0], l[1]).per(n - 1)
	ratio, text := speedRatio(ours, theirs)
	return measurement{
		value: fmt.Sprintf("%s (%.1f µs a cycle, %.1f of it loading)", ours.rate("%.0f threads/s"), us(ours.best), us(load.best)),
		base:  fmt.Sprintf("%s (%.1f µs)", theirs.rate("%.0f threads/s"), us(theirs.best)),
		ratio: text,
		ok:    ratio >= 0.5,
	}, nil
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
