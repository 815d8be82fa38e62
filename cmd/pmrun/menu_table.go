package main

// The tables option 4 prints.

import (
	"fmt"
	"text/tabwriter"
)

func items(res map[string]any) []map[string]any {
	list, _ := res["items"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, it := range list {
		if m, ok := it.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

func (m *menu) ownTable(res map[string]any) {
	procs := items(res)
	if len(procs) == 0 {
		m.say("No processes created here yet: option 1 creates one.")
		return
	}
	m.outMu.Lock()
	defer m.outMu.Unlock()
	tw := tabwriter.NewWriter(m.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PID\tPPID\tSTATE\tNAME")
	for _, p := range procs {
		state := fmt.Sprint(p["status"])
		switch state {
		case "exited":
			state = fmt.Sprintf("exited (code %v)", p["exit_code"])
		case "killed":
			state = fmt.Sprintf("killed (%v)", p["signal"])
		}
		fmt.Fprintf(tw, "%v\t%v\t%s\t%v\n", p["pid"], p["ppid"], state, p["name"])
	}
	tw.Flush()
}

func (m *menu) allTable(res map[string]any) {
	procs := items(res)
	m.outMu.Lock()
	defer m.outMu.Unlock()
	tw := tabwriter.NewWriter(m.out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PID\tPPID\tSTATUS\tCPU%\tRSS\tTHREADS\t\tNAME\t")
	for _, p := range procs {
		rss, _ := p["rss"].(int)
		cpu, _ := p["cpu_percent"].(float64)
		fmt.Fprintf(tw, "%v\t%v\t%v\t%.1f\t%s\t%v\t\t%v\t\n", p["pid"], p["ppid"], p["status"], cpu, humanBytes(uint64(max(rss, 0))), p["threads"], p["name"])
	}
	tw.Flush()
	fmt.Fprintf(m.out, "%d processes.\n", len(procs))
}
