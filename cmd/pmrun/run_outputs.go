package main

import (
	"context"
	"io"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

// runOutputs are where pmrun run's events and results go: the console
// (its lines, or the log's JSON events with --format json), the event
// log (the log file, the console's JSON, the timeline, the lines of -v
// and the live line on a terminal), and the timeline that --report and
// --trace write.
type runOutputs struct {
	consoleOut *consoleWriter      // the console's writer: the run stops when its reader goes
	stdout     *runner.LineBatcher // the console's lines, batched
	console    *report.Console     // nil with --format json
	// gameOut is where a manual scheduler's game is shown: in the
	// console's order (what it has batched first), or on stderr beside
	// JSON events.
	gameOut  io.Writer
	timeline *report.Timeline // nil without --report and --trace
	log      *runLog
	// stopAbort stops abandoning the log file's writes on a second signal.
	stopAbort func()
}

// openOutputs opens the log file and makes the console, the timeline and
// the event log of the run runID that feeds them; hard's end abandons a
// write to the log file that blocks.
func (c *cli) openOutputs(rf *runFlags, look consoleLook, runID string, scenarios []*lang.Scenario, hard context.Context) (*runOutputs, error) {
	out := &runOutputs{stopAbort: func() {}}
	var file *runner.LineBatcher
	if !rf.noLog {
		f, b, err := openLogFile(rf.logPath)
		if err != nil {
			return nil, usageErrorf("--log %v", err)
		}
		out.stopAbort = report.AbortWrites(hard, f)
		file = b
	}
	out.consoleOut = newConsoleWriter(c.stdout)
	out.stdout = runner.NewLineBatcher(out.consoleOut, consoleInterval(c.stdout))
	out.gameOut = &flushFirst{batch: out.stdout, w: out.consoleOut}
	var jsonOut []io.Writer // the console, with --format json
	if rf.format == "json" {
		jsonOut = append(jsonOut, out.stdout)
		out.gameOut = c.stderr
	} else {
		co := report.ConsoleOptions{Quiet: rf.quiet, Color: look.color, ASCII: look.ascii, Registry: actions.Registry()}
		if look.terminal {
			co.Terminal, co.Width = out.consoleOut, terminalWidth(c.stdout)
		}
		out.console = report.NewConsoleWith(out.stdout, co)
	}
	var tees []runner.EventFunc
	if rf.verbose && out.console != nil {
		tees = append(tees, out.console.Event)
	}
	if rf.report != "" || rf.trace != "" {
		out.timeline = report.NewTimeline(actions.Registry(), 0, scenarios)
		tees = append(tees, out.timeline.Record)
	}
	if out.console != nil && look.terminal && !rf.quiet {
		tees = append(tees, out.console.Progress) // the live line
	}
	out.log = newRunLog(runID, rf.verbose, file, jsonOut, tees...)
	return out, nil
}

// reporter is the console, as runner.Options takes it: nil with --format
// json.
func (out *runOutputs) reporter() runner.Reporter {
	if out.console == nil {
		return nil
	}
	return out.console
}

// terminal is the person at the keyboard, for program steps with
// scheduler: manual; the console's live line waits while a game is on.
func (out *runOutputs) terminal(c *cli) *actions.Terminal {
	t := actions.NewTerminal(c.stdin, out.gameOut, !isTerminal(c.stdin))
	if out.console != nil {
		t.HoldDuringGames(out.console.Hold)
	}
	return t
}

// close releases the outputs on the way out: the log file (closed once;
// the run closes it itself to report its error), the console's last
// lines, and the watch on the log file's writes.
func (out *runOutputs) close() {
	_ = out.log.close()
	out.stdout.Flush()
	out.stopAbort()
}
