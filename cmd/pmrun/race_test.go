//go:build race

package main

// raceEnabled: this test binary, which the tests run as pmrun, is built
// with the race detector.
const raceEnabled = true
