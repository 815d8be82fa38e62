//go:build race

package actions_test

// raceEnabled: the race detector allows at most 8,128 goroutines alive at
// once, fewer than some tests start threads without it.
const raceEnabled = true
