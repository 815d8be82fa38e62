package pslist

import (
	"context"
	"testing"

	"github.com/shirou/gopsutil/v4/process"
)

// The listing's reason to read /proc itself (see the package doc), kept
// measurable: go test -run - -bench Listing ./actions/internal/pslist.
// Both build the same fields for every process of the host.

func BenchmarkListingProc(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		procs, err := List(ctx)
		if err != nil || len(procs) == 0 {
			b.Fatalf("List: %d processes, %v", len(procs), err)
		}
	}
}

func BenchmarkListingGopsutil(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		ps, err := process.ProcessesWithContext(ctx)
		if err != nil || len(ps) == 0 {
			b.Fatalf("gopsutil: %d processes, %v", len(ps), err)
		}
		out := make([]Proc, 0, len(ps))
		for _, p := range ps {
			var q Proc
			q.PID = p.Pid
			q.PPID, _ = p.PpidWithContext(ctx)
			q.Name, _ = p.NameWithContext(ctx)
			if st, err := p.StatusWithContext(ctx); err == nil && len(st) > 0 {
				q.Status = st[0]
			}
			q.CPUPercent, _ = p.CPUPercentWithContext(ctx)
			if m, err := p.MemoryInfoWithContext(ctx); err == nil {
				q.RSS = m.RSS
			}
			q.Threads, _ = p.NumThreadsWithContext(ctx)
			q.Cmdline, _ = p.CmdlineWithContext(ctx)
			out = append(out, q)
		}
	}
}
