package main

import (
	"fmt"
)

func init() {
	addRow(row{
		order:    20,
		name:     "10,000 assert steps",
		baseline: "—",
		target:   "≤ 2 µs a step beyond start-up",
		measure:  measureAsserts,
	})
}

// measureAsserts runs a scenario of 10,000 asserts and one of a single
// assert, and takes the time from each run's scenario_start to its
// scenario_end event (the log's duration_ms): the difference over 9,999 is
// the cost of a step beyond start-up. Loading, where every expression is
// compiled before the first step runs, is start-up; `pmrun check` times it
// and the row reports it beside.
func measureAsserts(b *bench) (measurement, error) {
	const n = 10_000
	many, one, err := b.repeated("asserts", "name: asserts\nvars: {n: 1}\nsteps:\n  - id: first\n    log: start\n", n,
		func(i int) string {
			// Distinct expressions, so nothing is shared between steps.
			return fmt.Sprintf("  - assert: vars.n + %d == %d && steps.first.status == \"ok\"\n", i, i+1)
		})
	if err != nil {
		return measurement{}, err
	}
	s, err := b.alternate(on(b.scenarioTime, many), on(b.scenarioTime, one))
	if err != nil {
		return measurement{}, err
	}
	l, err := b.alternate(on(b.loading, many), on(b.loading, one))
	if err != nil {
		return measurement{}, err
	}
	run, load := diffStat(s[0], s[1]).per(n-1), diffStat(l[0], l[1]).per(n-1)
	best, med := us(run.best), us(run.median)
	return measurement{
		value: fmt.Sprintf("%.2f µs/step (median %.2f; loading: %.1f µs/step)", best, med, us(load.best)),
		base:  "—",
		ratio: fmt.Sprintf("%.2f× the target (median %.2f×)", best/2, med/2),
		ok:    best <= 2,
	}, nil
}
