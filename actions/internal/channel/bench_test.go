package channel

import (
	"bufio"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The rows of the performance table (make bench; docs/ARCHITECTURE.md)
// for channels, each next to its C baseline
// (testdata/pipebench.c): 1,000,000 messages of 64 B and 10,000 of 64 KiB
// from one process to another. Each reports msgs/s and MB/s of payload,
// timed from the sender's start signal to the last message received.
// To profile the sending side, set PMRUN_CHANNEL_HELPER_PROFILE to a file
// name: the helper process writes its CPU profile there.

var benchShapes = []struct {
	name        string
	count, size int
}{
	{"64B", 1_000_000, 64},
	{"64KiB", 10_000, 64 << 10},
}

func BenchmarkChannel(b *testing.B) {
	for _, shape := range benchShapes {
		b.Run(shape.name, func(b *testing.B) {
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				c, err := Create(privateDir(b), "bench", Options{})
				if err != nil {
					b.Fatal(err)
				}
				cmd := helperCommand(b, c, "stress-send", strconv.Itoa(shape.count), strconv.Itoa(shape.size), "wait")
				stdin, err := cmd.StdinPipe()
				if err != nil {
					b.Fatal(err)
				}
				stdout, err := cmd.StdoutPipe()
				if err != nil {
					b.Fatal(err)
				}
				var stderr strings.Builder
				cmd.Stderr = &stderr
				startCommand(b, cmd)
				if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
					b.Fatalf("sender said %q, %v; stderr: %s", line, err, stderr.String())
				}
				b.StartTimer()
				start := time.Now()
				if _, err := stdin.Write([]byte("g")); err != nil {
					b.Fatal(err)
				}
				st, err := c.ReceiveStress(b.Context(), shape.count, time.Minute)
				elapsed += time.Since(start)
				b.StopTimer()
				if err != nil || !st.Verified {
					b.Fatalf("ReceiveStress = %+v, %v; stderr: %s", st, err, stderr.String())
				}
				if err := cmd.Wait(); err != nil {
					b.Fatalf("sender: %v: %s", err, stderr.String())
				}
				c.Close()
				b.StartTimer()
			}
			report(b, elapsed, shape.count, shape.size)
		})
	}
}

// BenchmarkCPipe runs the C baseline; PipeMiB1 gives it the 1 MiB pipe a
// channel asks for, to show what that alone is worth.
func BenchmarkCPipe(b *testing.B) {
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		b.Skip("no gcc to build the C baseline")
	}
	bin := filepath.Join(b.TempDir(), "pipebench")
	if out, err := exec.Command(gcc, "-O2", "-o", bin, filepath.Join("testdata", "pipebench.c")).CombinedOutput(); err != nil {
		b.Fatalf("building the C baseline: %v\n%s", err, out)
	}
	for _, pipe := range []struct{ name, size string }{{"", ""}, {"PipeMiB1/", "1048576"}} {
		for _, shape := range benchShapes {
			b.Run(pipe.name+shape.name, func(b *testing.B) {
				var elapsed time.Duration
				for b.Loop() {
					args := []string{strconv.Itoa(shape.count), strconv.Itoa(shape.size)}
					if pipe.size != "" {
						args = append(args, pipe.size)
					}
					out, err := exec.Command(bin, args...).Output()
					if err != nil {
						b.Fatalf("pipebench: %v", err)
					}
					var msgs, bytes int64
					var secs float64
					if _, err := fmt.Sscan(string(out), &msgs, &bytes, &secs); err != nil {
						b.Fatalf("pipebench printed %q: %v", out, err)
					}
					elapsed += time.Duration(secs * float64(time.Second))
				}
				report(b, elapsed, shape.count, shape.size)
			})
		}
	}
}

func report(b *testing.B, elapsed time.Duration, count, size int) {
	runs := float64(b.N)
	secs := elapsed.Seconds() / runs
	b.ReportMetric(float64(count)/secs, "msgs/s")
	b.ReportMetric(float64(count*size)/secs/1e6, "MB/s")
}
