package statespace

import (
	"context"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"time"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// bitstateHashes is how many bits a state sets in a bitstate search, as
// SPIN's default (-k3).
const bitstateHashes = 3

// searchBitstate is the bitstate search (Holzmann's supertrace, SPIN's
// -DBITSTATE): depth first, threads in index order, each state kept as
// three bits of an array of o.Bitstate bytes, set by three hashes of its
// fingerprint. A state whose bits are all set is taken as seen, so two
// states may be taken as one and part of the space missed: the search is
// never complete, and what it estimates it covered is in the result. The
// stack holds the states of the path under way.
func searchBitstate(ctx context.Context, p *program.Program, o Options) (Result, error) {
	start := time.Now()
	b := &bitSearch{p: p, o: o, n: len(p.Threads()), words: p.Words(), kinds: map[Kind]int64{}}
	b.m = uint64(o.Bitstate) * 8
	b.bits = allocOf[uint64](&b.mem, int((b.m+63)/64))
	defer b.mem.release()
	res := b.run(ctx, start)
	res.Elapsed = time.Since(start)
	res.Workers = 1
	stored := max(res.States, 1)
	res.Coverage = &Coverage{Bits: int64(b.m), HashFunctions: bitstateHashes, HashFactor: float64(b.m) / float64(stored),
		Omission: omission(float64(b.m), float64(stored)), Expected: expectedCoverage(float64(b.m), float64(stored))}
	res.Complete, res.Stop = false, b.stop
	if res.Stop == "" {
		res.Stop = StopBitstate
	}
	return res, b.err
}

type bitSearch struct {
	mem      arena
	p        *program.Program
	o        Options
	n, words int
	m        uint64 // bits
	bits     []uint64
	stop     Stop
	err      error
	kinds    map[Kind]int64
}

// seen sets the state's bits and says whether they were all set already.
func (b *bitSearch) seen(fp uint64) bool {
	h1, h2 := fp, finish(fp^golden)|1
	all := true
	for i := range uint64(bitstateHashes) {
		hi, _ := bits.Mul64(h1+i*h2, b.m)
		w, bit := hi>>6, uint64(1)<<(hi&63)
		if b.bits[w]&bit == 0 {
			all = false
			b.bits[w] |= bit
		}
	}
	return all
}

// bitFrame is a state on the stack: its words are the stack's
// words[i*words:], next is the thread to try next, via the thread whose
// step led to it.
type bitFrame struct {
	next, via int
	sum       uint64
}

func (b *bitSearch) run(ctx context.Context, start time.Time) Result {
	res := Result{Kinds: b.kinds}
	s0, f := b.p.NewState()
	if f != nil {
		b.kinds[kindOf(f)]++
		res.Failures, res.States, res.Failure = 1, 1, &Found{Steps: []int{}, Failure: f}
		return res
	}
	words := slices.Clone(s0.Words())
	frames := []bitFrame{{via: -1, sum: sumOf(words)}}
	b.seen(finish(frames[0].sum))
	res.States = 1
	stackBytes := func() int64 { return int64(cap(words))*8 + int64(cap(frames))*24 }
	path := func(extra int) []int {
		out := make([]int, 0, len(frames))
		for _, fr := range frames[1:] {
			out = append(out, fr.via)
		}
		if extra >= 0 {
			out = append(out, extra)
		}
		return out
	}
	fail := func(f *program.Failure, extra int) {
		res.Failures++
		b.kinds[kindOf(f)]++
		if res.Failure == nil {
			res.Failure = &Found{Steps: path(extra), Failure: f}
		}
	}
	end := func(st *program.State) {
		if b.o.OnEnd != nil {
			b.o.OnEnd(st.Words())
		}
		if f := st.End(); f != nil {
			fail(f, -1)
		} else if res.Final == nil {
			res.Final = path(-1)
		}
	}
	if !anyEnabled(s0, b.n) {
		end(s0)
		return res
	}
	succ := make([]int64, b.words)
	for steps := 0; len(frames) > 0; steps++ {
		if steps&1023 == 0 {
			switch {
			case ctx.Err() != nil:
				b.stop, b.err = StopCanceled, fmt.Errorf("statespace: %w", context.Cause(ctx))
				return res
			case b.o.Budget > 0 && time.Since(start) > b.o.Budget:
				b.stop = StopBudget
				return res
			case int64(len(b.bits))*8+stackBytes() > b.o.MaxBytes:
				b.stop = StopMemory
				return res
			}
			res.Bytes = max(res.Bytes, int64(len(b.bits))*8+stackBytes())
			if b.o.Progress != nil && steps&(1<<20-1) == 0 {
				b.o.Progress(Progress{States: res.States, Transitions: res.Transitions, Depth: res.Depth, Bytes: res.Bytes, Elapsed: time.Since(start)})
			}
		}
		top := &frames[len(frames)-1]
		cur := words[(len(frames)-1)*b.words : len(frames)*b.words]
		st := b.p.View(cur)
		t := top.next
		for t < b.n && !st.IsEnabled(t) {
			t++
		}
		if t == b.n {
			frames = frames[:len(frames)-1]
			words = words[:len(frames)*b.words]
			continue
		}
		top.next = t + 1
		if len(frames)-1 >= b.o.MaxSteps {
			// A state too deep to go on from: the path is too long.
			if b.stop == "" {
				b.stop = StopMaxSteps
			}
			res.Failures++
			if res.Failure == nil {
				mf := &program.Failure{Verdict: program.MaxSteps, Pos: b.p.Def().Pos,
					Msg: fmt.Sprintf("the run took %d steps without ending (a spin or a livelock?)", b.o.MaxSteps)}
				b.kinds[kindOf(mf)]++
				res.Failure = &Found{Steps: path(-1), Failure: mf}
			}
			top.next = b.n
			continue
		}
		copy(succ, cur)
		v := b.p.View(succ)
		res.Transitions++
		if f := v.Advance(t); f != nil {
			fail(f, t)
			continue
		}
		if b.o.Canon != nil {
			b.o.Canon(succ, nil)
		}
		sum := resum(top.sum, cur, succ)
		if b.o.Canon != nil {
			sum = sumOf(succ)
		}
		if b.seen(finish(sum)) {
			continue
		}
		res.States++
		words = append(words, succ...)
		frames = append(frames, bitFrame{via: t, sum: sum})
		if !anyEnabled(&v, b.n) {
			end(&v)
		}
		res.Depth = max(res.Depth, len(frames)-1)
	}
	return res
}

// omission is the chance that a new state's k bits are all set once n
// states set theirs in m bits.
func omission(m, n float64) float64 {
	k := float64(bitstateHashes)
	return math.Pow(1-math.Exp(-k*n/m), k)
}

// expectedCoverage estimates the fraction of n states a bitstate search
// of m bits stored rather than took for states already seen: the i-th
// new state is missed when its k bits are all set already, with a chance
// of about (1-e^(-k·i/m))^k; averaged over i from 0 to n.
func expectedCoverage(m, n float64) float64 {
	const steps = 1000
	missed := 0.0
	for j := range steps {
		missed += omission(m, n*(float64(j)+0.5)/steps)
	}
	return 1 - missed/steps
}
