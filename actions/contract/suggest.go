package contract

import (
	"fmt"
	"strings"
)

// DidYouMean formats a suggestion of the candidate nearest to s for an
// error message (`, did you mean "spawn"?`), or returns "" when none is
// near enough to be a likely slip ([Nearest]). The loader's errors and
// the actions' (a program's names) suggest names alike.
func DidYouMean(s string, candidates []string) string {
	if c := Nearest(s, candidates); c != "" {
		return fmt.Sprintf(", did you mean %q?", c)
	}
	return ""
}

// Nearest returns the candidate nearest to s, if it is near enough to be
// a likely slip, else "": one that differs only in case; else the one
// candidate that ends with s, when s has three letters or more (KILL for
// SIGKILL); else the closest within an edit distance that grows with the
// length of s (one edit for short names, at most three). A one-letter
// name is one edit from any other: it gets a suggestion only when there
// is one candidate (p for q, the one process), not a guess among several
// (b for z, among a program's variables).
func Nearest(s string, candidates []string) string {
	var suffixed []string
	for _, c := range candidates {
		if strings.EqualFold(c, s) {
			return c
		}
		if len(s) >= 3 && len(c) > len(s) && strings.EqualFold(c[len(c)-len(s):], s) {
			suffixed = append(suffixed, c)
		}
	}
	if len(suffixed) == 1 {
		return suffixed[0]
	}
	n := len([]rune(s))
	limit := max(1, min(3, n/3))
	if n == 0 || n == 1 && len(candidates) > 1 {
		return "" // one letter is one edit from any other: a guess among several is noise
	}
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the optimal-string-alignment distance: insertions,
// deletions, substitutions and swaps of two adjacent letters ("spwan")
// each count one.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
