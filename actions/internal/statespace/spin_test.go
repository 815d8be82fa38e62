package statespace

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// The comparison with SPIN (Holzmann's model checker, Debian's spin
// package): the same models written both as pmrun programs and in
// Promela must get the same verdict, and the same set of reachable final
// values where the model prints them. It needs spin and a C compiler
// (.ci/run installs both) and is skipped without them.

// corpusModels are the corpus's models the comparison runs (the larger
// ones are for the benchmarks), with the verdict pmrun must find and the
// variable whose final values both must agree on ("" for none).
var corpusModels = []struct {
	name    string
	verdict program.Verdict
	finals  string
}{
	{"barrier_3", program.Pass, ""},
	{"barrier_broken_3", program.Assert, ""},
	{"dining_naive_4", program.Deadlock, ""},
	{"dining_naive_6", program.Deadlock, ""},
	{"dining_ordered_4", program.Pass, ""},
	{"flag_mutex", program.MutualExclusion, ""},
	{"lost_2x2", program.Expect, "count"},
	{"lost_3x2", program.Expect, "count"},
	{"lost_mutex_3x2", program.Pass, "count"},
	{"peterson", program.Pass, ""},
	{"prodcons_2x2", program.Pass, "stock"},
	{"prodcons_wrong_2x2", program.Deadlock, ""},
	{"rendezvous_wrong", program.Deadlock, ""},
}

// spinClass is what SPIN reports of a model: "pass", "assertion" or
// "deadlock" (an invalid end state).
func spinClass(v program.Verdict) string {
	switch v {
	case program.Pass:
		return "pass"
	case program.Deadlock:
		return "deadlock"
	}
	return "assertion"
}

// TestCorpusVerdicts: each model of the corpus gets its verdict, with or
// without SPIN.
func TestCorpusVerdicts(t *testing.T) {
	t.Parallel()
	for _, m := range corpusModels {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			res := mustSearch(t, corpus(t, m.name), Options{})
			if got := verdictOf(res); !res.Complete || got != m.verdict {
				t.Errorf("complete %v (%s), verdict %s; want %s", res.Complete, res.Stop, got, m.verdict)
			}
		})
	}
}

func verdictOf(r Result) program.Verdict {
	if r.Failure == nil {
		return program.Pass
	}
	return r.Failure.Failure.Verdict
}

// needSpin skips the test unless spin and cc are installed.
func needSpin(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"spin", "cc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("the comparison with SPIN needs %s (Debian: apt-get install spin gcc)", tool)
		}
	}
}

// spinSlots bounds the SPIN runs at once (each is a C compilation).
var spinSlots = make(chan struct{}, 2)

// runSpin checks the Promela model src as SPIN does (spin -a, cc with
// -DSAFETY, ./pan) and returns its class. With finals, it compiles the
// model with FINALS defined and printf on during the search (-DPRINTF),
// searches past every error (-c0 -E), and returns the values the model
// printed on "FINAL NAME=VALUE" lines.
func runSpin(t *testing.T, name, src string, finals bool) (string, map[string]bool) {
	t.Helper()
	spinSlots <- struct{}{}
	defer func() { <-spinSlots }()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, name+".pml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(prog string, args ...string) []byte {
		cmd := exec.CommandContext(t.Context(), prog, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil && prog != "./pan" {
			t.Fatalf("%s %s: %v\n%s\n%s", prog, strings.Join(args, " "), err, out, src)
		}
		return out
	}
	spinArgs, ccArgs, panArgs := []string{"-a"}, []string{"-O0", "-DSAFETY", "-o", "pan", "pan.c"}, []string{"-m100000"}
	if finals {
		spinArgs = append(spinArgs, "-DFINALS")
		ccArgs = append(ccArgs, "-DPRINTF")
		panArgs = append(panArgs, "-c0", "-E")
	}
	run("spin", append(spinArgs, name+".pml")...)
	run("cc", ccArgs...)
	out := run("./pan", panArgs...)
	if finals {
		values := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "FINAL "); ok {
				values[v] = true
			}
		}
		return "", values
	}
	m := regexp.MustCompile(`errors: (\d+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("pan said no errors: line:\n%s", out)
	}
	switch {
	case string(m[1]) == "0":
		return "pass", nil
	case bytes.Contains(out, []byte("invalid end state")) && !bytes.Contains(out, []byte("assertion violated")):
		return "deadlock", nil
	case bytes.Contains(out, []byte("assertion violated")):
		return "assertion", nil
	}
	t.Fatalf("pan found an error of a kind this test does not know:\n%s", out)
	return "", nil
}

// finalsOf is the values of the variable called name in the final
// states where every thread finished, as "name=value".
func finalsOf(t *testing.T, p *program.Program, name string) map[string]bool {
	t.Helper()
	i := slices.Index(p.Vars(), name)
	if i < 0 {
		t.Fatalf("%s has no variable %s", p.Name(), name)
	}
	var mu sync.Mutex
	values := map[string]bool{}
	res := mustSearch(t, p, Options{OnEnd: func(w []int64) {
		st := p.View(w)
		if !st.AllDone() {
			return
		}
		mu.Lock()
		values[name+"="+strconv.FormatInt(w[i], 10)] = true
		mu.Unlock()
	}})
	if !res.Complete {
		t.Fatalf("%s: not complete (%s)", p.Name(), res.Stop)
	}
	return values
}

// TestSpinAgrees compares pmrun's search with SPIN's on the corpus:
// the same class of verdict (a pass, an assertion broken, a deadlock),
// and the same final values where the model prints them.
func TestSpinAgrees(t *testing.T) {
	t.Parallel()
	needSpin(t)
	for _, m := range corpusModels {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			p := corpus(t, m.name)
			src, err := os.ReadFile(filepath.Join(corpusDir, m.name+".pml"))
			if err != nil {
				t.Fatal(err)
			}
			res := mustSearch(t, p, Options{})
			if got, want := spinClass(verdictOf(res)), must(runSpin(t, m.name, string(src), false)); got != want {
				t.Errorf("pmrun: %s (%s), SPIN: %s", got, verdictOf(res), want)
			}
			if m.finals == "" {
				return
			}
			ours := finalsOf(t, p, m.finals)
			_, theirs := runSpin(t, m.name, string(src), true)
			if !mapsEqual(ours, theirs) {
				t.Errorf("final values: pmrun %v, SPIN %v", keys(ours), keys(theirs))
			}
		})
	}
}

func must(class string, _ map[string]bool) string { return class }

func mapsEqual(a, b map[string]bool) bool {
	return len(a) == len(b) && !slices.ContainsFunc(keys(a), func(k string) bool { return !b[k] })
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// TestSpinAgreesOnRandomPrograms compares the two on random programs
// written both ways (randomProgram): a run of one fails exactly when a
// run of the other does. The class may differ: pmrun shows the failure
// with the fewest steps, SPIN the first its depth-first search meets.
func TestSpinAgreesOnRandomPrograms(t *testing.T) {
	t.Parallel()
	needSpin(t)
	r := rand.New(rand.NewPCG(23, 2026))
	n := 24
	if testing.Short() {
		n = 8
	}
	for i := range n {
		name := fmt.Sprintf("random%d", i)
		yml, pml := randomProgram(r, name)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			set, err := program.LoadText([]byte(yml))
			if err != nil {
				t.Fatalf("%v\n%s", err, yml)
			}
			p, _ := set.Program(name)
			if _, f := p.NewState(); f != nil {
				t.Skip("fails before its first step")
			}
			res := mustSearch(t, p, Options{})
			ours := res.Failure != nil
			theirs := must(runSpin(t, name, pml, false)) != "pass"
			if ours != theirs {
				t.Errorf("pmrun fails: %v (%v), SPIN fails: %v\n%s\n%s", ours, verdictOf(res), theirs, yml, pml)
			}
		})
	}
}
