package main

import (
	"fmt"
	"strings"
	"time"
)

func init() {
	addRow(row{
		order:    20,
		name:     "10,000 assert steps",
		baseline: "a 1-step scenario",
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
	scenario := func(steps int) string {
		var s strings.Builder
		s.WriteString("name: asserts\nvars: {n: 1}\nsteps:\n  - id: first\n    log: start\n")
		for i := 0; i < steps; i++ {
			// Distinct expressions, so nothing is shared between steps.
			fmt.Fprintf(&s, "  - assert: vars.n + %d == %d && steps.first.status == \"ok\"\n", i, i+1)
		}
		return s.String()
	}
	many, err := b.write("asserts-many.yaml", scenario(n))
	if err != nil {
		return measurement{}, err
	}
	one, err := b.write("asserts-one.yaml", scenario(1))
	if err != nil {
		return measurement{}, err
	}
	tMany, err := b.best(func() (time.Duration, error) { return b.scenarioTime(many) })
	if err != nil {
		return measurement{}, err
	}
	tOne, err := b.best(func() (time.Duration, error) { return b.scenarioTime(one) })
	if err != nil {
		return measurement{}, err
	}
	lMany, err := b.best(func() (time.Duration, error) { return timeCmd(b.pmrun, "check", many) })
	if err != nil {
		return measurement{}, err
	}
	lOne, err := b.best(func() (time.Duration, error) { return timeCmd(b.pmrun, "check", one) })
	if err != nil {
		return measurement{}, err
	}
	load := float64((lMany - lOne).Nanoseconds()) / 1000 / (n - 1)
	us := float64((tMany - tOne).Nanoseconds()) / 1000 / (n - 1)
	return measurement{
		value: fmt.Sprintf("%.2f µs/step (loading: %.1f µs/step)", us, load),
		base:  tOne.Round(time.Microsecond).String(),
		ratio: fmt.Sprintf("%.2f× the target", us/2),
		ok:    us <= 2,
	}, nil
}
