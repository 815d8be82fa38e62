package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// The model checker's rows: pmrun's exhaustive search against SPIN
// (Holzmann's model checker, Debian's spin) on the same model, written
// as a pmrun program and in Promela (actions/internal/statespace/testdata/spin).
// pmrun's side is `pmrun run` of a scenario that searches the program
// (end to end: pmrun's start, the load, the search, the run shown
// replayed on real threads) and, within it, the program step's time
// from the log (the search). SPIN's side is spin -a, gcc -O2 -DSAFETY
// and ./pan (end to end) and ./pan alone (the search); pan searches past
// errors (-c0), as pmrun does. Each round runs the two one after the
// other. The targets: pan's time within 2× pmrun's search's, pmrun end
// to end faster than SPIN end to end, pmrun's peak RSS no more than
// pan's.
func init() {
	for i, m := range spinModels {
		addRow(row{
			order:    80 + i,
			name:     "exhaustive search vs SPIN: " + m.what,
			baseline: "SPIN 6.5 -DSAFETY (pan alone; spin -a + gcc -O2 + pan)",
			target:   "search ≤ 2× pan's time; end to end faster than SPIN's; peak RSS ≤ pan's",
			measure:  func(b *bench) (measurement, error) { return measureSpin(b, m) },
		})
	}
}

// spinModels are the rows' models: names in the corpus.
var spinModels = []struct{ name, what string }{
	{"lost_5x2", "lost update, 5 threads × 2 (fails)"},
	{"dining_ordered_8", "dining philosophers, 8, ordered forks"},
	{"barrier_7", "Downey's reusable barrier, 7 threads × 2 rounds"},
}

const corpusDir = "actions/internal/statespace/testdata/spin"

// spinRun is one side's numbers for one round.
type spinRun struct {
	search, whole time.Duration
	rss           int64
	states        float64
	transitions   float64
	complete      bool
}

func measureSpin(b *bench, m struct{ name, what string }) (measurement, error) {
	if _, err := exec.LookPath("spin"); err != nil {
		return measurement{}, fmt.Errorf("spin is not installed (Debian: apt-get install spin)")
	}
	scenario, err := b.spinScenario(m.name)
	if err != nil {
		return measurement{}, err
	}
	var ours, theirs []spinRun
	s, err := b.alternate(func() (time.Duration, error) {
		r, err := b.pmrunSearch(scenario)
		ours = append(ours, r)
		return r.whole, err
	}, func() (time.Duration, error) {
		r, err := b.spinSearch(m.name)
		theirs = append(theirs, r)
		return r.whole, err
	})
	if err != nil {
		return measurement{}, err
	}
	pick := func(rs []spinRun, f func(spinRun) time.Duration) samples {
		out := make(samples, len(rs))
		for i, r := range rs {
			out[i] = f(r)
		}
		return out
	}
	search := func(r spinRun) time.Duration { return r.search }
	oSearch, tSearch := statOf(pick(ours, search)), statOf(pick(theirs, search))
	oWhole, tWhole := statOf(s[0]), statOf(s[1])
	var oRSS, tRSS int64
	for _, r := range ours {
		oRSS = max(oRSS, r.rss)
	}
	for _, r := range theirs {
		tRSS = max(tRSS, r.rss)
	}
	searchRatio := oSearch.best.Seconds() / tSearch.best.Seconds()
	wholeRatio := oWhole.best.Seconds() / tWhole.best.Seconds()
	rate := oSearch.scale(1 / ours[0].states)
	return measurement{
		value: fmt.Sprintf("%.0f states: search %v (median %v), %s; end to end %v (%v); peak RSS %.0f MiB",
			ours[0].states, oSearch.best.Round(time.Millisecond), oSearch.median.Round(time.Millisecond), rate.rate("%.0f states/s"),
			oWhole.best.Round(time.Millisecond), oWhole.median.Round(time.Millisecond), float64(oRSS)/(1<<20)),
		base: fmt.Sprintf("%.0f states: pan %v (%v); end to end %v (%v); peak RSS %.0f MiB",
			theirs[0].states, tSearch.best.Round(time.Millisecond), tSearch.median.Round(time.Millisecond),
			tWhole.best.Round(time.Millisecond), tWhole.median.Round(time.Millisecond), float64(tRSS)/(1<<20)),
		ratio: fmt.Sprintf("search %.2f× pan's time; end to end %.2f×; RSS %.2f×", searchRatio, wholeRatio, float64(oRSS)/float64(tRSS)),
		ok:    searchRatio <= 2 && wholeRatio < 1 && oRSS <= tRSS,
	}, nil
}

// searchBoth times pmrun's search of corpus model name as spinScenario
// writes it (without) against the same scenario with old replaced by new
// (with, written as KIND-NAME.yaml), alternating the two.
func (b *bench) searchBoth(name, kind, old, new string) (with, without []spinRun, err error) {
	plain, err := b.spinScenario(name)
	if err != nil {
		return nil, nil, err
	}
	src, err := os.ReadFile(plain)
	if err != nil {
		return nil, nil, err
	}
	if !strings.Contains(string(src), old) {
		return nil, nil, fmt.Errorf("%s: no %q to replace", plain, old)
	}
	variant, err := b.write(kind+"-"+name+".yaml", strings.Replace(string(src), old, new, 1))
	if err != nil {
		return nil, nil, err
	}
	_, err = b.alternate(func() (time.Duration, error) {
		r, err := b.pmrunSearch(variant)
		with = append(with, r)
		return r.search, err
	}, func() (time.Duration, error) {
		r, err := b.pmrunSearch(plain)
		without = append(without, r)
		return r.search, err
	})
	return with, without, err
}

// spinScenario writes a scenario that searches the corpus's program name
// exhaustively.
func (b *bench) spinScenario(name string) (string, error) {
	prog, err := os.ReadFile(filepath.Join(corpusDir, name+".yaml"))
	if err != nil {
		return "", err
	}
	var s strings.Builder
	fmt.Fprintf(&s, "name: spin-%s\ntimeout: 1h\nprograms:\n", name)
	for _, line := range strings.Split(strings.TrimRight(string(prog), "\n"), "\n") {
		s.WriteString("  " + line + "\n")
	}
	fmt.Fprintf(&s, "steps:\n  - id: search\n    program: {run: %s, scheduler: exhaustive, symmetry: false, max_states: 100000000}\n", name)
	return b.write("spin-"+name+".yaml", s.String())
}

// pmrunSearch runs the scenario and returns its times, the process's peak
// resident set and the states the search reported.
func (b *bench) pmrunSearch(path string) (spinRun, error) {
	log := filepath.Join(b.dir, "spin-row.log")
	os.Remove(log)
	cmd := exec.Command(b.pmrun, "run", "-q", "--log", log, path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return spinRun{}, fmt.Errorf("pmrun: %v: %s", err, lastLines(stderr.String(), 5))
	}
	r := spinRun{whole: time.Since(start), rss: maxRSS(cmd)}
	f, err := os.Open(log)
	if err != nil {
		return r, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var ev struct {
			Event      string  `json:"event"`
			StepID     string  `json:"step_id"`
			DurationMS float64 `json:"duration_ms"`
			States     float64 `json:"states"`
			Trans      float64 `json:"transitions"`
			Complete   bool    `json:"complete"`
		}
		if json.Unmarshal(sc.Bytes(), &ev) != nil {
			continue
		}
		switch {
		case ev.Event == "step_end" && ev.StepID == "search":
			r.search = time.Duration(ev.DurationMS * float64(time.Millisecond))
		case ev.Event == "program_searched":
			r.states, r.transitions, r.complete = ev.States, ev.Trans, ev.Complete
		}
	}
	if r.search == 0 {
		return r, fmt.Errorf("%s: no step_end of the search in the log", path)
	}
	return r, nil
}

// spinSearch compiles and runs the Promela model name as SPIN does, and
// returns pan's time, the whole time, pan's peak resident set and the
// states it stored.
func (b *bench) spinSearch(name string) (spinRun, error) {
	dir := filepath.Join(b.dir, "spin-"+name)
	os.RemoveAll(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return spinRun{}, err
	}
	src, err := os.ReadFile(filepath.Join(corpusDir, name+".pml"))
	if err != nil {
		return spinRun{}, err
	}
	if err := os.WriteFile(filepath.Join(dir, name+".pml"), src, 0o644); err != nil {
		return spinRun{}, err
	}
	start := time.Now()
	for _, c := range [][]string{{"spin", "-a", name + ".pml"}, {"gcc", "-O2", "-DSAFETY", "-o", "pan", "pan.c"}} {
		cmd := exec.Command(c[0], c[1:]...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			return spinRun{}, fmt.Errorf("%s: %v: %s", strings.Join(c, " "), err, lastLines(string(out), 5))
		}
	}
	cmd := exec.Command("./pan", "-m1000000", "-c0")
	cmd.Dir = dir
	panStart := time.Now()
	out, err := cmd.Output()
	end := time.Now()
	if err != nil {
		return spinRun{}, fmt.Errorf("pan: %v: %s", err, lastLines(string(out), 5))
	}
	r := spinRun{search: end.Sub(panStart), whole: end.Sub(start), rss: maxRSS(cmd)}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) >= 3 && f[1] == "states," && f[2] == "stored" {
			fmt.Sscan(f[0], &r.states)
		}
	}
	return r, nil
}

// maxRSS is the peak resident set of a command that ended.
func maxRSS(cmd *exec.Cmd) int64 {
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return ru.Maxrss * 1024
	}
	return 0
}
