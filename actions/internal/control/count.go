package control

import (
	"math/big"
	"math/bits"
)

// countPaths counts the maximal paths (with failing, only those that end
// in a failure) from the first node of the state
// graph a complete, unsharded exhaustive search recorded: every step of
// every visited state, those a sleep set skipped included, so the count is
// of interleavings before reduction. A final state ends one path, and so
// does a failing step. cyclic is true (and the count nil) when the graph
// has a cycle: then there are infinitely many. It counts in machine words
// and only falls back to big integers when a count overflows.
func countPaths(nodes []node, edges []uint64, visited map[uint64]int32, failing bool) (count *big.Int, cyclic bool) {
	if len(nodes) == 0 {
		return nil, false
	}
	res, st := countWith(nodes, edges, visited, failing, smallArith{})
	if st == overflow {
		res, st = countWith(nodes, edges, visited, failing, bigArith{})
	}
	return res, st == cyclicGraph
}

// countStatus is how a count ended.
type countStatus int

const (
	counted     countStatus = iota
	overflow                // a machine word overflowed
	missing                 // an edge leads to a state never visited
	cyclicGraph             // the graph has a cycle
)

// arith is the arithmetic of a count: machine words that report overflow,
// or big integers.
type arith[T any] interface {
	one() T
	zero() T
	add(a, b T) (T, bool) // false: overflow
	result(T) *big.Int
}

type smallArith struct{}

func (smallArith) one() uint64  { return 1 }
func (smallArith) zero() uint64 { return 0 }
func (smallArith) add(a, b uint64) (uint64, bool) {
	s, c := bits.Add64(a, b, 0)
	return s, c == 0
}
func (smallArith) result(v uint64) *big.Int { return new(big.Int).SetUint64(v) }

type bigArith struct{}

func (bigArith) one() *big.Int                      { return big.NewInt(1) }
func (bigArith) zero() *big.Int                     { return new(big.Int) }
func (bigArith) add(a, b *big.Int) (*big.Int, bool) { return new(big.Int).Add(a, b), true }
func (bigArith) result(v *big.Int) *big.Int         { return v }

// countWith counts by depth-first search in post-order, without recursion
// (a path may be thousands of states long); the result is nil unless the
// status is counted.
func countWith[T any, A arith[T]](nodes []node, edges []uint64, visited map[uint64]int32, failing bool, a A) (*big.Int, countStatus) {
	const (
		white = iota
		grey
		black
	)
	color := make([]uint8, len(nodes))
	val := make([]T, len(nodes))
	type item struct {
		i    int32
		left uint64 // successors still to add
	}
	succ := func(i int32, t int) (int32, bool) {
		j, found := visited[edges[int(nodes[i].edge)+t]]
		return j, found
	}
	stack := []item{{0, nodes[0].enabled &^ nodes[0].failed}}
	color[0] = grey
	val[0] = a.zero()
	for len(stack) > 0 {
		top := &stack[len(stack)-1]
		if top.left == 0 {
			nd := nodes[top.i]
			v := a.zero()
			if nd.enabled == 0 && (!failing || nd.endFail) {
				v = a.one()
			}
			for m := nd.failed; m != 0; m &= m - 1 {
				var ok bool
				if v, ok = a.add(v, a.one()); !ok {
					return nil, overflow
				}
			}
			for m := nd.enabled &^ nd.failed; m != 0; m &= m - 1 {
				j, _ := succ(top.i, bits.TrailingZeros64(m))
				var ok bool
				if v, ok = a.add(v, val[j]); !ok {
					return nil, overflow
				}
			}
			val[top.i] = v
			color[top.i] = black
			stack = stack[:len(stack)-1]
			continue
		}
		t := bits.TrailingZeros64(top.left)
		top.left &^= 1 << t
		j, found := succ(top.i, t)
		if !found {
			return nil, missing
		}
		switch color[j] {
		case grey:
			return nil, cyclicGraph
		case white:
			color[j] = grey
			stack = append(stack, item{j, nodes[j].enabled &^ nodes[j].failed})
		}
	}
	return a.result(val[0]), counted
}
