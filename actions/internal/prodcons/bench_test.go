package prodcons

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The shape of make bench's prodcons rows: 1 producer, 1 consumer, buffer
// 16, 1,000,000 items.
var benchShape = Config{Producers: 1, Consumers: 1, Buffer: 16, Items: 1000000}

func benchRun(b *testing.B, m mode) {
	var items, secs float64
	for b.Loop() {
		res, err := m.run(b.Context(), benchShape)
		if err != nil || !res.OK {
			b.Fatalf("%+v, %v", res, err)
		}
		items += float64(res.Consumed)
		secs += res.Duration.Seconds()
	}
	b.ReportMetric(items/secs, "items/s")
}

func BenchmarkThreads1P1C(b *testing.B)   { benchRun(b, modes[0]) }
func BenchmarkProcesses1P1C(b *testing.B) { benchRun(b, modes[1]) }

// benchC runs testdata/prodcons.c, the pthreads + sem_t baseline, on the same
// shape, so its rate is measured on the same machine in the same run.
func benchC(b *testing.B, args ...string) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		b.Skip("no gcc for the C baseline")
	}
	bin := filepath.Join(b.TempDir(), "prodcons")
	if out, err := exec.Command(gcc, "-O2", "-pthread", "-o", bin, "testdata/prodcons.c").CombinedOutput(); err != nil {
		b.Fatalf("gcc: %v\n%s", err, out)
	}
	args = append([]string{strconv.Itoa(benchShape.Items), strconv.Itoa(benchShape.Buffer)}, args...)
	var sum float64
	for b.Loop() {
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			b.Fatal(err)
		}
		rate, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimPrefix(string(out), "items/s")), 64)
		if err != nil {
			b.Fatalf("baseline printed %q", out)
		}
		sum += rate
	}
	b.ReportMetric(sum/float64(b.N), "items/s")
}

func BenchmarkCThreads1P1C(b *testing.B)   { benchC(b) }
func BenchmarkCProcesses1P1C(b *testing.B) { benchC(b, "processes") }
