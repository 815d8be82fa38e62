package actions

import (
	"fmt"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/internal/place"
)

var (
	processSpan = &Style{Name: "ok", Color: "#4a78b5", Legend: "process"}
	threadSpan  = &Style{Name: "ok", Color: "#8a63b8", Legend: "thread"}

	channelRow = Row{Kind: ChannelRow, Key: []string{"channel"}, Label: Text("channel {channel}")}
	stepsRow   = Row{Kind: StepsRow}
)

// Marks of things going out and coming in share two colours, across the
// labs too: orange out, teal in.
const (
	outColor = "#e08a00"
	inColor  = "#0a8f8f"
)

func processRow(label string) Row {
	return Row{Kind: ProcessRow, Key: []string{"process"}, Label: Text(label)}
}

func threadRow(label string) Row {
	return Row{Kind: ThreadRow, Key: []string{"process", "thread"}, Label: Text(label)}
}

// The names of the host's events and of those several actions log.
const (
	evProcessStart    = "process_start"
	evProcessOutput   = "process_output"
	evProcessExit     = "process_exit"
	evThreadStart     = "thread_start"
	evMessageSent     = "message_sent"
	evMessageReceived = "message_received"
	// A receiver's read-ahead of a channel could not be handed on.
	evReceiveStateLost = "receive_state_lost"
	// The guard that cleans up after a SIGKILL of pmrun was killed.
	evGuardRestarted = "guard_restarted"
	evLog            = "log"
	evAssertFailed   = "assert_failed"
	evDeadlock       = "deadlock_detected"
)

// coreEvents are the events that do not belong to one action: the host
// logs a process's and a thread's life for every action that starts one,
// and send, receive, log and assert log what a scenario's own steps did;
// a deadlock is logged by dining and program alike. Each lab declares its
// own events in its file (Spec.Events). [NewRegistry] declares them.
var coreEvents = []*Event{
	{
		Name:    evProcessStart,
		Row:     processRow("process {process} (pid {pid})"),
		Starts:  []Start{{Style: processSpan, Label: commandLine}},
		Console: FieldLine,
	},
	{
		Name:    evProcessOutput,
		Row:     processRow("process {process}"),
		Mark:    &Mark{Label: Text("{stream}: {line}")},
		Console: Text("{process}[{stream}]: {line}"),
	},
	{
		Name:    evProcessExit,
		Row:     processRow("process {process}"),
		Ends:    []End{{Status: exitStatus, Failed: exitFailed, KeepFields: true}},
		Console: FieldLine,
	},
	{
		Name:    evThreadStart,
		Row:     threadRow("thread {thread} in {process} (tid {tid})"),
		Starts:  []Start{{Style: threadSpan, Label: Text("{thread} {run}")}},
		Console: FieldLine,
	},
	{
		Name:    place.ThreadEndEvent,
		Row:     threadRow("thread {thread} in {process}"),
		Ends:    []End{{Status: Text("{state}"), Failed: Equals("state", "failed"), KeepFields: true}},
		Console: FieldLine,
	},
	{
		Name:    evMessageSent,
		Row:     channelRow,
		Mark:    &Mark{Label: messageLabel("sent", "sender"), Color: outColor, Legend: "message sent"},
		Console: FieldLine,
		Count:   &Count{Noun: "messages sent", Field: "count"},
	},
	{
		Name:    evMessageReceived,
		Row:     channelRow,
		Mark:    &Mark{Label: messageLabel("received", "receiver"), Color: inColor, Legend: "message received"},
		Console: FieldLine,
		Count:   &Count{Noun: "messages received", Field: "count"},
	},
	{
		Name:    evReceiveStateLost,
		Row:     channelRow,
		Mark:    &Mark{Label: Text("lost what {process} had read: {error}"), Failed: Always},
		Console: FieldLine,
	},
	{
		Name:    evGuardRestarted,
		Row:     stepsRow,
		Mark:    &Mark{Label: Text("guard {old_pid} killed; new guard {pid}"), Failed: Always},
		Console: FieldLine,
	},
	{
		Name: evLog,
		Row:  stepsRow,
		Mark: &Mark{Failed: func(o Occurrence) bool { return o.Level >= hclog.Warn }},
	},
	{
		Name: evAssertFailed,
		Row:  stepsRow,
		Mark: &Mark{Label: Text("assertion failed: {expression}"), Failed: Always},
	},
	{
		// A deadlock found by a lab (dining) or in a program.
		Name: evDeadlock,
		Row:  stepsRow,
		Mark: &Mark{Label: Text("{explanation}"), Failed: Always},
	},
}

// commandLine names a process's span by its command.
func commandLine(o Occurrence) string {
	return strings.TrimSpace(fmt.Sprint(o.Fields.Get("cmd")))
}

// exitStatus says how a process ended: its signal, or its exit code.
func exitStatus(o Occurrence) string {
	if sig := o.Fields.Str("signal"); sig != "" {
		return sig
	}
	return fmt.Sprintf("exit %v", o.Fields.Get("exit_code"))
}

// exitFailed holds for a process killed by a signal or that exited with
// a code other than 0.
func exitFailed(o Occurrence) bool {
	return o.Fields.Str("signal") != "" || o.Fields.Get("exit_code") != 0
}

// messageLabel says what a send or receive moved, and who did it.
func messageLabel(verb, who string) Label {
	return func(o Occurrence) string {
		f := o.Fields
		label := fmt.Sprintf("%s %v bytes", verb, f.Get("bytes"))
		if n, ok := f.Int("count"); ok && n != 1 {
			label = fmt.Sprintf("%s %d messages, %v bytes", verb, n, f.Get("bytes"))
		}
		if w := f.Str(who); w != "" {
			label += " (" + w + ")"
		}
		return label
	}
}
