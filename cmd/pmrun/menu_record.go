package main

// --record: the session written as a scenario, and the YAML nodes of its steps.

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

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
