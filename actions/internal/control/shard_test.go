package control

import (
	"fmt"
	"maps"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/statespace"
)

// TestShardsFindWhatTheWholeFinds: random and PCT split into N shards make
// every run once between them, fail in the same runs, and the shard that
// holds the first failing run shows the same failure, schedule and all.
func TestShardsFindWhatTheWholeFinds(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"lost_loop", "flaglock", "opposite"} {
		for _, sched := range []string{Random, PCT} {
			for _, count := range []int{2, 3, 7} {
				t.Run(fmt.Sprintf("%s/%s/%d", name, sched, count), func(t *testing.T) {
					t.Parallel()
					opts := Options{Scheduler: sched, Seed: 11, Runs: 40, Shrink: true}
					whole := mustSearch(t, name, opts)
					wholeFailing := failingRuns(t, name, opts)
					runs, failures := 0, 0
					union := map[int]bool{}
					var first *engine.Outcome
					for i := range count {
						opts.Shard = Shard{Index: i, Count: count}
						part := mustSearch(t, name, opts)
						runs += part.Runs
						failures += part.Failures
						maps.Copy(union, failingRuns(t, name, opts))
						if !part.OK && (first == nil || part.Run < first.Run) {
							first = &part
						}
						if part.PCTSteps != whole.PCTSteps {
							t.Errorf("shard %d estimates k = %d, the whole %d", i, part.PCTSteps, whole.PCTSteps)
						}
					}
					if runs != whole.Runs || failures != whole.Failures || !maps.Equal(union, wholeFailing) {
						t.Errorf("shards: %d runs, %d failing %v; whole: %d, %d %v", runs, failures, union, whole.Runs, whole.Failures, wholeFailing)
					}
					if whole.OK != (first == nil) {
						t.Fatalf("the whole is ok: %v; a shard failed: %v", whole.OK, first != nil)
					}
					if first != nil && (first.Run != whole.Run || first.ScheduleText != whole.ScheduleText || first.Verdict != whole.Verdict ||
						first.Interleaving.Format() != whole.Interleaving.Format() || first.OriginalSwitches != whole.OriginalSwitches) {
						t.Errorf("the shards' first failure is not the whole's")
					}
				})
			}
		}
	}
}

// failingRuns lists the runs of a search that fail, by number.
func failingRuns(t *testing.T, name string, opts Options) map[int]bool {
	t.Helper()
	failing := map[int]bool{}
	opts.OnRun = func(r engine.RunInfo) {
		if !r.Shown && r.Run >= 0 && r.Failure != nil {
			failing[r.Run] = true
		}
	}
	mustSearch(t, name, opts)
	return failing
}

// TestExhaustiveShards: the shards of an exhaustive search are each
// complete, and between them find every failure the whole search finds
// (package statespace tests the states they visit).
func TestExhaustiveShards(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"lost_loop", "flaglock", "opposite", "barrier", "three_and_two"} {
		for _, count := range []int{2, 3, 5} {
			t.Run(fmt.Sprintf("%s/%d", name, count), func(t *testing.T) {
				t.Parallel()
				p := prog(t, name)
				opts, err := Options{Scheduler: Exhaustive}.withDefaults()
				if err != nil {
					t.Fatal(err)
				}
				whole, err := searchExhaustive(t.Context(), p, opts)
				if err != nil {
					t.Fatal(err)
				}
				kinds := map[statespace.Kind]bool{}
				for i := range count {
					opts.Shard = Shard{Index: i, Count: count}
					part, err := searchExhaustive(t.Context(), p, opts)
					if err != nil {
						t.Fatal(err)
					}
					if !part.complete {
						t.Errorf("shard %d is not complete", i)
					}
					for k := range part.space.Kinds {
						kinds[k] = true
					}
				}
				for k := range whole.space.Kinds {
					if !kinds[k] {
						t.Errorf("no shard found %s", k)
					}
				}
			})
		}
	}
}
