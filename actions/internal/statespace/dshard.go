package statespace

// A shard of a DPOR search splits its tree of runs, not the state graph:
// every shard walks the top of the tree alike, to a depth where it holds
// at least dealPer·N prefixes, expanding each state of the top by every
// thread (with sleep sets, so that no two prefixes are the same run in
// another order); it deals the prefixes (and the runs that end or fail
// above that depth) round-robin in the order it meets them, and walks
// with DPOR below its own. A race found below a prefix asks for a thread
// to be tried at a state of the run; at a state of the top every thread
// is tried already, so the search below a prefix never changes the top,
// and the shards between them walk what one search whose top is expanded
// in full walks: every failure and final state the whole search finds.

// dealPer is how many prefixes a shard gets, at least, on average.
const dealPer = 8

// dtop is the top of a sharded DPOR tree: the depth of its prefixes,
// which of them a shard walks below, and how many it met.
type dtop struct {
	depth    int
	shard    Shard
	counting bool // only count the prefixes, up to target
	target   int
	items    int  // the prefixes and the runs above them met so far
	mine     int  // of which this shard's
	deeper   bool // some prefix can step on
}

// deal says whether the next prefix (or run ended above the prefixes) is
// this shard's.
func (top *dtop) deal() bool {
	k := top.items
	top.items++
	if top.counting {
		return false
	}
	if k%top.shard.Count == top.shard.Index {
		top.mine++
		return true
	}
	return false
}

// owns says whether a run that ends at depth d is this shard's.
func (x *dpor) owns(d int) bool {
	if x.top == nil || d > x.top.depth {
		return true
	}
	return x.top.deal()
}

// shardTop finds the depth of the prefixes: the least at which the top
// holds dealPer·N of them, or the whole tree when it is not so wide. It
// walks the top once for each depth tried (the tops grow geometrically,
// so about twice the last).
func (x *dpor) shardTop() {
	target := dealPer * x.o.Shard.Count
	for depth := 0; ; depth++ {
		y := newDpor(x.ctx, x.p, x.o)
		y.top = &dtop{depth: depth, counting: true, target: target}
		y.search()
		x.trans += y.trans
		if y.fallback != "" || y.stop != "" {
			x.fallback, x.stop, x.err = y.fallback, y.stop, y.err
			return
		}
		if y.top.items >= target || !y.top.deeper || depth >= x.o.MaxSteps {
			x.top = &dtop{depth: depth, shard: x.o.Shard}
			return
		}
	}
}
