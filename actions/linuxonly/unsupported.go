//go:build !linux

package linuxonly

// The compiler names this identifier in its error, the one line a build
// for another system shows: pmrun runs on Linux only (README, "The two
// commands").
const _ = pmrun_runs_on_Linux_only
