package statespace

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestShards: the shards of a search between them visit every state the
// whole search visits and find every failure it finds (what, where and
// by whom); the one whose part holds the whole search's shortest failure
// shows a failure as short.
func TestShards(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"barrier", "flaglock", "opposite", "lost_loop", "one_step", "flag_only"} {
		for _, count := range []int{2, 3, 7} {
			t.Run(name+"/"+strconv.Itoa(count), func(t *testing.T) {
				t.Parallel()
				p := prog(t, name)
				whole := newTestSearch(t, p, Options{Workers: 1})
				wres := whole.run()
				all := whole.visited()
				union := map[uint64]bool{}
				kinds := map[Kind]bool{}
				shortest := -1
				for i := range count {
					s := newTestSearch(t, p, Options{Workers: 2, Shard: Shard{Index: i, Count: count}})
					res := s.run()
					if !res.Complete {
						t.Fatalf("shard %d: not complete: %s", i, res.Stop)
					}
					for h := range s.visited() {
						union[h] = true
					}
					for k := range res.Kinds {
						kinds[k] = true
					}
					if f := res.Failure; f != nil && (shortest < 0 || len(f.Steps) < shortest) {
						shortest = len(f.Steps)
					}
				}
				if len(union) != len(all) {
					t.Errorf("the shards visit %d states, the whole search %d", len(union), len(all))
				}
				for k := range wres.Kinds {
					if !kinds[k] {
						t.Errorf("no shard found %s", k)
					}
				}
				if wres.Failure != nil && shortest != len(wres.Failure.Steps) {
					t.Errorf("the shortest failure of the shards takes %d steps, the whole search's %d", shortest, len(wres.Failure.Steps))
				}
			})
		}
	}
}

// TestShardBalance prints, for the models named in PMRUN_STATESPACE_TIME,
// the transitions each of N shards takes (N from PMRUN_SHARDS, 4 by
// default), against the whole search's: what a person measuring the
// split reads. Skipped otherwise.
func TestShardBalance(t *testing.T) {
	names := strings.Fields(os.Getenv("PMRUN_STATESPACE_TIME"))
	if len(names) == 0 {
		t.Skip("PMRUN_STATESPACE_TIME names the models")
	}
	count := 4
	if n, err := strconv.Atoi(os.Getenv("PMRUN_SHARDS")); err == nil {
		count = n
	}
	for _, name := range names {
		p := corpus(t, name)
		whole := mustSearch(t, p, Options{})
		var most, sum int64
		var line []string
		for i := range count {
			res := mustSearch(t, p, Options{Shard: Shard{Index: i, Count: count}})
			most = max(most, res.Transitions)
			sum += res.Transitions
			line = append(line, strconv.FormatInt(res.Transitions, 10))
		}
		t.Logf("%s: whole %d transitions; %d shards: %s; the largest is %.2f× an even share, all together %.2f× the whole",
			name, whole.Transitions, count, strings.Join(line, " "), float64(most)*float64(count)/float64(whole.Transitions), float64(sum)/float64(whole.Transitions))
	}
}

// TestDPORShardBalance is TestShardBalance for DPOR's shards (dpor: true
// splits the tree of runs): the models named in PMRUN_DPOR_TIME, each
// shard's transitions (its walk of the top included) against the whole
// DPOR search's. Skipped otherwise.
func TestDPORShardBalance(t *testing.T) {
	names := strings.Fields(os.Getenv("PMRUN_DPOR_TIME"))
	if len(names) == 0 {
		t.Skip("PMRUN_DPOR_TIME names the models")
	}
	count := 4
	if n, err := strconv.Atoi(os.Getenv("PMRUN_SHARDS")); err == nil {
		count = n
	}
	for _, name := range names {
		p := corpus(t, name)
		whole := mustSearch(t, p, Options{DPOR: true})
		var most, sum int64
		var line []string
		roots := 0
		for i := range count {
			res := mustSearch(t, p, Options{DPOR: true, Shard: Shard{Index: i, Count: count}})
			most = max(most, res.Transitions)
			sum += res.Transitions
			line = append(line, strconv.FormatInt(res.Transitions, 10))
			roots = res.RootsOf
		}
		t.Logf("%s: whole %d transitions; %d shards of %d prefixes: %s; the largest is %.2f× an even share, all together %.2f× the whole",
			name, whole.Transitions, count, roots, strings.Join(line, " "), float64(most)*float64(count)/float64(whole.Transitions), float64(sum)/float64(whole.Transitions))
	}
}
