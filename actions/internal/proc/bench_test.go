package proc

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// BenchmarkSpawnWait starts and waits /bin/true, through the table ("go")
// and in a C posix_spawn+waitpid loop ("c", the baseline of make bench's
// row, with ns/op of the loop alone). Compare the two ns/op; the target is a Go rate
// of at least 0.9× the C one. cpu-µs/op counts this process and its
// children (the C row: the C program and its children).
func BenchmarkSpawnWait(b *testing.B) {
	b.Run("go", func(b *testing.B) {
		tb := benchTable(b)
		ctx := context.Background()
		cpu0 := cpuTime(unix.RUSAGE_SELF) + cpuTime(unix.RUSAGE_CHILDREN)
		for i := 0; b.Loop(); i++ {
			p, err := tb.Start(Spec{Name: strconv.Itoa(i), Argv: []string{"/bin/true"}})
			if err != nil {
				b.Fatal(err)
			}
			if x, err := p.Wait(ctx); err != nil || !x.Success {
				b.Fatal(x, err)
			}
		}
		cpu := cpuTime(unix.RUSAGE_SELF) + cpuTime(unix.RUSAGE_CHILDREN) - cpu0
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
	})
	b.Run("c", func(b *testing.B) {
		tb := benchTable(b)
		bin := filepath.Join(b.TempDir(), "spawn")
		// Built through the table: os/exec's Wait would race with our reaper.
		if x := run(b, tb, "gcc", "gcc", "-O2", "-o", bin, "testdata/spawn.c"); !x.Success {
			b.Skipf("gcc: %s", x.Stderr)
		}
		cpu0 := cpuTime(unix.RUSAGE_CHILDREN)
		x := run(b, tb, "c", bin, strconv.Itoa(b.N))
		cpu := cpuTime(unix.RUSAGE_CHILDREN) - cpu0
		b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
		if !x.Success {
			b.Fatalf("spawn.c: %+v", x)
		}
		ns, err := strconv.ParseInt(strings.TrimSpace(x.Stdout), 10, 64)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(ns)/float64(b.N), "ns/op")
	})
}

// BenchmarkRSS1000Children reports this process's resident memory with a
// thousand /bin/sleep children alive (the make bench target: at most 30
// MiB), and how much of it they added.
func BenchmarkRSS1000Children(b *testing.B) {
	for i := 0; b.Loop(); i++ {
		if i > 0 {
			continue // one measurement is the result; -benchtime does not scale it
		}
		tb := benchTable(b)
		before := rssMiB(b)
		for i := range 1000 {
			if _, err := tb.Start(Spec{Name: strconv.Itoa(i), Argv: []string{"/bin/sleep", "60"}}); err != nil {
				b.Fatal(err)
			}
		}
		after := rssMiB(b)
		b.ReportMetric(after, "rss-MiB")
		b.ReportMetric(after-before, "added-MiB")
		closeTable(b, tb)
	}
}

// cpuTime is the user+system time of who (RUSAGE_SELF or RUSAGE_CHILDREN,
// the waited-for children). CPU per spawn varies less than wall time on a
// shared machine, and shows where a spawn's cost goes.
func cpuTime(who int) time.Duration {
	var ru unix.Rusage
	unix.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchTable(b *testing.B) *Table {
	tb, err := NewTable(Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeTable(b, tb) })
	return tb
}

func closeTable(b *testing.B, tb *Table) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := tb.Close(ctx, time.Second); err != nil {
		b.Error(err)
	}
}

func run(b *testing.B, tb *Table, name string, argv ...string) Exit {
	p, err := tb.Start(Spec{Name: name, Argv: argv})
	if err != nil {
		b.Fatal(err)
	}
	x, err := p.Wait(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return x
}

func rssMiB(b *testing.B) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return float64(kb) / 1024
		}
	}
	b.Fatal("no VmRSS in /proc/self/status")
	return 0
}
