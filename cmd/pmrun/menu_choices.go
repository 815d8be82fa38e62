package main

// The menu choices, each run as a step of the session.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner"
)

func (m *menu) createProcess(ctx context.Context) error {
	line, err := m.prompt(ctx, "Enter the program to run (e.g. sleep 30): ")
	if err != nil {
		return err
	}
	argv := strings.Fields(line)
	if len(argv) == 0 {
		m.say("No program given: type a program's name or path, then its arguments separated by spaces.")
		return nil
	}
	if !utf8.ValidString(line) {
		m.say("The command line must be text (UTF-8).")
		return nil
	}
	name := m.processName(argv[0])
	r, ok := m.step(ctx, "start "+strconv.Quote(argv[0]),
		action("spawn", "name", name, "cmd", argv))
	if !ok {
		return nil
	}
	m.say("Process %q started with PID %v: %s", name, r.Result["pid"], strings.Join(argv, " "))
	if m.logFile != "" {
		m.say("Its output goes to the log (process_output events); option 4 shows its state.")
	}
	return nil
}

// processName is a name for a process running program, unique in the
// session: the program's base name, then name-2, name-3, ….
func (m *menu) processName(program string) string {
	base := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, filepath.Base(program))
	if base == "" || base == "." || base == "/" {
		base = "process"
	}
	name := base
	for i := 2; m.procs[name]; i++ {
		name = base + "-" + strconv.Itoa(i)
	}
	m.procs[name] = true
	return name
}

func (m *menu) threadName(ctx context.Context, text string) (string, error) {
	line, err := m.prompt(ctx, text)
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(line)
	switch {
	case name == "":
		m.say("A thread needs a name: type one, such as worker-1.")
	case !utf8.ValidString(name):
		m.say("A thread name must be text (UTF-8).")
	case strings.Contains(name, "${{"):
		m.say("A thread name cannot contain ${{.")
	default:
		return name, nil
	}
	return "", nil
}

func (m *menu) createThread(ctx context.Context) error {
	name, err := m.threadName(ctx, "Enter the thread name: ")
	if err != nil || name == "" {
		return err
	}
	if _, used := m.threads[name]; used {
		m.say("The name %q is already used by a thread of this session: choose another name.", name)
		return nil
	}
	r, ok := m.step(ctx, "create thread "+strconv.Quote(name), action("thread", "name", name))
	if !ok {
		if r != nil {
			// The failed step is recorded, and its name taken with it.
			m.threads[name] = false
		}
		return nil
	}
	m.threads[name] = true
	m.say("Thread %q created: TID %v in process %v (this menu); it waits until you terminate it (option 3).",
		name, r.Result["tid"], r.Result["pid"])
	return nil
}

func (m *menu) terminateThread(ctx context.Context) error {
	name, err := m.threadName(ctx, "Enter thread name to terminate: ")
	if err != nil || name == "" {
		return err
	}
	if _, known := m.threads[name]; !known {
		m.say("No thread named %q was created here. Threads: %s.", name, m.threadList())
		return nil
	}
	m.say("Thread %q termination requested.", name)
	if _, ok := m.step(ctx, "terminate thread "+strconv.Quote(name), action("terminate", "thread", name)); !ok {
		return nil
	}
	m.threads[name] = false
	m.say("Thread %q terminated.", name)
	return nil
}

func (m *menu) threadList() string {
	var names []string
	for name, alive := range m.threads {
		if alive {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return "none running (option 2 creates one)"
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

func (m *menu) monitor(ctx context.Context) error {
	for {
		m.say("\nList Processes Sub-Menu:")
		m.say("1. Processes created here")
		m.say("2. All processes on this computer")
		m.say("3. Back to the main menu")
		choice, err := m.prompt(ctx, "Select an option: ")
		if err != nil {
			return err
		}
		switch strings.TrimSpace(choice) {
		case "1":
			if r, ok := m.step(ctx, "list the processes created here", action("list", "processes", "own")); ok {
				m.ownTable(r.Result)
			}
		case "2":
			if r, ok := m.step(ctx, "list the host's processes", action("list", "processes", "all")); ok {
				m.allTable(r.Result)
			}
		case "3":
			m.say("Returning to the main menu.")
			return nil
		case "":
			m.say("No option chosen. Type 1, 2 or 3.")
		default:
			m.say("Invalid option %q. Try again: type 1, 2 or 3.", strings.TrimSpace(choice))
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}
}

func (m *menu) send(ctx context.Context) error {
	msg, err := m.prompt(ctx, "Enter message to send: ")
	if err != nil {
		return err
	}
	if !utf8.ValidString(msg) {
		m.say("The message must be text (UTF-8).")
		return nil
	}
	step := action("send", "message", msg)
	setPair(step, "timeout", sendTimeout)
	r, ok := m.step(ctx, "send the message", step)
	if !ok {
		if r != nil {
			m.clean = false
		}
		if r != nil && isTimeout(r.Err) {
			m.say("The channel is full: messages sent wait in it until received (option 6); one larger than the channel needs a receiver reading at the same time.")
		}
		return nil
	}
	m.say("Message sent (%v bytes).", r.Result["bytes"])
	return nil
}

func isTimeout(err error) bool {
	var te *runner.TimeoutError
	return errors.As(err, &te)
}

func (m *menu) receive(ctx context.Context) error {
	m.received++
	id := "received_" + strconv.Itoa(m.received)
	step := action("receive", "timeout", "0s")
	step.Content = append([]*yaml.Node{str("id"), str(id)}, step.Content...)
	r, ok := m.step(ctx, "receive a message", step)
	if !ok {
		if r != nil {
			m.clean = false
		}
		return nil
	}
	got := r.Result["ok"] == true
	msg, _ := r.Result["message"].(string)
	if got {
		m.say("Received message: %s", msg)
	} else {
		m.say("No message available")
	}
	// The replay sees the same messages as long as every send and receive
	// so far did what it did here: the channel is the runner's own. The
	// check runs here too, so that the session and its replay run the same
	// steps (and last is the same step in both).
	if m.clean {
		check := "!steps." + id + ".ok"
		if got {
			check = "steps." + id + ".ok && steps." + id + ".message == " + strconv.Quote(msg)
		}
		m.step(ctx, "check the message", mapping(false, "assert", str(check)))
	}
	return nil
}

func (m *menu) clearLog() {
	if m.logFile == "" {
		m.say("No log file to clear: the menu runs with --no-log.")
		return
	}
	// Lines still batched belong to what was done before the clearing.
	if err := m.logBatch.Flush(); err != nil {
		m.say("Could not clear the log file: %v", err)
		return
	}
	if err := clearLog(m.logFile); err != nil {
		m.say("Could not clear the log file: %v", err)
		return
	}
	m.say("Log file %s cleared.", m.logFile)
}

func (m *menu) prodcons(ctx context.Context) error {
	m.say("Producer-consumer: %d producers, %d consumers, a buffer of %d, %d items, guarded by the semaphores mutex, empty and filled.",
		pcProducers, pcConsumers, pcBuffer, pcItems)
	m.tracing.Store(true)
	r, ok := m.step(ctx, "run the producer-consumer", action("prodcons",
		"producers", pcProducers, "consumers", pcConsumers, "buffer", pcBuffer, "items", pcItems, "trace", true))
	m.tracing.Store(false)
	if !ok {
		return nil
	}
	res := r.Result
	verdict := "every item consumed exactly once"
	if res["ok"] != true {
		verdict = fmt.Sprintf("%v lost, %v duplicated", res["lost"], res["duplicates"])
	}
	m.say("Done: %v produced, %v consumed, %s; the buffer held at most %v of %d.",
		res["produced"], res["consumed"], verdict, res["max_occupancy"], pcBuffer)
	m.say("Producers waited %v times for a free slot, consumers %v times for an item.",
		res["producer_waits"], res["consumer_waits"])
	return nil
}

// traceEvent shows the producer-consumer's item events as they happen, as
// the original printed "Produced Item-0": each in the console line its
// declaration gives it (see actions.Event), "producer-0 produced p0#3
// (buffer 2/5)".
func (m *menu) traceEvent(_ time.Time, level hclog.Level, msg string, args []any) {
	if !m.tracing.Load() {
		return
	}
	f := actions.Fields(args)
	if f.Str("action") != "prodcons" {
		return // the host's own events: the threads and processes of the step
	}
	ev, ok := actions.Registry().LookupEvent(f.Str("event"))
	if !ok || ev.Console == nil {
		return
	}
	m.say("  %s", ev.Console(actions.Occurrence{Level: level, Message: msg, Fields: f}))
}
