package runner_test

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

func assertScenario(n int) []byte {
	var s strings.Builder
	s.WriteString("name: asserts\nvars: {n: 1}\nsteps:\n  - id: first\n    log: start\n")
	for i := 0; i < n; i++ {
		s.WriteString("  - assert: vars.n == 1 && steps.first.status == \"ok\"\n")
	}
	return []byte(s.String())
}

// BenchmarkLoad measures loading a file of 1,000 assert steps.
func BenchmarkLoad(b *testing.B) {
	data := assertScenario(10000)
	for b.Loop() {
		if _, err := lang.Parse("b.yaml", data, lang.LoadOptions{Registry: probe.Registry()}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunAsserts measures running 1,000 assert steps with JSON events.
func BenchmarkRunAsserts(b *testing.B) {
	sc, err := lang.Parse("b.yaml", assertScenario(10000), lang.LoadOptions{Registry: probe.Registry()})
	if err != nil {
		b.Fatal(err)
	}
	f, err := os.Create(b.TempDir() + "/bench.log")
	if err != nil {
		b.Fatal(err)
	}
	batch := runner.NewLineBatcher(f, 50*time.Millisecond)
	defer batch.Close()
	log := runner.NewEventLog(batch, hclog.Info)
	for b.Loop() {
		if o := runner.Run(b.Context(), sc, runner.Options{Log: log, Reporter: report.NewConsole(io.Discard, true)}); o.Status != lang.StatusPassed {
			b.Fatal(o.Err)
		}
	}
}
