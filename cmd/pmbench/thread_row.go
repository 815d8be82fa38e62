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
	run, err := b.difference(many, one, b.runScenario)
	if err != nil {
		return measurement{}, err
	}
	load, err := b.difference(many, one, b.loading)
	if err != nil {
		return measurement{}, err
	}
	tC, err := b.best(func() (time.Duration, error) { return cSeconds(cbin, strconv.Itoa(n)) })
	if err != nil {
		return measurement{}, err
	}
	ours := float64(n-1) / run.Seconds()
	theirs := float64(n) / tC.Seconds()
	return measurement{
		value: fmt.Sprintf("%.0f threads/s (%.1f µs a cycle, %.1f of it loading)", ours, us(run/(n-1)), us(load/(n-1))),
		base:  fmt.Sprintf("%.0f threads/s (%.1f µs)", theirs, us(tC/n)),
		ratio: fmt.Sprintf("%.2f×", ours/theirs),
		ok:    ours/theirs >= 0.5,
	}, nil
}

func us(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
