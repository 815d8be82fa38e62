package main

// --record: the session written as a scenario, and the YAML nodes of its steps.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/runner/report"
)

// The recording is an output like the log and the reports, written by
// the same rules (report.CheckOutputs, report.WriteFile): a link another
// user planted in a shared folder is not followed, nor a link swapped in
// meanwhile (O_NOFOLLOW); a new file is made 0600 (an earlier recording
// replaced keeps its mode), beside its name and renamed over it, so that
// no half-written recording is ever there; a FIFO nobody reads is an
// error, not a wait; it may not be the log file. Unlike a report, it
// replaces no file but an earlier recording (one that starts with
// recordComment's first line): the file named could be a scenario.

// recordMark starts every recording: a file that does not is not
// replaced.
var recordMark = []byte("# " + recordComment[:strings.Index(recordComment, ".")+1])

// checkRecord checks, before the menu starts, that the recording can go
// to path (see above): regular is false for a FIFO, a device or one of
// pmrun's descriptors, which get the recording once, at the end.
func checkRecord(path string, outputs []report.Output) (regular bool, err error) {
	if err := report.CheckOutputs(outputs, nil); err != nil {
		return false, err
	}
	head, found, regular, err := report.Existing(path, len(recordMark))
	if err != nil {
		return false, fmt.Errorf("--record %s: %v", path, err)
	}
	if found && regular && !bytes.Equal(head, recordMark) {
		return false, fmt.Errorf("--record %s: the file exists and is not a menu recording: pmrun does not write over it (it could be a scenario); name a new file, or remove that one first", path)
	}
	return regular, nil
}

// saveRecord writes the recording after each step, so that it is there
// however the menu ends; a FIFO or device gets it once, at the end.
func (m *menu) saveRecord(ctx context.Context) {
	if m.record == "" || !m.recordRegular || m.sess.Len() == 0 {
		return
	}
	if err := m.writeRecord(ctx); err != nil {
		m.say("Could not write the recording: %v", err)
	}
}

const recordComment = `A pmrun menu session, recorded with --record. Replay it with:
  pmrun run %s
Each choice is a step. A step that failed in the session has
continue_on_error: true, so the replay goes past it as the session did.
Each message received is checked by an assert, unless a send or receive
failed before it (the replay might then see other messages).`

func (m *menu) writeRecord(ctx context.Context) error {
	data, err := m.sess.Scenario()
	if err != nil {
		return err
	}
	return report.WriteFile(ctx, m.record, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// finishRecord writes the recording a last time when the menu ends, and
// says where; a session that ran no step writes nothing, and says so: a
// scenario needs a step.
func (m *menu) finishRecord(ctx context.Context) error {
	if m.record == "" {
		return nil
	}
	n := m.sess.Len()
	if n == 0 {
		m.say("Nothing recorded: the session ran no step, and a scenario needs one; %s was not written.", m.record)
		return nil
	}
	if err := m.writeRecord(ctx); err != nil {
		return fmt.Errorf("--record %v", err)
	}
	m.say("Recorded %d %s in %s: replay with 'pmrun run %s'.", n, plural(n, "step", "steps"), m.record, m.record)
	return nil
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
