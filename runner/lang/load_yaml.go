package lang

// YAML as the loader reads it: the parser's errors placed in the file,
// mappings walked with unknown and duplicate keys reported, and nodes
// described in messages.

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlLineColumn finds the line and column in a message of yaml.v3's.
var yamlLineColumn = regexp.MustCompile(`^yaml: line (\d+)(?:, column (\d+))?: (.*)$`)

// yamlContextErrors are the parser's messages that give the line before
// the unfinished construct's (see syntaxError).
var yamlContextErrors = []string{
	"did not find expected <document start>",
	"did not find expected node content",
	"did not find expected key",
	"did not find expected '-' indicator",
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
}

// SyntaxErrors returns the errors of a YAML document that did not parse,
// each placed in file: yaml.v3's messages carry the line, and for some
// the line is where the unfinished construct started.
func SyntaxErrors(file string, err error) LoadErrors {
	l := &loader{file: file}
	l.syntaxError(err)
	return l.errs
}

func (l *loader) syntaxError(err error) {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		for _, m := range te.Errors {
			l.errs = append(l.errs, &Error{Pos: Pos{File: l.file, Line: 1, Col: 1}, Msg: m})
		}
		return
	}
	msg := err.Error()
	pos := Pos{File: l.file, Line: 1, Col: 1}
	if m := yamlLineColumn.FindStringSubmatch(msg); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			pos.Col, _ = strconv.Atoi(m[2])
		}
		msg = m[3]
		// For these parser errors yaml.v3 reports the 0-based line where
		// the unfinished construct starts; point at that line, 1-based.
		for _, prefix := range yamlContextErrors {
			if strings.HasPrefix(msg, prefix) {
				pos.Line++
				msg += " (in what starts on this line)"
				break
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	l.errs = append(l.errs, &Error{Pos: pos, Msg: "yaml: " + msg})
}

// mapping walks the pairs of a mapping node, reporting unknown and
// duplicate keys; each known key goes to f.
func (l *loader) mapping(n *yaml.Node, what string, known []string, f func(key string, k, v *yaml.Node)) {
	seen := map[string]Pos{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, "%s keys must be plain names", what)
			continue
		}
		if first, dup := seen[k.Value]; dup {
			l.errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, first.Line)
			continue
		}
		seen[k.Value] = l.pos(k)
		if known != nil && !contains(known, k.Value) {
			l.errorf(k, "unknown key %q in %s%s", k.Value, what, DidYouMean(k.Value, known))
			continue
		}
		f(k.Value, k, v)
	}
}

func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return quote(n)
	}
	return "an unknown YAML node"
}

func quote(n *yaml.Node) string {
	if n.Kind != yaml.ScalarNode {
		return kindName(n)
	}
	return strconv.Quote(n.Value)
}
