// Command pmbench prints pmrun's performance table (make bench): each row
// is measured side by side with its baseline in the same run, the two
// alternated several times (-repeat), and shows the best and the median of
// each; the ratio of the bests decides against the target, which comes
// last. On a small, busy machine one run of a row can swing by a factor of
// two, so neither a single run nor the minute it ran should decide. It
// builds pmrun and the C baselines into a temporary directory first.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pmrun/pmrun/actions/contract"
	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// row is one line of the table.
type row struct {
	order    int
	name     string
	baseline string
	target   string
	measure  func(b *bench) (measurement, error)
}

// measurement is a row's numbers: pmrun's value, the baseline's, the
// ratio and whether it meets the target.
type measurement struct {
	value, base string
	ratio       string
	ok          bool
	note        string
}

var rows []row

func addRow(r row) { rows = append(rows, r) }

// bench is what rows share: the work directory, the built pmrun binary,
// and a way to build C baselines.
type bench struct {
	dir    string
	pmrun  string
	repeat int
}

func main() {
	only := flag.String("rows", "", "run only the rows whose name matches this `regexp` (case-insensitive)")
	repeat := flag.Int("repeat", 5, "alternate pmrun and its baseline `N` times a row; the table shows the best and the median of each")
	flag.Parse()
	var filter *regexp.Regexp
	if *repeat < 1 {
		fail(fmt.Errorf("-repeat %d: want 1 or more", *repeat))
	}
	if *only != "" {
		filter = regexp.MustCompile("(?i)" + *only)
	}
	dir, err := os.MkdirTemp("", "pmbench-")
	if err != nil {
		fail(err)
	}
	defer os.RemoveAll(dir)
	b := &bench{dir: dir, repeat: *repeat, pmrun: filepath.Join(dir, "pmrun")}
	fmt.Fprintln(os.Stderr, "pmbench: building pmrun…")
	// Built as make install builds it: without cgo, a static binary.
	build := exec.Command("go", "build", "-o", b.pmrun, "./cmd/pmrun")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fail(fmt.Errorf("go build: %v\n%s", err, out))
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].order < rows[j].order })

	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(os.Stderr, "pmbench: each row alternates pmrun and its baseline %d times\n", b.repeat)
	fmt.Fprintln(tw, "row\tpmrun: best (median)\tbaseline: best (median)\tratio of bests\ttarget\tmet")
	fmt.Fprintln(tw, "---\t--------------------\t-----------------------\t--------------\t------\t---")
	failed := 0
	for _, r := range rows {
		if filter != nil && !filter.MatchString(r.name) {
			continue
		}
		fmt.Fprintf(os.Stderr, "pmbench: %s…\n", r.name)
		start := time.Now()
		m, err := r.measure(b)
		if err != nil {
			failed++
			fmt.Fprintf(tw, "%s\terror: %v\t%s\t\t%s\tno\n", r.name, oneLine(err), r.baseline, r.target)
			continue
		}
		met := "yes"
		if !m.ok {
			met = "NO"
		}
		if m.note != "" {
			met += " (" + m.note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s: %s\t%s\t%s\t%s\n", r.name, m.value, r.baseline, m.base, m.ratio, r.target, met)
		fmt.Fprintf(os.Stderr, "pmbench: %s done in %s\n", r.name, time.Since(start).Round(time.Millisecond))
	}
	tw.Flush()
	if failed > 0 {
		os.Exit(1)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "pmbench:", err)
	os.Exit(1)
}

func oneLine(err error) string { return strings.ReplaceAll(err.Error(), "\n", " ") }

// repeated writes two scenarios into the work directory: head followed by
// step(i) for i in [0, n), and the same with one step, so that their
// difference is the cost of n-1 steps beyond start-up.
func (b *bench) repeated(name, head string, n int, step func(i int) string) (many, one string, err error) {
	scenario := func(count int) string {
		var s strings.Builder
		s.WriteString(head)
		for i := 0; i < count; i++ {
			s.WriteString(step(i))
		}
		return s.String()
	}
	if many, err = b.write(name+"-many.yaml", scenario(n)); err != nil {
		return "", "", err
	}
	one, err = b.write(name+"-one.yaml", scenario(1))
	return many, one, err
}

// loading times `pmrun check`, which loads a scenario and compiles its
// expressions.
func (b *bench) loading(path string) (time.Duration, error) { return timeCmd(b.pmrun, "check", path) }

// on binds a timer to a scenario, as a side for [bench.alternate].
func on(timer func(path string) (time.Duration, error), path string) func() (time.Duration, error) {
	return func() (time.Duration, error) { return timer(path) }
}

// write writes a file into the work directory and returns its path.
func (b *bench) write(name, content string) (string, error) {
	path := filepath.Join(b.dir, name)
	return path, os.WriteFile(path, []byte(content), 0o644)
}

// cc compiles a C baseline into the work directory: name is a file in
// cmd/pmbench/c, or a path from the repository's root.
func (b *bench) cc(name string, libs ...string) (string, error) {
	src := name
	if !strings.Contains(name, "/") {
		src = filepath.Join("cmd", "pmbench", "c", name)
	}
	out := filepath.Join(b.dir, strings.TrimSuffix(filepath.Base(name), ".c"))
	if _, err := os.Stat(out); err == nil {
		return out, nil // built by an earlier row
	}
	args := append([]string{"-O2", "-o", out, src}, libs...)
	if msg, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc %s: %v\n%s", name, err, msg)
	}
	return out, nil
}

// timeCmd runs a command to completion and returns its wall time.
func timeCmd(name string, args ...string) (time.Duration, error) {
	cmd := exec.Command(name, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("%s: %v: %s", filepath.Base(name), err, lastLines(stderr.String(), 5))
	}
	return time.Since(start), nil
}

// runScenario runs pmrun on a scenario the way a user would: logging to a
// file, the console to /dev/null.
func (b *bench) runScenario(path string) (time.Duration, error) {
	return timeCmd(b.pmrun, "run", "-q", "--log", filepath.Join(b.dir, "bench.log"), path)
}

// stepTimes runs a scenario and returns each step's duration by id, from
// its step_end event in the log.
func (b *bench) stepTimes(path string) (map[string]time.Duration, error) {
	log := filepath.Join(b.dir, "step-times.log")
	os.Remove(log)
	if _, err := timeCmd(b.pmrun, "run", "-q", "--log", log, path); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(log)
	if err != nil {
		return nil, err
	}
	out := map[string]time.Duration{}
	for _, line := range strings.Split(string(data), "\n") {
		var ev struct {
			Event      string  `json:"event"`
			StepID     string  `json:"step_id"`
			DurationMS float64 `json:"duration_ms"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == contract.StepEnd && ev.StepID != "" {
			out[ev.StepID] = time.Duration(ev.DurationMS * float64(time.Millisecond))
		}
	}
	return out, nil
}

// scenarioTime runs a scenario and returns the time from its
// scenario_start to its scenario_end event, as the log reports it.
func (b *bench) scenarioTime(path string) (time.Duration, error) {
	log := filepath.Join(b.dir, "scenario-time.log")
	os.Remove(log)
	if _, err := timeCmd(b.pmrun, "run", "-q", "--log", log, path); err != nil {
		return 0, err
	}
	data, err := os.ReadFile(log)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(data), "\n") {
		var ev struct {
			Event      string  `json:"event"`
			DurationMS float64 `json:"duration_ms"`
		}
		if json.Unmarshal([]byte(line), &ev) == nil && ev.Event == contract.ScenarioEnd {
			return time.Duration(ev.DurationMS * float64(time.Millisecond)), nil
		}
	}
	return 0, fmt.Errorf("%s: no scenario_end event in the log", path)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
