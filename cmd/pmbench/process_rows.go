package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

func init() {
	addRow(row{
		order:    30,
		name:     "spawn + wait of 1,000 /bin/true",
		baseline: "C posix_spawn + waitpid loop",
		target:   "≥ 0.9× its rate",
		measure:  measureSpawn,
	})
	addRow(row{
		order:    32,
		name:     "pmrun ps --json of every process",
		baseline: "ps -e -o pid,ppid,comm,stat",
		target:   "≤ 1.0× its time",
		measure:  measurePS,
	})
	addRow(row{
		order:    31,
		name:     "runner RSS with 1,000 children alive",
		baseline: "—",
		target:   "≤ 30 MiB",
		measure:  measureRSS,
	})
}

// measureSpawn times a scenario that spawns and waits for /bin/true 1,000
// times, one after the other as the C loop does, beyond the start-up of a
// scenario that does it once.
func measureSpawn(b *bench) (measurement, error) {
	const n = 1000
	many, one, err := b.repeated("spawn", "name: spawns\nsteps:\n", n, func(i int) string {
		return fmt.Sprintf("  - spawn: {name: p%d, cmd: [/bin/true]}\n  - wait: {process: p%d}\n", i, i)
	})
	if err != nil {
		return measurement{}, err
	}
	cbin, err := b.cc("actions/internal/proc/testdata/spawn.c")
	if err != nil {
		return measurement{}, err
	}
	cLoop := func() (time.Duration, error) {
		out, err := exec.Command(cbin, strconv.Itoa(n)).Output() // prints nanoseconds
		if err != nil {
			return 0, fmt.Errorf("spawn.c: %v", err)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("spawn.c printed %q", out)
		}
		return time.Duration(ns), nil
	}
	s, err := b.alternate(on(b.runScenario, many), on(b.runScenario, one), cLoop)
	if err != nil {
		return measurement{}, err
	}
	ours, theirs := diffStat(s[0], s[1]).per(n-1), statOf(s[2]).per(n)
	ratio, text := speedRatio(ours, theirs)
	return measurement{
		value: ours.rate("%.0f spawns/s"),
		base:  theirs.rate("%.0f spawns/s"),
		ratio: text,
		ok:    ratio >= 0.9,
	}, nil
}

// cSeconds runs a C baseline that prints the seconds its measured loop
// took.
func cSeconds(bin string, args ...string) (time.Duration, error) {
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return 0, fmt.Errorf("%s: %v", bin, err)
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return 0, fmt.Errorf("%s printed %q", bin, out)
	}
	return time.Duration(secs * float64(time.Second)), nil
}

// measureRSS starts 1,000 sleeping children from a scenario and reads the
// runner's peak resident set (VmHWM) while they are all alive.
func measureRSS(b *bench) (measurement, error) {
	const n = 1000
	var s strings.Builder
	s.WriteString("name: rss\nsteps:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&s, "  - spawn: {name: p%d, cmd: [sleep, \"60\"]}\n", i)
	}
	s.WriteString("  - log: all started\n  - sleep: 3s\n")
	path, err := b.write("rss.yaml", s.String())
	if err != nil {
		return measurement{}, err
	}
	log := b.dir + "/rss.log"
	cmd := exec.Command(b.pmrun, "run", "-q", "--log", log, path)
	if err := cmd.Start(); err != nil {
		return measurement{}, err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var peak, atAll int64
	for {
		select {
		case err := <-done:
			if err != nil {
				return measurement{}, fmt.Errorf("pmrun: %v", err)
			}
			if atAll == 0 {
				return measurement{}, fmt.Errorf("never saw all %d children alive", n)
			}
			mib := float64(atAll) / 1024
			return measurement{
				value: fmt.Sprintf("%.1f MiB (peak %.1f MiB)", mib, float64(peak)/1024),
				base:  "—",
				ratio: fmt.Sprintf("%.2f× the target", mib/30),
				ok:    mib <= 30,
			}, nil
		case <-time.After(100 * time.Millisecond):
			rss, hwm := statusKiB(cmd.Process.Pid)
			peak = max(peak, hwm)
			if atAll == 0 && childCount(cmd.Process.Pid) >= n {
				atAll = rss
			}
		}
	}
}

// statusKiB reads VmRSS and VmHWM of a process, in KiB.
func statusKiB(pid int) (rss, hwm int64) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = n
		case "VmHWM:":
			hwm = n
		}
	}
	return rss, hwm
}

// childCount counts a process's children over all its threads.
func childCount(pid int) int {
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	n := 0
	for _, t := range tasks {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", pid, t.Name()))
		n += len(strings.Fields(string(data)))
	}
	return n
}

// measurePS times `pmrun ps --json` against ps listing the same processes,
// alternating them ten times a round (both are short).
func measurePS(b *bench) (measurement, error) {
	side := func(name string, args ...string) func() (time.Duration, error) {
		return func() (time.Duration, error) {
			cmd := exec.Command(name, args...)
			start := time.Now()
			if out, err := cmd.Output(); err != nil || len(out) == 0 {
				return 0, fmt.Errorf("%s: %v", name, err)
			}
			return time.Since(start), nil
		}
	}
	tenfold := *b
	tenfold.repeat = 10 * b.repeat
	s, err := tenfold.alternate(side(b.pmrun, "ps", "--json"), side("ps", "-e", "-o", "pid,ppid,comm,stat"))
	if err != nil {
		return measurement{}, err
	}
	ours, theirs := statOf(s[0]), statOf(s[1])
	ratio, text := timeRatio(ours, theirs)
	show := func(s stat) string {
		return fmt.Sprintf("%s (median %s)", s.best.Round(10*time.Microsecond), s.median.Round(10*time.Microsecond))
	}
	return measurement{
		value: show(ours),
		base:  show(theirs),
		ratio: text,
		ok:    ratio <= 1.0,
	}, nil
}
