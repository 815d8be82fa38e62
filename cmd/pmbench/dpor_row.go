package main

import (
	"fmt"
	"time"
)

// dporSteps bounds a DPOR search of a row: past it the search stops,
// incomplete (allow_incomplete keeps the step from failing), and the row
// says how far it got.
const dporSteps = 2_000_000

// The DPOR rows: the exhaustive search of a SPIN row's model with dpor:
// true (stateless, source sets and sleep sets) and without (state
// hashing), one after the other each round. The target: fewer
// transitions and less time for the search with DPOR. On models whose
// threads all touch the same objects DPOR has far more orders to try than
// the model has states: such a row reports how far DPOR got within
// dporSteps transitions.
func init() {
	for i, m := range []struct{ name, what string }{
		{"lost_5x2", "lost update, 5 threads × 2 (fails)"},
		{"dining_ordered_8", "dining philosophers, 8, ordered forks"},
		{"barrier_7", "Downey's reusable barrier, 7 threads × 2 rounds"},
	} {
		addRow(row{
			order:    87 + i,
			name:     "exhaustive search, dpor: true: " + m.what,
			baseline: "the same search with state hashing (dpor: false)",
			target:   "fewer transitions, less search time",
			measure:  func(b *bench) (measurement, error) { return measureDPOR(b, m.name) },
		})
	}
}

func measureDPOR(b *bench, name string) (measurement, error) {
	with := fmt.Sprintf("scheduler: exhaustive, dpor: true, allow_incomplete: true, max_states: %d}", dporSteps)
	withs, withouts, err := b.searchBoth(name, "dpor", "scheduler: exhaustive, symmetry: false, max_states: 100000000}", with)
	if err != nil {
		return measurement{}, err
	}
	best := func(rs []spinRun) time.Duration {
		d := rs[0].search
		for _, r := range rs {
			d = min(d, r.search)
		}
		return d
	}
	w, o := withs[0], withouts[0]
	done := "complete"
	if !w.complete {
		done = fmt.Sprintf("stopped at max_states %d, incomplete", dporSteps)
	}
	wb, ob := best(withs), best(withouts)
	return measurement{
		value: fmt.Sprintf("%.0f transitions (%s), search %v", w.transitions, done, wb.Round(time.Millisecond)),
		base:  fmt.Sprintf("%.0f states, %.0f transitions, search %v", o.states, o.transitions, ob.Round(time.Millisecond)),
		ratio: fmt.Sprintf("%.2f× the transitions, %.2f× the time", w.transitions/o.transitions, wb.Seconds()/ob.Seconds()),
		ok:    w.complete && w.transitions < o.transitions && wb < ob,
	}, nil
}
