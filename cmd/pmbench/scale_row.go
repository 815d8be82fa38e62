package main

import (
	"fmt"
	"os/exec"
	"time"
)

// The model checker's size row: an exhaustive search of more than ten
// million states (Downey's reusable barrier, 8 threads × 4 rounds: about
// 12 million states to pmrun, 22 million to SPIN, whose steps are finer),
// end to end with `pmrun run`, against SPIN's pan -DSAFETY on the same
// model in the same rounds. The targets are the issue's: the search
// completes in under 60 s and 1 GiB of peak RSS, and takes no more memory
// than pan. Each side takes tens of seconds, so the row runs at most two
// rounds whatever -repeat says.
func init() {
	addRow(row{
		order:    83,
		name:     "exhaustive search of 10 million states: barrier, 8 threads × 4 rounds",
		baseline: "SPIN 6.5 -DSAFETY on the same model (spin -a + gcc -O2 + pan)",
		target:   "complete, ≥ 10,000,000 states, end to end < 60 s, peak RSS < 1 GiB and ≤ pan's",
		measure:  measureScale,
	})
}

const scaleModel = "barrier_8x4"

func measureScale(b *bench) (measurement, error) {
	if _, err := exec.LookPath("spin"); err != nil {
		return measurement{}, fmt.Errorf("spin is not installed (Debian: apt-get install spin)")
	}
	scenario, err := b.spinScenario(scaleModel)
	if err != nil {
		return measurement{}, err
	}
	var ours, theirs []spinRun
	for range min(b.repeat, 2) {
		r, err := b.pmrunSearch(scenario)
		if err != nil {
			return measurement{}, err
		}
		ours = append(ours, r)
		if r, err = b.spinSearch(scaleModel); err != nil {
			return measurement{}, err
		}
		theirs = append(theirs, r)
	}
	best := func(rs []spinRun) (whole time.Duration, rss int64) {
		whole = rs[0].whole
		for _, r := range rs {
			whole, rss = min(whole, r.whole), max(rss, r.rss)
		}
		return whole, rss
	}
	oWhole, oRSS := best(ours)
	tWhole, tRSS := best(theirs)
	states := ours[0].states
	return measurement{
		value: fmt.Sprintf("%.0f states: end to end %v (%.0f states/s), peak RSS %.0f MiB (%.0f B a state)",
			states, oWhole.Round(time.Millisecond), states/oWhole.Seconds(), float64(oRSS)/(1<<20), float64(oRSS)/states),
		base: fmt.Sprintf("%.0f states: end to end %v, peak RSS %.0f MiB",
			theirs[0].states, tWhole.Round(time.Millisecond), float64(tRSS)/(1<<20)),
		ratio: fmt.Sprintf("time %.2f× SPIN's; RSS %.2f× pan's", oWhole.Seconds()/tWhole.Seconds(), float64(oRSS)/float64(tRSS)),
		ok:    states >= 10_000_000 && oWhole < time.Minute && oRSS < 1<<30 && oRSS <= tRSS,
	}, nil
}
