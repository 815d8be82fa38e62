package contract

import "strings"

// RunnerName is how steps name the runner's own process, in thread {in},
// send {from}, receive {to} and list {threads}, beside the agents' names.
const RunnerName = "runner"

// DefaultChannel is the channel that always exists.
const DefaultChannel = "default"

// ChannelConfig declares an IPC channel.
type ChannelConfig struct {
	Name       string
	Kind       string // pipe, fifo or socket
	Framing    string // frames or lines
	MaxMessage int
}

// AssertionError reports a condition that did not hold, with the values of
// its sub-expressions. JUnit reports it as a failure rather than an error.
type AssertionError struct {
	Source  string
	Message string
	Values  []string
}

func (e *AssertionError) Error() string {
	var b strings.Builder
	b.WriteString("assertion failed: ")
	if e.Message != "" {
		b.WriteString(e.Message)
		b.WriteString(" (")
		b.WriteString(e.Source)
		b.WriteString(")")
	} else {
		b.WriteString(e.Source)
	}
	for _, v := range e.Values {
		b.WriteString("\n  ")
		b.WriteString(v)
	}
	return b.String()
}
