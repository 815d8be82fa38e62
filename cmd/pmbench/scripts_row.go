package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The scripts row: two shell scripts passing points under a scripts step
// (pmrun point, its socket, pmrun choosing at each point), against the
// same scripts run plainly, where pmrun point returns at once: the cost
// of control beyond starting pmrun point at each point.
func init() {
	addRow(row{
		order:    75,
		name:     fmt.Sprintf("scripts step: two shell scripts passing %d points each (pmrun point)", scriptPoints),
		baseline: "the same two scripts run plainly, pmrun point returning at once",
		target:   "reported",
		measure:  measureScripts,
	})
}

const scriptPoints = 100

func measureScripts(b *bench) (measurement, error) {
	script, err := b.write("points.sh", fmt.Sprintf("i=0\nwhile [ $i -lt %d ]; do\n\tpmrun point p\n\ti=$((i + 1))\ndone\n", scriptPoints))
	if err != nil {
		return measurement{}, err
	}
	scenario, err := b.write("scripts.yaml", fmt.Sprintf(`name: scripts_bench
steps:
  - id: points
    scripts: {procs: {a: sh %[1]s, b: sh %[1]s}, runs: 1, shrink: false, max_steps: 100000, timeout: 10m}
  - assert: steps.points.ok && steps.points.steps == %[2]d
`, script, 2*scriptPoints))
	if err != nil {
		return measurement{}, err
	}
	// Both sides find this pmrun first on the PATH, and neither inherits
	// a point socket.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PMRUN_POINT_") && !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	env = append(env, "PATH="+filepath.Dir(b.pmrun)+string(os.PathListSeparator)+os.Getenv("PATH"))
	timed := func(cmd *exec.Cmd) (time.Duration, error) {
		cmd.Env = env
		start := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("%s: %v: %s", strings.Join(cmd.Args, " "), err, lastLines(string(out), 5))
		}
		return time.Since(start), nil
	}
	controlled := func() (time.Duration, error) {
		return timed(exec.Command(b.pmrun, "run", "--no-log", "-q", scenario))
	}
	plain := func() (time.Duration, error) {
		return timed(exec.Command("sh", "-c", fmt.Sprintf("sh %[1]s & sh %[1]s & wait", script)))
	}
	s, err := b.alternate(controlled, plain)
	if err != nil {
		return measurement{}, err
	}
	const points = 2 * scriptPoints
	ours, theirs := statOf(s[0]).per(points), statOf(s[1]).per(points)
	_, text := speedRatio(ours, theirs)
	return measurement{
		value: ours.rate("%.0f points/s"),
		base:  theirs.rate("%.0f points/s"),
		ratio: text,
		ok:    true,
	}, nil
}
