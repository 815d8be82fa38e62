package main

import (
	"context"
	"fmt"
	"time"

	"github.com/shirou/gopsutil/v4/cpu"
	"github.com/shirou/gopsutil/v4/host"
	"github.com/shirou/gopsutil/v4/load"
	"github.com/shirou/gopsutil/v4/mem"
)

// hostFigures are the machine's figures at the top of 'pmrun ps --watch',
// read with gopsutil (its host, load, cpu and mem packages read one /proc
// file each, as quick as reading them here). The process rows below them
// come from package pslist's own /proc reader, which measured about
// twenty times quicker than gopsutil's process package (README "pmrun
// ps").
type hostFigures struct {
	Load1      float64 `json:"load1"`
	Load5      float64 `json:"load5"`
	Load15     float64 `json:"load15"`
	CPUPercent float64 `json:"cpu_percent"` // busy share of all CPUs over the interval
	CPUs       int     `json:"cpus"`
	MemTotal   uint64  `json:"mem_total"`
	MemUsed    uint64  `json:"mem_used"`
	MemAvail   uint64  `json:"mem_available"`
	Uptime     uint64  `json:"uptime_s"`
}

// cpuSample is the machine's CPU time so far, to measure an interval.
type cpuSample struct{ busy, total float64 }

func sampleCPU(ctx context.Context) cpuSample {
	ts, err := cpu.TimesWithContext(ctx, false)
	if err != nil || len(ts) == 0 {
		return cpuSample{}
	}
	t := ts[0]
	total := t.Total()
	return cpuSample{busy: total - t.Idle - t.Iowait, total: total}
}

// readHostFigures reads the figures now, the CPU share since before. A
// figure that cannot be read stays 0.
func readHostFigures(ctx context.Context, before cpuSample) hostFigures {
	var h hostFigures
	if l, err := load.AvgWithContext(ctx); err == nil {
		h.Load1, h.Load5, h.Load15 = l.Load1, l.Load5, l.Load15
	}
	if after := sampleCPU(ctx); after.total > before.total && before.total > 0 {
		h.CPUPercent = 100 * (after.busy - before.busy) / (after.total - before.total)
	}
	if n, err := cpu.CountsWithContext(ctx, true); err == nil {
		h.CPUs = n
	}
	if m, err := mem.VirtualMemoryWithContext(ctx); err == nil {
		h.MemTotal, h.MemUsed, h.MemAvail = m.Total, m.Used, m.Available
	}
	if up, err := host.UptimeWithContext(ctx); err == nil {
		h.Uptime = up
	}
	return h
}

// lines are the figures as the header of the view shows them.
func (h hostFigures) lines(now time.Time, procs int, every time.Duration) [2]string {
	memShare := 0.0
	if h.MemTotal > 0 {
		memShare = 100 * float64(h.MemUsed) / float64(h.MemTotal)
	}
	return [2]string{
		fmt.Sprintf("pmrun ps %s  up %s  load %.2f %.2f %.2f  %d processes, every %s (Ctrl-C to stop)",
			now.Format("15:04:05"), uptimeText(h.Uptime), h.Load1, h.Load5, h.Load15, procs, every),
		fmt.Sprintf("CPU %.1f%% of %d  memory %s used of %s (%.0f%%), %s available",
			h.CPUPercent, h.CPUs, humanBytes(h.MemUsed), humanBytes(h.MemTotal), memShare, humanBytes(h.MemAvail)),
	}
}

// uptimeText says how long the machine has been up: 3d 4:05, 4:05, 12m.
func uptimeText(s uint64) string {
	d, h, m := s/86400, s%86400/3600, s%3600/60
	switch {
	case d > 0:
		return fmt.Sprintf("%dd %d:%02d", d, h, m)
	case h > 0:
		return fmt.Sprintf("%d:%02d", h, m)
	}
	return fmt.Sprintf("%dm", m)
}
