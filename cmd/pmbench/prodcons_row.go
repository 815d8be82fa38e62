package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pmrun/pmrun/actions/contract"
)

// The prodcons rows of the performance table: 1,000,000 items through a buffer of 16,
// pmrun's prodcons action run by a scenario against the textbook C program
// with pthreads (or fork) and three sem_t, actions/internal/prodcons/
// testdata/prodcons.c, in the same run. Both rates are over the run itself:
// pmrun's is the step's throughput (from the moment every worker has
// started to the last one's end), the C program's from before it creates
// its workers to after it has joined them, so neither counts process
// start-up. The 4 producer, 4 consumer rows are reported without a target.
func init() {
	for i, r := range []struct {
		mode       string
		p, c       int
		target     string
		targetRate float64
	}{
		{"threads", 1, 1, "≥ 1.0× its rate", 1.0},
		{"processes", 1, 1, "≥ 0.8× its rate", 0.8},
		{"threads", 4, 4, "— (reported)", 0},
		{"processes", 4, 4, "— (reported)", 0},
	} {
		baseline := "C pthreads + sem_t"
		if r.mode == "processes" {
			baseline = "C fork + sem_t in shared memory"
		}
		addRow(row{
			order:    50 + i,
			name:     fmt.Sprintf("prodcons, %s, %dP/%dC, buffer 16, 1,000,000 items", r.mode, r.p, r.c),
			baseline: baseline,
			target:   r.target,
			measure: func(b *bench) (measurement, error) {
				return measureProdcons(b, r.mode, r.p, r.c, r.targetRate)
			},
		})
	}
}

const prodconsItems, prodconsBuffer = 1_000_000, 16

func measureProdcons(b *bench, mode string, producers, consumers int, target float64) (measurement, error) {
	cbin := filepath.Join(b.dir, "prodcons")
	if _, err := os.Stat(cbin); err != nil {
		src := filepath.Join("actions", "internal", "prodcons", "testdata", "prodcons.c")
		if msg, err := exec.Command("gcc", "-O2", "-pthread", "-o", cbin, src).CombinedOutput(); err != nil {
			return measurement{}, fmt.Errorf("gcc %s: %v\n%s", src, err, msg)
		}
	}
	scenario, err := b.write(fmt.Sprintf("prodcons-%s-%d-%d.yaml", mode, producers, consumers), fmt.Sprintf(`name: prodcons-bench
steps:
  - id: pc
    prodcons: {producers: %d, consumers: %d, buffer: %d, items: %d, mode: %s}
  - assert: steps.pc.ok
  - log: "${{ steps.pc.throughput }}"
`, producers, consumers, prodconsBuffer, prodconsItems, mode))
	if err != nil {
		return measurement{}, err
	}
	cargs := []string{strconv.Itoa(prodconsItems), strconv.Itoa(prodconsBuffer), mode, strconv.Itoa(producers), strconv.Itoa(consumers)}
	// Rates are turned into the time of a million items, so that the best
	// is the shortest and the rate reads in M items/s.
	perItem := func(rate float64) time.Duration { return time.Duration(1e6 * float64(time.Second) / rate) }
	pmrunSide := func() (time.Duration, error) {
		rate, err := pmrunRate(b, scenario)
		return perItem(rate), err
	}
	cSide := func() (time.Duration, error) {
		out, err := exec.Command(cbin, cargs...).Output()
		if err != nil {
			return 0, fmt.Errorf("prodcons.c %s: %v", strings.Join(cargs, " "), err)
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(string(out), "items/s")), 64)
		if err != nil || rate <= 0 {
			return 0, fmt.Errorf("prodcons.c printed %q", out)
		}
		return perItem(rate), nil
	}
	s, err := b.alternate(pmrunSide, cSide)
	if err != nil {
		return measurement{}, err
	}
	ours, theirs := statOf(s[0]), statOf(s[1])
	ratio, text := speedRatio(ours, theirs)
	m := measurement{
		value: ours.rate("%.2fM items/s"),
		base:  theirs.rate("%.2fM items/s"),
		ratio: text,
		ok:    target == 0 || ratio >= target,
	}
	if target == 0 {
		m.note = "no target"
	}
	return m, nil
}

// pmrunRate runs the scenario and returns the throughput its log step wrote.
func pmrunRate(b *bench, scenario string) (float64, error) {
	logFile := filepath.Join(b.dir, "prodcons.log")
	os.Remove(logFile)
	_, runErr := timeCmd(b.pmrun, "run", "-q", "--log", logFile, scenario)
	f, err := os.Open(logFile)
	if err != nil {
		return 0, errors.Join(runErr, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev struct {
			Event   string `json:"event"`
			Message string `json:"@message"`
			Error   string `json:"error"`
		}
		switch {
		case json.Unmarshal(sc.Bytes(), &ev) != nil:
		case ev.Event == contract.StepEnd && ev.Error != "":
			return 0, fmt.Errorf("pmrun: %s", ev.Error) // the step's own reason says more than the exit status
		case ev.Event == "log" && runErr == nil:
			return strconv.ParseFloat(ev.Message, 64)
		}
	}
	return 0, errors.Join(runErr, fmt.Errorf("%s: no throughput in the log", filepath.Base(scenario)))
}
