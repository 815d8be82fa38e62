package statespace

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// endsOf searches p with opts and returns the result and the
// fingerprints of the final states it reported.
func endsOf(t *testing.T, p *program.Program, opts Options) (Result, map[uint64]bool) {
	t.Helper()
	var mu sync.Mutex
	ends := map[uint64]bool{}
	opts.OnEnd = func(w []int64) {
		mu.Lock()
		ends[fingerprintOf(w)] = true
		mu.Unlock()
	}
	return mustSearch(t, p, opts), ends
}

// TestDPORIsSound compares the DPOR search with the plain one on random
// programs (of randomProgram and symProgram: variables, semaphores FIFO
// or not, a mutex, a condition, a critical region, asserts, branches on
// shared values, invariants, expect): both complete, DPOR finds a
// failure exactly when the plain search does, the same failures (what,
// where and by whom), the same final states, and a run that passes
// exactly when the plain search does; the failure and the run it shows
// are runs of the program that end as it says.
func TestDPORIsSound(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(23, 2014))
	programs := 300
	if testing.Short() || raceOn {
		programs = 40
	}
	var fewer, total, big int64
	for i := range programs {
		name := fmt.Sprintf("random%d", i)
		var src string
		if i%2 == 0 {
			src, _ = randomProgram(r, name)
		} else {
			src = symProgram(r, name)
		}
		p := programtest.One(t, src, name)
		plain, plainEnds := endsOf(t, p, Options{Workers: 1})
		dp, dpEnds := endsOf(t, p, Options{DPOR: true, MaxStates: 50_000})
		if dp.Stop == StopMaxStates {
			big++ // runs of many threads on the same variables: too many orders
			continue
		}
		if !plain.Complete || !dp.Complete || dp.Fallback != "" {
			t.Fatalf("%s: complete %v and %v (%s %s)\n%s", name, plain.Complete, dp.Complete, dp.Stop, dp.Fallback, src)
		}
		if (plain.Failure == nil) != (dp.Failure == nil) {
			t.Errorf("%s: plain shows %v, DPOR %v\n%s", name, failureOf(plain), failureOf(dp), src)
		}
		if !maps.Equal(keysOf(plain.Kinds), keysOf(dp.Kinds)) {
			t.Errorf("%s: plain finds %v, DPOR %v\n%s", name, plain.Kinds, dp.Kinds, src)
		}
		if !maps.Equal(plainEnds, dpEnds) {
			t.Errorf("%s: plain reaches %d final states, DPOR %d\n%s", name, len(plainEnds), len(dpEnds), src)
		}
		if (plain.Final == nil) != (dp.Final == nil) {
			t.Errorf("%s: plain shows a passing run %v, DPOR %v\n%s", name, plain.Final, dp.Final, src)
		}
		if f := dp.Failure; f != nil {
			if _, got := replay(t, p, f.Steps); got == nil || kindOf(got) != kindOf(f.Failure) {
				t.Errorf("%s: the steps DPOR shows end in %v, not %v\n%s", name, got, f.Failure, src)
			}
		}
		if dp.Final != nil {
			if _, got := replay(t, p, dp.Final); got != nil {
				t.Errorf("%s: the passing run DPOR shows fails: %v\n%s", name, got, src)
			}
		}
		total++
		if dp.Transitions < plain.Transitions {
			fewer++
		}
	}
	t.Logf("%d programs compared, %d left out (DPOR past 50,000 steps); DPOR took fewer steps than the plain search on %d", total, big, fewer)
	if big > total/5 {
		t.Errorf("%d programs of %d left out", big, big+total)
	}
}

func failureOf(r Result) *program.Failure {
	if r.Failure == nil {
		return nil
	}
	return r.Failure.Failure
}

func keysOf(m map[Kind]int64) map[Kind]bool {
	out := map[Kind]bool{}
	for k, n := range m {
		if n > 0 {
			out[k] = true
		}
	}
	return out
}

// TestDPORFallsBack: a program whose runs may not end (a spin, a loop)
// is searched by state hashing, and says so; the result is the plain
// search's.
func TestDPORFallsBack(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"flaglock", "spin", "flag_only"} {
		p := prog(t, name)
		plain := mustSearch(t, p, Options{Workers: 1})
		dp := mustSearch(t, p, Options{DPOR: true, Workers: 1})
		if dp.Fallback == "" {
			t.Errorf("%s: DPOR did not fall back", name)
		}
		if dp.States != plain.States || failureOf(dp) == nil != (failureOf(plain) == nil) {
			t.Errorf("%s: the fallback found %d states (%v), the plain search %d (%v)", name, dp.States, failureOf(dp), plain.States, failureOf(plain))
		}
	}
}

// TestDPORStops: DPOR stops at max_states, incomplete.
func TestDPORStops(t *testing.T) {
	t.Parallel()
	p := prog(t, "barrier")
	res := mustSearch(t, p, Options{DPOR: true, MaxStates: 10})
	if res.Complete || res.Stop != StopMaxStates {
		t.Errorf("complete %v, stop %q; want incomplete at max_states", res.Complete, res.Stop)
	}
}

// TestDPORShards: the shards of a DPOR search between them find every
// failure (what, where and by whom) and reach every final state the
// whole search does, on random programs and on a few by name; a program
// whose runs need not end is searched whole by every shard.
func TestDPORShards(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(8, 2026))
	programs := 100
	if testing.Short() || raceOn {
		programs = 20
	}
	var ps []*program.Program
	for i := range programs {
		name := fmt.Sprintf("random%d", i)
		src, _ := randomProgram(r, name)
		p := programtest.One(t, src, name)
		ps = append(ps, p)
	}
	for _, name := range []string{"barrier", "opposite", "rendezvous_wrong", "deadlock_late", "flaglock"} {
		ps = append(ps, prog(t, name))
	}
	dealt := 0
	for _, p := range ps {
		whole, wholeEnds := endsOf(t, p, Options{DPOR: true, MaxStates: 50_000})
		if whole.Stop == StopMaxStates {
			continue
		}
		for _, count := range []int{2, 3, 7} {
			kinds := map[Kind]bool{}
			ends := map[uint64]bool{}
			found := false
			for i := range count {
				res, e := endsOf(t, p, Options{DPOR: true, Shard: Shard{Index: i, Count: count}})
				if !res.Complete {
					t.Fatalf("%s: shard %d/%d: not complete: %s", p.Name(), i, count, res.Stop)
				}
				if (res.Fallback != "") != (whole.Fallback != "") {
					t.Errorf("%s: shard %d/%d falls back %q, the whole search %q", p.Name(), i, count, res.Fallback, whole.Fallback)
				}
				if res.RootsOf > 1 {
					dealt++
				}
				maps.Copy(kinds, keysOf(res.Kinds))
				maps.Copy(ends, e)
				found = found || res.Failure != nil
			}
			if !maps.Equal(kinds, keysOf(whole.Kinds)) {
				t.Errorf("%s: %d shards find %v, the whole search %v", p.Name(), count, kinds, whole.Kinds)
			}
			if !maps.Equal(ends, wholeEnds) {
				t.Errorf("%s: %d shards reach %d final states, the whole search %d", p.Name(), count, len(ends), len(wholeEnds))
			}
			if found != (whole.Failure != nil) {
				t.Errorf("%s: %d shards show a failure: %v; the whole search %v", p.Name(), count, found, failureOf(whole))
			}
		}
	}
	if dealt == 0 {
		t.Errorf("no search was dealt out")
	}
}
