package main

import (
	"fmt"
	"slices"
	"time"
)

// samples are the times one side of a row took, one per round. Lower is
// better: a rate is measured as the time of one unit of work.
type samples []time.Duration

func (s samples) best() time.Duration { return slices.Min(s) }

func (s samples) median() time.Duration {
	c := slices.Clone(s)
	slices.Sort(c)
	if len(c)%2 == 1 {
		return c[len(c)/2]
	}
	return (c[len(c)/2-1] + c[len(c)/2]) / 2
}

// stat is a side's best and median.
type stat struct{ best, median time.Duration }

func statOf(s samples) stat { return stat{s.best(), s.median()} }

// diffStat is the cost of what many does beyond one: the best of many
// minus the best of one, and likewise the medians.
func diffStat(many, one samples) stat {
	return stat{many.best() - one.best(), many.median() - one.median()}
}

// per divides both by n: the time of one unit of work.
func (s stat) per(n int) stat {
	return stat{s.best / time.Duration(n), s.median / time.Duration(n)}
}

// scale multiplies both by f: the time of a unit of work that is not a
// whole number of samples' units.
func (s stat) scale(f float64) stat {
	return stat{time.Duration(float64(s.best) * f), time.Duration(float64(s.median) * f)}
}

// rate formats units of work per second, best then median.
func (s stat) rate(format string) string {
	return fmt.Sprintf(format+" (median "+format+")", perSecond(s.best), perSecond(s.median))
}

func perSecond(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return 1 / d.Seconds()
}

// speedRatio compares two per-unit times as rates: ours against theirs,
// for the bests (which decide the row) and, beside it, the medians.
func speedRatio(ours, theirs stat) (best float64, text string) {
	best = theirs.best.Seconds() / ours.best.Seconds()
	med := theirs.median.Seconds() / ours.median.Seconds()
	return best, fmt.Sprintf("%.2f× (medians %.2f×)", best, med)
}

// timeRatio compares two times as times: ours over theirs.
func timeRatio(ours, theirs stat) (best float64, text string) {
	best = ours.best.Seconds() / theirs.best.Seconds()
	med := ours.median.Seconds() / theirs.median.Seconds()
	return best, fmt.Sprintf("%.2f× its time (medians %.2f×)", best, med)
}

// alternate runs each side once per round, one after the other, for
// b.repeat rounds, so that a burst of load on the machine hits every side
// alike; it returns each side's samples, in the order given.
func (b *bench) alternate(sides ...func() (time.Duration, error)) ([]samples, error) {
	out := make([]samples, len(sides))
	for range b.repeat {
		for i, side := range sides {
			d, err := side()
			if err != nil {
				return nil, err
			}
			out[i] = append(out[i], d)
		}
	}
	return out, nil
}
