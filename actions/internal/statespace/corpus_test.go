package statespace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// corpusDir holds the models written both as pmrun programs (NAME.yaml,
// a program called NAME) and in Promela (NAME.pml), for the comparison
// with SPIN and for the benchmarks.
const corpusDir = "testdata/spin"

// corpus loads model name of the corpus.
func corpus(t testing.TB, name string) *program.Program {
	t.Helper()
	return programtest.Prog(t, filepath.Join(corpusDir, name+".yaml"), name)
}

// corpusNames are the corpus's models.
func corpusNames(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(corpusDir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(filepath.Base(f), ".yaml"))
	}
	return out
}

// TestTime searches the models named in PMRUN_STATESPACE_TIME (for a
// person measuring; skipped otherwise).
func TestTime(t *testing.T) {
	names := strings.Fields(os.Getenv("PMRUN_STATESPACE_TIME"))
	if len(names) == 0 {
		t.Skip("PMRUN_STATESPACE_TIME names the models to time")
	}
	for _, name := range names {
		res := mustSearch(t, corpus(t, name), Options{Count: true})
		v := program.Pass
		if res.Failure != nil {
			v = res.Failure.Failure.Verdict
		}
		t.Logf("%s: %s complete %v (%s) %d states %d transitions depth %d, %v, %.1f MB, %.0f states/s, workers %d, %d steps shown",
			name, v, res.Complete, res.Stop, res.States, res.Transitions, res.Depth, res.Elapsed, float64(res.Bytes)/1e6,
			float64(res.States)/res.Elapsed.Seconds(), res.Workers, len(res.Failure.steps()))
	}
}

func (f *Found) steps() []int {
	if f == nil {
		return nil
	}
	return f.Steps
}

// BenchmarkCorpus searches the models named in PMRUN_STATESPACE_TIME on
// one worker, for a profile.
func BenchmarkCorpus(b *testing.B) {
	names := strings.Fields(os.Getenv("PMRUN_STATESPACE_TIME"))
	for _, name := range names {
		p := corpus(b, name)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				mustSearch(b, p, Options{Workers: 1})
			}
		})
	}
}

// BenchmarkSmall searches small programs: what a lab's proof costs.
func BenchmarkSmall(b *testing.B) {
	for _, name := range []string{"lost", "barrier", "flaglock"} {
		p := prog(b, name)
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				mustSearch(b, p, Options{Count: true})
			}
		})
	}
}
