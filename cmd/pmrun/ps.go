package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var tree, asJSON bool
		var watch time.Duration
		cmd := &cobra.Command{
			Use:   "ps [--tree] [--json] [--watch DUR]",
			Short: "show the host's processes",
			Long: `Shows every process on the host: pid, parent pid, name, state, CPU%, resident
memory and threads, read from /proc. CPU% is CPU time over the process's
lifetime, like ps; with --watch it is measured over each interval, like top.
--watch refreshes in place until Ctrl-C, which ends it normally (exit 0).`,
			Args: noArgs(""),
			RunE: func(*cobra.Command, []string) error { return c.ps(tree, asJSON, watch) },
		}
		fs := cmd.Flags()
		fs.BoolVar(&tree, "tree", false, "show parents above their children, indented")
		fs.BoolVar(&asJSON, "json", false, "print JSON: an array of processes (with --tree, nested under children)")
		durationVar(fs, &watch, "watch", 0, "refresh every `DUR` (e.g. 2s) until Ctrl-C")
		completeFlags(cmd, map[string]cobra.CompletionFunc{"watch": fixedChoices("1s", "2s", "5s")})
		return cmd
	})
}

func (c *cli) ps(tree, asJSON bool, watch time.Duration) error {
	if watch < 0 || (watch > 0 && watch < 100*time.Millisecond) {
		return usageErrorf("--watch %s: want at least 100ms", watch)
	}
	if watch == 0 {
		procs, err := actions.SystemProcesses(context.Background(), 0)
		if err != nil {
			return err
		}
		return c.showProcs(c.stdout, procs, tree, asJSON)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	live := consoleInterval(c.stdout) == 0
	for {
		procs, err := actions.SystemProcesses(ctx, watch)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if live {
			fmt.Fprint(c.stdout, "\033[H\033[2J") // home, clear: redraw in place
		}
		fmt.Fprintf(c.stdout, "%s — %d processes, every %s (Ctrl-C to stop)\n", time.Now().Format("15:04:05"), len(procs), watch)
		if err := c.showProcs(c.stdout, procs, tree, asJSON); err != nil {
			return err
		}
		if !live {
			fmt.Fprintln(c.stdout)
		}
	}
}

func (c *cli) showProcs(w io.Writer, procs []actions.SystemProcess, tree, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		if tree {
			return enc.Encode(actions.SystemProcessTree(procs, nil))
		}
		return enc.Encode(procs)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PID\tPPID\tSTATUS\tCPU%\tRSS\tTHREADS\t\tNAME\t")
	row := func(p actions.SystemProcess, indent int) {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%.1f\t%s\t%d\t\t%s\t\n", p.PID, p.PPID, p.Status, p.CPUPercent, humanBytes(p.RSS), p.Threads,
			strings.Repeat("  ", indent)+p.Name)
	}
	if tree {
		actions.SystemProcessTree(procs, func(n *actions.SystemProcessNode, depth int) { row(n.Proc, depth) })
	} else {
		for _, p := range procs {
			row(p, 0)
		}
	}
	return tw.Flush()
}

func humanBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fG", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fM", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0fK", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
