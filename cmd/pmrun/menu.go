package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"
	"go.yaml.in/yaml/v3"
	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
)

func init() {
	register(&command{
		name:    "menu",
		usage:   "menu [--record FILE] [flags]",
		summary: "the interactive numbered menu of the original process manager",
		run:     (*cli).menu,
	})
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

The menu needs no terminal: piped key presses give the same results, and
the answers are echoed so that the output reads as a session. End of input
(Ctrl-D) exits like 9, with code 0; Ctrl-C stops what is running, cleans up
and exits with code 130.

--record FILE writes the session as a scenario that 'pmrun check' accepts
and 'pmrun run FILE' replays: each choice as its step; a step that failed
with continue_on_error: true; each message received checked by an assert.`

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
}

// errQuit ends the menu normally: option 9 or the end of input.
var errQuit = errors.New("quit")

func (c *cli) menu(args []string) error {
	fs := c.newFlags("menu", "menu [--record FILE] [flags]", menuHelp)
	record := fs.String("record", "", "write the session as a scenario to `FILE`, replayable with 'pmrun run FILE'")
	logPath := fs.String("log", "pmrun.log", "append JSON events to `FILE`")
	noLog := fs.Bool("no-log", false, "write no log file")
	seedArg := fs.String("seed", "", "the random seed `N` of the session (default random; logged and recorded)")
	verbose := fs.Bool("v", false, "verbose: debug events and message payloads in the log")
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErrorf("menu takes no arguments, got %q: the choices are read from standard input", rest[0])
	}
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
	var logOut io.Writer = io.Discard
	if !*noLog {
		f, err := runner.OpenLog(*logPath)
		if err != nil {
			return usageErrorf("log: %v", err)
		}
		m.logFile = *logPath
		m.logBatch = runner.NewLineBatcher(f, 50*time.Millisecond)
		logOut = m.logBatch
	}
	if m.record != "" {
		// Find out now, before anything starts, that the file can be written.
		f, err := os.OpenFile(m.record, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			if m.logBatch != nil {
				m.logBatch.Close()
			}
			return usageErrorf("--record: %v", err)
		}
		f.Close()
	}
	level := hclog.Info
	if *verbose {
		level = hclog.Debug
	}
	events := runner.NewEventLog(logOut, level)
	events.Tee(m.traceEvent)
	opt.Log = events
	closeLog := func() {
		if m.logBatch != nil {
			if err := m.logBatch.Close(); err != nil {
				fmt.Fprintf(c.stderr, "pmrun: log %s: %v\n", m.logFile, err)
			}
		}
	}

	ctx, hard, stop := interruptible()
	defer stop()
	opt.Hard = hard

	log := events.With("run_id", opt.RunID)
	started := time.Now()
	log.Info("run started", "event", "run_start", "command", "menu", "seed", seed, "pid", os.Getpid())
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
		log.Error("run failed", "event", "run_end", "status", lang.StatusFailed, "error", err.Error())
		closeLog()
		return err
	}
	m.saveRecord()

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
	endArgs := []any{"event", "run_end", "status", o.Status, "steps", len(o.Steps), "failed", failed,
		"duration_ms", float64(time.Since(started).Microseconds()) / 1000}
	if interrupted {
		endArgs = append(endArgs, "interrupted", true)
	}
	log.Info("run "+o.Status, endArgs...)
	if m.record != "" {
		if err := m.writeRecord(); err != nil {
			fmt.Fprintf(c.stderr, "pmrun: --record: %v\n", err)
		} else {
			m.say("Recorded %d %s in %s: replay with 'pmrun run %s'.", m.sess.Len(), plural(m.sess.Len(), "step", "steps"), m.record, m.record)
		}
	}
	closeLog()
	if interrupted {
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	}
	return nil
}

// menu is one interactive session.
type menu struct {
	out      io.Writer
	outMu    sync.Mutex // prodcons trace lines come from worker threads
	echo     bool       // show the answers read, when stdin is not a terminal
	in       *lineReader
	sess     *runner.Session
	logFile  string // "" with --no-log
	logBatch *runner.LineBatcher
	record   string

	procs    map[string]bool // process names used
	threads  map[string]bool // thread names used: true while running
	received int             // receive steps so far, for their ids
	clean    bool            // no send or receive failed: a replay sees the messages the session saw
	tracing  atomic.Bool     // show prodcons item events
}

func (m *menu) say(format string, args ...any) {
	m.outMu.Lock()
	fmt.Fprintf(m.out, format+"\n", args...)
	m.outMu.Unlock()
}

func (m *menu) banner() {
	where := "events go to " + m.logFile
	if m.logFile == "" {
		where = "no log file (--no-log)"
	}
	m.say("pmrun menu: the process manager's options on pmrun's actions; %s.", where)
	m.say("Type a number and Enter; Ctrl-D or 9 exits.")
}

func (m *menu) loop(ctx context.Context) error {
	for {
		m.say("\nOptions:")
		for i, o := range menuOptions {
			m.say("%d. %s", i+1, o)
		}
		choice, err := m.prompt(ctx, "Select an option: ")
		if err != nil {
			return err
		}
		switch strings.TrimSpace(choice) {
		case "1":
			err = m.createProcess(ctx)
		case "2":
			err = m.createThread(ctx)
		case "3":
			err = m.terminateThread(ctx)
		case "4":
			err = m.monitor(ctx)
		case "5":
			err = m.send(ctx)
		case "6":
			err = m.receive(ctx)
		case "7":
			m.clearLog()
		case "8":
			err = m.prodcons(ctx)
		case "9":
			m.say("Exited successfully")
			return errQuit
		case "":
			m.say("No option chosen. Type a number from 1 to 9.")
		default:
			m.say("Invalid option %q. Try again: type a number from 1 to 9.", strings.TrimSpace(choice))
		}
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
	}
}

// prompt shows text and reads one line. The end of input is errQuit.
func (m *menu) prompt(ctx context.Context, text string) (string, error) {
	m.outMu.Lock()
	fmt.Fprint(m.out, text)
	m.outMu.Unlock()
	select {
	case line, ok := <-m.in.lines:
		if !ok {
			m.say("")
			if err := m.in.err; err != nil && !errors.Is(err, io.EOF) {
				m.say("Cannot read the input (%v): exiting.", err)
			} else {
				m.say("End of input: exiting.")
			}
			return "", errQuit
		}
		if m.echo {
			m.say("%s", line)
		}
		return line, nil
	case <-ctx.Done():
		m.say("")
		return "", context.Cause(ctx)
	}
}

// step runs one step through the session; it prints why a step was not
// run or failed, with what, and reports whether it succeeded.
func (m *menu) step(ctx context.Context, what string, step *yaml.Node) (*lang.StepResult, bool) {
	text, err := yaml.Marshal(step)
	if err != nil {
		m.say("Could not %s: %v", what, err)
		return nil, false
	}
	r, err := m.sess.Step(ctx, string(text))
	var le lang.LoadErrors
	switch {
	case errors.As(err, &le):
		for _, e := range le {
			m.say("Could not %s: %s", what, e.Msg)
		}
		return nil, false
	case err != nil:
		m.say("Could not %s: %v", what, err)
		return nil, false
	case ctx.Err() != nil:
		return r, false
	}
	m.saveRecord()
	if r.Status != lang.StatusOK {
		m.say("Could not %s: %v", what, r.Err)
		return r, false
	}
	return r, true
}

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
// the original printed "Produced Item-0".
func (m *menu) traceEvent(_ time.Time, _ hclog.Level, _ string, args []any) {
	if !m.tracing.Load() {
		return
	}
	f := map[string]any{}
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok {
			f[k] = args[i+1]
		}
	}
	verb := map[any]string{"item_produced": "produced", "item_consumed": "consumed"}[f["event"]]
	if verb == "" {
		return
	}
	m.say("  %v %s %v (buffer %v/%d)", f["worker"], verb, f["item"], f["occupancy"], pcBuffer)
}

// saveRecord writes the recording after each step, so that it is there
// however the menu ends.
func (m *menu) saveRecord() {
	if m.record == "" {
		return
	}
	if err := m.writeRecord(); err != nil {
		m.say("Could not write the recording %s: %v", m.record, err)
	}
}

const recordComment = `A pmrun menu session, recorded with --record. Replay it with:
  pmrun run %s
Each choice is a step. A step that failed in the session has
continue_on_error: true, so the replay goes past it as the session did.
Each message received is checked by an assert, unless a send or receive
failed before it (the replay might then see other messages).`

func (m *menu) writeRecord() error {
	data, err := m.sess.Scenario()
	if err != nil {
		return err
	}
	return os.WriteFile(m.record, data, 0o644)
}

// action returns a step running name with the parameters given as pairs
// of name and value, in a flow mapping: `spawn: {name: x, cmd: [a, b]}`.
func action(name string, params ...any) *yaml.Node {
	return mapping(false, name, mapping(true, params...))
}

// setPair adds a step key to a step.
func setPair(step *yaml.Node, key string, value any) {
	step.Content = append(step.Content, str(key), toNode(value))
}

func mapping(flow bool, pairs ...any) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	if flow {
		n.Style = yaml.FlowStyle
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		n.Content = append(n.Content, str(pairs[i].(string)), toNode(pairs[i+1]))
	}
	return n
}

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

// toNode converts a parameter value; strings are taken literally, so text
// typed at a prompt never becomes a ${{ }} expression.
func toNode(v any) *yaml.Node {
	switch v := v.(type) {
	case *yaml.Node:
		return v
	case string:
		return str(literal(v))
	case int:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(v)}
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(v)}
	case []string:
		n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
		for _, s := range v {
			n.Content = append(n.Content, str(literal(s)))
		}
		return n
	}
	panic(fmt.Sprintf("menu: no YAML for %T", v))
}

// literal writes s so that the loader reads it back as the same text: the
// only thing it would read otherwise is ${{, written as an expression
// whose value is ${{.
func literal(s string) string {
	return strings.ReplaceAll(s, "${{", `${{ "$" + "{{" }}`)
}

// lineReader reads lines from the input on its own goroutine, so that a
// prompt can give up on Ctrl-C.
type lineReader struct {
	lines chan string
	err   error // why lines was closed; read after it is
}

func newLineReader(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string)}
	go func() {
		br := bufio.NewReader(r)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				lr.lines <- strings.TrimRight(line, "\r\n")
			}
			if err != nil {
				lr.err = err
				close(lr.lines)
				return
			}
		}
	}()
	return lr
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
