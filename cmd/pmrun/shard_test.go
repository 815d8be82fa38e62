package main

import (
	"os/exec"
	"regexp"
	"strconv"
	"testing"
)

// TestSearchShard: --search-shard I/N splits a program search's runs
// across workers. With the same seed, the shards together make every run
// of the whole search once and find its failing runs: their counts add up,
// and the shard holding the whole search's first failing run reports the
// same run and schedule.
func TestSearchShard(t *testing.T) {
	t.Parallel()
	bin := pmrunBinary(t)
	line := regexp.MustCompile(`runs=(\d+)\s+failures=(\d+)\s+run=(-?\d+)\s+schedule=(\S*)\s+end`)
	search := func(args ...string) (runs, failures, run int, schedule string) {
		t.Helper()
		args = append([]string{"run", "--no-log", "--seed", "7", "-v"}, append(args, "testdata/shard/search.yaml")...)
		out, err := exec.Command(bin, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("pmrun %v: %v\n%s", args, err, out)
		}
		m := line.FindSubmatch(out)
		if m == nil {
			t.Fatalf("pmrun %v printed no result line:\n%s", args, out)
		}
		runs, _ = strconv.Atoi(string(m[1]))
		failures, _ = strconv.Atoi(string(m[2]))
		run, _ = strconv.Atoi(string(m[3]))
		return runs, failures, run, string(m[4])
	}
	runs, failures, first, schedule := search()
	if runs != 40 || failures == 0 || failures == runs {
		t.Fatalf("whole search: %d runs, %d failures: want 40 runs, some failing, some not", runs, failures)
	}
	const n = 3
	sumRuns, sumFailures, found := 0, 0, false
	for i := 1; i <= n; i++ {
		r, f, run, sched := search("--search-shard", strconv.Itoa(i)+"/"+strconv.Itoa(n))
		sumRuns += r
		sumFailures += f
		if run == first {
			found = true
			if sched != schedule {
				t.Errorf("shard %d/%d found run %d with schedule %s, the whole search %s", i, n, run, sched, schedule)
			}
		}
	}
	if sumRuns != runs || sumFailures != failures {
		t.Errorf("shards made %d runs with %d failures, the whole search %d with %d", sumRuns, sumFailures, runs, failures)
	}
	if !found {
		t.Errorf("no shard reported the whole search's first failing run %d", first)
	}
	out, err := exec.Command(bin, "run", "--no-log", "--search-shard", "4/3", "testdata/shard/search.yaml").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !regexp.MustCompile(`--search-shard "4/3": want I/N`).Match(out) {
		t.Errorf("--search-shard 4/3: %v\n%s", err, out)
	}
}
