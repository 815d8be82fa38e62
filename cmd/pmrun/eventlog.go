package main

import (
	"io"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner"
)

// newEventLog makes the event log of pmrun run and pmrun menu; a variable,
// so that the tests hold every event the CLI logs to a declaration
// (TestMain).
var newEventLog = runner.NewEventLog

// runLog is the event log of a command that runs scenarios or steps
// (pmrun run, pmrun menu): the log file, whatever else reads the events,
// and the run_start and run_end events that frame the run.
type runLog struct {
	events  *runner.EventLog    // nil when nothing reads the events
	log     hclog.Logger        // the events, each with the run's id
	file    *runner.LineBatcher // the log file; nil with --no-log
	started time.Time
}

// openLogFile opens the log file at path, its events batched.
func openLogFile(path string) (*os.File, *runner.LineBatcher, error) {
	f, err := runner.OpenLog(path)
	if err != nil {
		return nil, nil, err
	}
	return f, runner.NewLineBatcher(f, 50*time.Millisecond), nil
}

// newRunLog makes the event log of the run runID: its events go to file
// (nil: no log file), to the other outputs and to tees, and nowhere when
// there are none of these. verbose logs the debug events too.
func newRunLog(runID string, verbose bool, file *runner.LineBatcher, outputs []io.Writer, tees ...runner.EventFunc) *runLog {
	l := &runLog{log: hclog.NewNullLogger(), file: file}
	if file != nil {
		outputs = append([]io.Writer{file}, outputs...)
	}
	if len(outputs) > 0 || len(tees) > 0 {
		level := hclog.Info
		if verbose {
			level = hclog.Debug
		}
		out := io.MultiWriter(outputs...)
		if len(outputs) == 1 {
			out = outputs[0] // the event log encodes straight into a LineBatcher
		}
		l.events = newEventLog(out, level)
		for _, f := range tees {
			l.events.Tee(f)
		}
		l.log = l.events
	}
	l.log = l.log.With("run_id", runID)
	return l
}

// logger is the log for runner.Options: nil when nothing reads the events.
func (l *runLog) logger() hclog.Logger {
	if l.events == nil {
		return nil
	}
	return l.events
}

// start logs run_start with fields and the process's pid, and starts the
// run's clock.
func (l *runLog) start(fields ...any) {
	l.started = time.Now()
	l.log.Info("run started", append(append([]any{"event", contract.RunStart}, fields...), "pid", os.Getpid())...)
}

// elapsed is the time since [runLog.start].
func (l *runLog) elapsed() time.Duration { return time.Since(l.started) }

// durationMS is the run's time so far in milliseconds, as run_end says it.
func (l *runLog) durationMS() float64 { return float64(l.elapsed().Microseconds()) / 1000 }

// end logs run_end at level ("run passed"): the run's status, then
// fields.
func (l *runLog) end(level hclog.Level, status string, fields ...any) {
	l.log.Log(level, "run "+status, append([]any{"event", contract.RunEnd, "status", status}, fields...)...)
}

// close flushes and closes the log file, once.
func (l *runLog) close() error {
	f := l.file
	l.file = nil
	if f == nil {
		return nil
	}
	return f.Close()
}
