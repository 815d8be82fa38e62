package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var o psOptions
		cmd := &cobra.Command{
			Use:   "ps [--tree] [--json] [--watch DUR]",
			Short: "show the host's processes",
			Long: `Shows every process on the host: pid, parent pid, state, CPU%, resident
memory, threads and name, read from /proc. CPU% is CPU time over the
process's lifetime, like ps. A name's unprintable characters are shown
escaped (\n, \x1b, \u202e), so that no name can forge a row or drive the
terminal.

--watch DUR is a top-like view until Ctrl-C (which ends it normally, exit
0): a header with the machine's load, CPU, memory and uptime, then the
processes that used the most CPU over the last interval, as many as fit the
terminal, resorted at each refresh (with --tree, the tree instead).

--json prints one JSON document per line and nothing else: the processes
(an array, nested under "children" with --tree); with --watch, at each
refresh an object with the time, the interval, the host's figures and the
processes.`,
			Args: noArgs(""),
			RunE: func(*cobra.Command, []string) error { return c.ps(o) },
		}
		fs := cmd.Flags()
		fs.BoolVar(&o.tree, "tree", false, "show parents above their children, as a tree")
		fs.BoolVar(&o.json, "json", false, "print JSON, one document per line")
		durationVar(fs, &o.watch, "watch", 0, "refresh every `DUR` (e.g. 2s) until Ctrl-C: the busiest processes first")
		completeFlags(cmd, map[string]cobra.CompletionFunc{"watch": fixedChoices("1s", "2s", "5s")})
		return cmd
	})
}

type psOptions struct {
	tree, json bool
	watch      time.Duration
}

func (c *cli) ps(o psOptions) error {
	if o.watch < 0 || (o.watch > 0 && o.watch < 100*time.Millisecond) {
		return usageErrorf("--watch %s: want at least 100ms", o.watch)
	}
	ascii := os.Getenv("TERM") == "dumb" || !utf8Locale(os.Getenv)
	if o.watch == 0 {
		procs, err := actions.SystemProcesses(context.Background(), 0)
		if err != nil {
			return err
		}
		if o.json {
			if o.tree {
				return writeJSONLine(c.stdout, actions.SystemProcessTree(procs, nil))
			}
			return writeJSONLine(c.stdout, procs)
		}
		return writeProcs(c.stdout, procRows(procs, o.tree, ascii), 0)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	live := !o.json && onTerminal(c.stdout) && os.Getenv("TERM") != "dumb"
	for {
		before := sampleCPU(ctx)
		procs, err := actions.SystemProcesses(ctx, o.watch)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		now := time.Now()
		host := readHostFigures(ctx, before)
		if o.json {
			doc := watchDoc{Time: now.Format(time.RFC3339Nano), IntervalMS: o.watch.Milliseconds(), Host: host, Processes: procs}
			if o.tree {
				doc.Processes = actions.SystemProcessTree(procs, nil)
			}
			if err := writeJSONLine(c.stdout, doc); err != nil {
				return err
			}
			continue
		}
		if !o.tree {
			// The busiest first, as top: resorted at every refresh.
			slices.SortStableFunc(procs, func(a, b actions.SystemProcess) int {
				switch {
				case a.CPUPercent > b.CPUPercent:
					return -1
				case a.CPUPercent < b.CPUPercent:
					return 1
				}
				return int(a.PID - b.PID)
			})
		}
		header := host.lines(now, len(procs), o.watch)
		var b bytes.Buffer
		maxRows, width := 0, 0
		if live {
			// The header, a blank line and the columns' names take 4
			// rows; one more is left free, so the screen never scrolls.
			maxRows, width = max(1, terminalHeight(c.stdout)-5), terminalWidth(c.stdout)()
		}
		for _, line := range header {
			b.WriteString(line + "\n")
		}
		b.WriteString("\n")
		if err := writeProcs(&b, procRows(procs, o.tree, ascii), maxRows); err != nil {
			return err
		}
		if !live {
			b.WriteString("\n")
		}
		out := b.String()
		if live {
			// Home and clear, to redraw in place; no newline after the
			// last row, and no line wider than the screen: nothing
			// scrolls.
			out = "\x1b[H\x1b[2J" + cutLines(strings.TrimSuffix(out, "\n"), width)
		}
		if _, err := io.WriteString(c.stdout, out); err != nil {
			return err
		}
	}
}

// watchDoc is one refresh of 'pmrun ps --watch --json'.
type watchDoc struct {
	Time       string      `json:"time"`
	IntervalMS int64       `json:"interval_ms"`
	Host       hostFigures `json:"host"`
	Processes  any         `json:"processes"`
}

// procRow is one row of the table: a process, and the tree's drawing
// before its name.
type procRow struct {
	p      actions.SystemProcess
	prefix string
}

// procRows lays out the processes, as a tree or in the given order.
func procRows(procs []actions.SystemProcess, tree, ascii bool) []procRow {
	if !tree {
		rows := make([]procRow, len(procs))
		for i, p := range procs {
			rows[i] = procRow{p: p}
		}
		return rows
	}
	branch, last, pipe := "├─ ", "└─ ", "│  "
	if ascii {
		branch, last, pipe = "|- ", "`- ", "|  "
	}
	var rows []procRow
	var walk func(ns []*actions.SystemProcessNode, indent string, top bool)
	walk = func(ns []*actions.SystemProcessNode, indent string, top bool) {
		for i, n := range ns {
			lastOne := i == len(ns)-1
			prefix, next := indent, indent
			if !top {
				if lastOne {
					prefix, next = indent+last, indent+"   "
				} else {
					prefix, next = indent+branch, indent+pipe
				}
			}
			rows = append(rows, procRow{p: n.Proc, prefix: prefix})
			walk(n.Children, next, false)
		}
	}
	walk(actions.SystemProcessTree(procs, nil), "", true)
	return rows
}

// writeProcs writes the table: the numbers right-aligned in columns as
// wide as their widest, the name last and left-aligned, so that a tree
// reads as one. maxRows > 0 writes at most that many processes.
func writeProcs(w io.Writer, rows []procRow, maxRows int) error {
	if maxRows > 0 && len(rows) > maxRows {
		rows = rows[:maxRows]
	}
	heads := []string{"PID", "PPID", "STATUS", "CPU%", "RSS", "THREADS"}
	cells := make([][6]string, len(rows))
	widths := make([]int, len(heads))
	for i, h := range heads {
		widths[i] = len(h)
	}
	for i, r := range rows {
		p := r.p
		cells[i] = [6]string{fmt.Sprint(p.PID), fmt.Sprint(p.PPID), p.Status, fmt.Sprintf("%.1f", p.CPUPercent), humanBytes(p.RSS), fmt.Sprint(p.Threads)}
		for k, s := range cells[i] {
			widths[k] = max(widths[k], len(s))
		}
	}
	var b strings.Builder
	line := func(cols [6]string, name string) {
		for k, s := range cols {
			fmt.Fprintf(&b, "%*s  ", widths[k], s)
		}
		b.WriteString(name)
		b.WriteString("\n")
	}
	line([6]string(heads), "NAME")
	for i, r := range rows {
		line(cells[i], r.prefix+escapeName(r.p.Name))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// escapeName shows a process name with its unprintable characters
// escaped — \n, \t, \x1b, \u202e — and a backslash doubled: a name is
// anything a process writes to its comm, and on a terminal a newline
// would forge a row, an escape sequence drive the terminal, a direction
// override reverse the text.
func escapeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i-1])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// writeJSONLine writes v as one line of JSON. encoding/json escapes the
// control characters below U+0020 but not the C1 controls (U+0080 to
// U+009F), which some terminals obey as escape sequences: those are
// escaped too, so that a process name can never reach a terminal as one.
func writeJSONLine(w io.Writer, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	b.Grow(len(data) + 1)
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r >= 0x80 && r <= 0x9f {
			fmt.Fprintf(&b, `\u%04x`, r)
		} else {
			b.Write(data[i : i+size])
		}
		i += size
	}
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}

// cut shortens a line to width columns (runes); width 0 leaves it whole.
func cut(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	return string([]rune(s)[:width])
}

// cutLines cuts every line of s to width columns, so that none wraps.
func cutLines(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = cut(l, width)
	}
	return strings.Join(lines, "\n")
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
