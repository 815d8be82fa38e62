package statespace

// A state's fingerprint is the sum of a hash of each word with its
// position (then mixed once more), so that a step, which changes a few
// words, changes the sum by what those words add: a successor's
// fingerprint costs a comparison of its words with its parent's and a
// hash of the words that differ. Each word's hash is SplitMix64's
// finalizer (two rounds of a shift, an exclusive or and a multiply: not
// linear, so that the hashes of different words do not cancel in the
// sum) of the word plus its position times the golden ratio; the final
// mix is xxHash64's avalanche. Two different states have the same
// fingerprint with a chance of about 2^-64, so a search of N states
// confuses two of them with a chance of about N²/2^65 (hash compaction,
// as SPIN's -DHC).
const (
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	golden uint64 = 0x9E3779B97F4A7C15
)

// wordHash is word x at position i's part of the sum.
func wordHash(i int, x int64) uint64 {
	z := uint64(x) + uint64(i+1)*golden
	z = (z ^ z>>30) * 0xBF58476D1CE4E5B9
	z = (z ^ z>>27) * 0x94D049BB133111EB
	return z ^ z>>31
}

// sumOf is the sum of the words' hashes.
func sumOf(w []int64) uint64 {
	var h uint64
	for i, x := range w {
		h += wordHash(i, x)
	}
	return h
}

// resum is the sum of succ given the sum of parent, which succ differs
// from in a few words.
func resum(sum uint64, parent, succ []int64) uint64 {
	parent = parent[:len(succ)]
	for i, x := range succ {
		if y := parent[i]; x != y {
			sum += wordHash(i, x) - wordHash(i, y)
		}
	}
	return sum
}

// finish turns a sum into a fingerprint: never 0 (the table's empty
// slot).
func finish(h uint64) uint64 {
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	if h == 0 {
		return 1
	}
	return h
}

// fingerprintOf is the fingerprint of a state's words.
func fingerprintOf(w []int64) uint64 { return finish(sumOf(w)) }
