package main

import (
	"fmt"
	"time"
)

// The symmetry reduction's rows: the same exhaustive search of a model
// of alike threads or of a ring of them (corpus models, as the SPIN
// rows), with symmetry: true and without, one after the other each
// round. The target: fewer states
// and less time for the search (the program step) with it.
func init() {
	for _, m := range []struct {
		order      int
		name, what string
	}{
		{85, "lost_5x2", "lost update, 5 threads × 2 (fails)"},
		{86, "barrier_7", "Downey's reusable barrier, 7 threads × 2 rounds"},
		{90, "dining_ring_6", "dining philosophers, 6, left fork first (a ring: count, fork[self])"},
		{91, "dining_ring_8", "dining philosophers, 8, left fork first (a ring: count, fork[self])"},
	} {
		addRow(row{
			order:    m.order,
			name:     "exhaustive search, symmetry: true: " + m.what,
			baseline: "the same search without symmetry",
			target:   "fewer states, less search time",
			measure:  func(b *bench) (measurement, error) { return measureSymmetry(b, m.name) },
		})
	}
}

func measureSymmetry(b *bench, name string) (measurement, error) {
	with, without, err := b.searchBoth(name, "symmetry", "symmetry: false,", "symmetry: true,")
	if err != nil {
		return measurement{}, err
	}
	searchOf := func(rs []spinRun) stat {
		s := make(samples, len(rs))
		for i, r := range rs {
			s[i] = r.search
		}
		return statOf(s)
	}
	w, o := searchOf(with), searchOf(without)
	return measurement{
		value: fmt.Sprintf("%.0f states, search %v (median %v)", with[0].states, w.best.Round(time.Millisecond), w.median.Round(time.Millisecond)),
		base:  fmt.Sprintf("%.0f states, search %v (median %v)", without[0].states, o.best.Round(time.Millisecond), o.median.Round(time.Millisecond)),
		ratio: fmt.Sprintf("%.1f× fewer states, %.1f× faster", without[0].states/with[0].states, o.best.Seconds()/w.best.Seconds()),
		ok:    with[0].states < without[0].states && w.best < o.best,
	}, nil
}
