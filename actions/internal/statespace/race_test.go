//go:build race

package statespace

// raceOn says the tests run under the race detector, which makes a
// search some ten times slower: the heaviest tests do less.
const raceOn = true
