package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var mf menuFlags
		cmd := &cobra.Command{
			Use:   "menu [--record FILE] [flags]",
			Short: "the interactive numbered menu of the original process manager",
			Long:  menuHelp,
			Args:  noArgs(": the choices are read from standard input"),
			RunE:  func(*cobra.Command, []string) error { return c.menu(&mf) },
		}
		fs := cmd.Flags()
		fs.StringVar(&mf.record, "record", "", "write the session as a scenario to `FILE`, replayable with 'pmrun run FILE'")
		fs.StringVar(&mf.logPath, "log", "pmrun.log", "append JSON events to `FILE`")
		fs.BoolVar(&mf.noLog, "no-log", false, "write no log file")
		fs.StringVar(&mf.seed, "seed", "", "the random seed `N` of the session (default random; logged and recorded)")
		fs.BoolVarP(&mf.verbose, "verbose", "v", false, "debug events and message payloads in the log")
		completeFlags(cmd, map[string]cobra.CompletionFunc{"record": completeScenarios, "seed": noCompletions})
		return cmd
	})
}

// menuFlags are the menu's flags.
type menuFlags struct {
	record, logPath, seed string
	noLog, verbose        bool
}

const menuHelp = `Shows the original process manager's numbered menu and runs each choice as
a step of one long scenario run, with the same actions as 'pmrun run': the
processes, threads and messages it creates live until the menu exits, and
every event goes to the log file (default pmrun.log), as in a run.

  1 Create a process        spawn: the program and its arguments, no shell
  2 Create a thread         thread: a real OS thread, idle until terminated
  3 Terminate a thread      terminate: cancels the named thread and joins it
  4 Monitor processes       list: those created here, or all on the host
  5 Send IPC message        send: on the default channel (a full one gives up after 1s)
  6 Receive IPC message     receive: the next message, without waiting
  7 Clear log file          empties the log file
  8 Producer-Consumer       prodcons: 2 producers, 2 consumers, buffer 5, 20 items
  9 Exit                    stops and reaps what the menu started
 10 Be the scheduler        program, scheduler: manual: you choose each thread's
                            step of a built-in program or a lab's, until it breaks

The menu needs no terminal: piped key presses give the same results, and
the answers are echoed so that the output reads as a session. End of input
(Ctrl-D) exits like 9, with code 0; Ctrl-C stops what is running, cleans up
and exits with code 130.

--record FILE writes the session as a scenario that 'pmrun check' accepts
and 'pmrun run FILE' replays: each choice as its step; a step that failed
with continue_on_error: true; each message received checked by an assert.
It is written as the log and reports are (mode 0600, no link another user
planted in a shared folder followed), and replaces no file but an earlier
recording. A session of no step writes nothing.`

// sendTimeout bounds a send on a full channel, so the menu never hangs.
const sendTimeout = "1s"

// The original's producer-consumer: 2 producers and 2 consumers making and
// taking 10 items each, over a buffer of 5.
const (
	pcProducers = 2
	pcConsumers = 2
	pcBuffer    = 5
	pcItems     = 20
)

var menuOptions = []string{
	"Create a process",
	"Create a thread",
	"Terminate a thread",
	"Monitor all running processes on your device.",
	"Send IPC message",
	"Receive IPC message",
	"Clear log file",
	"Process Synchronization (Producer-Consumer)",
	"Exit",
	"Be the scheduler (a synchronization program, step by step)",
}

// errQuit ends the menu normally: option 9 or the end of input.
var errQuit = errors.New("quit")

func (c *cli) menu(mf *menuFlags) error {
	record, logPath, noLog, seedArg, verbose := &mf.record, &mf.logPath, &mf.noLog, &mf.seed, &mf.verbose
	var err error
	opt := runner.Options{RunID: newRunID(), Verbose: *verbose}
	seed := rand.Uint64() >> 1
	if *seedArg != "" {
		if seed, err = strconv.ParseUint(*seedArg, 10, 64); err != nil {
			return usageErrorf("--seed %q: want a whole number", *seedArg)
		}
	}
	opt.Seed = &seed

	m := &menu{out: c.stdout, record: *record, threads: map[string]bool{}, procs: map[string]bool{}, clean: true}
	m.echo = !isTerminal(c.stdin)
	if m.record != "" {
		// Find out now, before anything starts or the log is created, that
		// the recording can be written.
		outputs := []report.Output{{Flag: "--record", Path: m.record, Replace: true}}
		if !*noLog {
			outputs = append(outputs, report.Output{Flag: "--log", Path: *logPath})
		}
		if m.recordRegular, err = checkRecord(m.record, outputs); err != nil {
			return usageErrorf("%v", err)
		}
	}
	if !*noLog {
		if _, m.logBatch, err = openLogFile(*logPath); err != nil {
			return usageErrorf("log: %v", err)
		}
		m.logFile = *logPath
	}
	rl := newRunLog(opt.RunID, *verbose, m.logBatch, nil, m.traceEvent)
	opt.Log = rl.logger()
	closeLog := func() {
		if err := rl.close(); err != nil {
			fmt.Fprintf(c.stderr, "pmrun: log %s: %v\n", m.logFile, err)
		}
	}

	ctx, hard, stop := interruptible()
	defer stop()
	opt.Hard = hard

	rl.start("command", "menu", "seed", seed)
	file, comment := m.record, ""
	if file == "" {
		file = "menu"
	} else {
		comment = fmt.Sprintf(recordComment, m.record)
	}
	m.sess, err = runner.NewSession(ctx, runner.SessionConfig{
		Name:        "menu",
		Description: "What a pmrun menu session did, recorded with pmrun menu --record.",
		File:        file,
		Comment:     comment,
	}, opt)
	if err != nil {
		rl.end(hclog.Error, lang.StatusFailed, "error", err.Error())
		closeLog()
		return err
	}
	m.in = newLineReader(c.stdin)
	m.banner()
	err = m.loop(ctx)
	interrupted := errors.Is(err, runner.ErrInterrupted) || errors.Is(context.Cause(ctx), runner.ErrInterrupted)
	if interrupted {
		m.say("Interrupted: stopping what the menu started.")
	} else if err != nil && !errors.Is(err, errQuit) {
		m.say("Stopping: %v", err)
	}

	o := m.sess.Close(ctx)
	failed := 0
	for _, r := range o.Steps {
		if r.Status == lang.StatusFailed {
			failed++
		}
	}
	endArgs := []any{"steps", len(o.Steps), "failed", failed, "duration_ms", rl.durationMS()}
	if interrupted {
		endArgs = append(endArgs, "interrupted", true)
	}
	rl.end(hclog.Info, o.Status, endArgs...)
	outputFailed := false
	if err := m.finishRecord(writingContext(ctx, hard)); err != nil {
		fmt.Fprintf(c.stderr, "pmrun: %v\n", err)
		outputFailed = true
	}
	closeLog()
	switch {
	case interrupted:
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case outputFailed:
		return &exitError{code: exitOutput}
	}
	return nil
}
