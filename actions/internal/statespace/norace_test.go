//go:build !race

package statespace

const raceOn = false
