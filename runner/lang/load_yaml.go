package lang

// YAML as the loader reads it: the parser's errors placed in the file,
// mappings walked with unknown and duplicate keys reported, and nodes
// described in messages.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"

	"github.com/pmrun/pmrun/actions/contract"
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
	m := yamlLineColumn.FindStringSubmatch(msg)
	if m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		if m[2] != "" {
			pos.Col, _ = strconv.Atoi(m[2])
		}
		msg = m[3]
		// For these parser errors yaml.v3 reports the 0-based line where
		// the unfinished construct starts; point at that line, 1-based,
		// unless the line that broke it can be found.
		for _, prefix := range yamlContextErrors {
			if strings.HasPrefix(msg, prefix) {
				pos.Line++
				line := 0
				if indentError(msg) {
					line = l.brokenLine(err.Error(), pos.Line)
				}
				if line > 0 {
					pos.Line, pos.Col = line, l.indentOf(line)+1
					msg += ": " + l.indentHint(line)
				} else {
					msg += " (in what starts on this line)"
				}
				break
			}
		}
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	switch {
	case l.data == nil:
	case strings.HasPrefix(msg, "found character that cannot start any token"):
		// yaml.v3 gives the line only; the character is most often a tab,
		// which YAML does not allow in indentation.
		if col, tab := l.badTokenCol(pos.Line); col > 0 {
			pos.Col = col
			if tab {
				msg += ": a tab (YAML indents with spaces only)"
			}
		}
	case strings.HasPrefix(msg, "found a tab character that violates indentation"):
		// yaml.v3 names the line of the construct the tab is in.
		if line, col := l.indentTab(pos.Line); line > 0 {
			pos.Line, pos.Col = line, col
			msg += " (YAML indents with spaces only)"
		}
	case m == nil:
		// The reader's errors (bad UTF-8, control characters) carry no
		// line at all: find the byte.
		if p, what := badText(l.data); p >= 0 {
			pos.Line, pos.Col = lineCol(l.data, p)
			msg = what
		}
	}
	l.errs = append(l.errs, &Error{Pos: pos, Msg: "yaml: " + msg})
}

// indentError reports whether a parser's message is one an indentation
// mistake gives: a line that is neither a key of the mapping nor an item
// of the list above it.
func indentError(msg string) bool {
	return strings.HasPrefix(msg, "did not find expected key") || strings.HasPrefix(msg, "did not find expected '-' indicator")
}

// maxBisect is the largest file whose broken line brokenLine looks for:
// it parses the file's beginning a few times (log2 of its lines).
const maxBisect = 1 << 20

// brokenLine finds the line whose token made the parser fail with msg,
// which names only the line where the unfinished construct started,
// from: the first line such that the file up to and with it fails the
// same way. The parser stops at its first error, so every longer
// beginning fails so too, and the search halves. 0 if it is not found.
func (l *loader) brokenLine(msg string, from int) int {
	if l.data == nil || len(l.data) > maxBisect {
		return 0
	}
	l.lineText(0) // the line offsets
	n := len(l.lines)
	upTo := func(k int) []byte { // lines 1..k
		if k >= n {
			return l.data
		}
		return l.data[:l.lines[k]]
	}
	same := func(k int) bool {
		err := firstYAMLError(upTo(k))
		return err != nil && err.Error() == msg
	}
	lo, hi := max(from, 1), n
	if !same(hi) {
		return 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if same(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	// The parser may need the token after the bad one to see the
	// mistake: the bad line is then the last one with content before.
	for line := lo; line > from; line-- {
		if text, ok := l.lineText(line - 1); ok && !blankOrComment(text) {
			return line
		}
	}
	return lo
}

// firstYAMLError decodes every document of data and returns the first
// error, as the loader would meet it.
func firstYAMLError(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		if err := dec.Decode(&n); err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
	}
}

func blankOrComment(text string) bool {
	t := strings.TrimSpace(text)
	return t == "" || strings.HasPrefix(t, "#")
}

// indentOf is how many spaces line (1-based) starts with.
func (l *loader) indentOf(line int) int {
	text, _ := l.lineText(line - 1)
	return len(text) - len(strings.TrimLeft(text, " "))
}

// indentHint says why line (1-based), where the parser failed, breaks
// the structure of the lines above it: most often it lines up with none
// of the keys and list items still open there.
func (l *loader) indentHint(line int) string {
	text, _ := l.lineText(line - 1)
	body := strings.TrimLeft(text, " ")
	col := len(text) - len(body) + 1
	if len(body) > 1 && body[0] == '-' && body[1] != ' ' && body[1] != '-' {
		return "a list item needs a space after its -"
	}
	open := l.openColumns(line)
	if !slices.Contains(open, col) && len(open) > 0 {
		cols := make([]string, len(open))
		for i, c := range open {
			cols[i] = strconv.Itoa(c)
		}
		list := "column " + cols[0]
		if len(cols) > 1 {
			list = "columns " + strings.Join(cols[:len(cols)-1], ", ") + " and " + cols[len(cols)-1]
		}
		return fmt.Sprintf("line %d starts at column %d, which lines up with nothing above it (the keys and items there start at %s; YAML reads the structure from the indentation)", line, col, list)
	}
	return fmt.Sprintf("line %d, at column %d, does not continue what the lines above it started (YAML reads the structure from the indentation)", line, col)
}

// openColumns returns, in order, the columns of the keys and list items
// still open at line (1-based): those of the lines before it, each
// closing what was deeper than itself. A block scalar's text (after |
// or >) is not structure, and is skipped.
func (l *loader) openColumns(line int) []int {
	var open []int
	scalarAbove := -1 // the indentation of a line that opened a block scalar
	for i := 0; i < line-1; i++ {
		text, _ := l.lineText(i)
		if blankOrComment(text) {
			continue
		}
		body := strings.TrimLeft(text, " ")
		col := len(text) - len(body) + 1
		if scalarAbove >= 0 && col > scalarAbove {
			continue
		}
		scalarAbove = -1
		for len(open) > 0 && open[len(open)-1] > col {
			open = open[:len(open)-1]
		}
		if len(open) == 0 || open[len(open)-1] != col {
			open = append(open, col)
		}
		for strings.HasPrefix(body, "- ") { // an item's content has a column of its own
			rest := strings.TrimLeft(body[1:], " ")
			col += len(body) - len(rest)
			body = rest
			if body != "" && !strings.HasPrefix(body, "#") {
				open = append(open, col)
			}
		}
		if v := strings.TrimSpace(body); blockScalar.MatchString(v) {
			scalarAbove = len(text) - len(strings.TrimLeft(text, " ")) + 1
		}
	}
	return open
}

// blockScalar matches a line whose value is a block scalar's indicator:
// the text follows on the lines below.
var blockScalar = regexp.MustCompile(`(^|:\s)[|>][-+0-9]*(\s+#.*)?$`)

// badTokenCol returns the column of what cannot start a token on line: a
// tab among its leading spaces and dashes (tab is true), or anywhere on
// it, else a reserved indicator (@ or `); 0 if there is none.
func (l *loader) badTokenCol(line int) (col int, tab bool) {
	text, ok := l.lineText(line - 1)
	if !ok {
		return 0, false
	}
	lead := len(text) - len(strings.TrimLeft(text, " -\t"))
	if i := strings.IndexByte(text[:lead], '\t'); i >= 0 {
		return utf8.RuneCountInString(text[:i]) + 1, true
	}
	if i := strings.IndexByte(text, '\t'); i >= 0 {
		return utf8.RuneCountInString(text[:i]) + 1, true
	}
	if i := strings.IndexAny(text, "@`"); i >= 0 {
		return utf8.RuneCountInString(text[:i]) + 1, false
	}
	return 0, false
}

// indentTab finds the first line from line on with a tab in its
// indentation, and the tab's column; 0, 0 if there is none.
func (l *loader) indentTab(line int) (int, int) {
	for i := line - 1; ; i++ {
		text, ok := l.lineText(i)
		if !ok {
			return 0, 0
		}
		lead := len(text) - len(strings.TrimLeft(text, " -\t"))
		if j := strings.IndexByte(text[:lead], '\t'); j >= 0 {
			return i + 1, utf8.RuneCountInString(text[:j]) + 1
		}
	}
}

// lineText returns line i (0-based) of the file, without its newline.
func (l *loader) lineText(i int) (string, bool) {
	if l.lines == nil {
		l.lines = append(l.lines, 0)
		for off := 0; ; {
			j := bytes.IndexByte(l.data[off:], '\n')
			if j < 0 {
				break
			}
			off += j + 1
			l.lines = append(l.lines, off)
		}
	}
	if i < 0 || i >= len(l.lines) {
		return "", false
	}
	end := len(l.data)
	if i+1 < len(l.lines) {
		end = l.lines[i+1] - 1
	}
	return strings.TrimSuffix(string(l.data[l.lines[i]:end]), "\r"), true
}

// badText returns the offset of the first byte of data that YAML does not
// allow, and what is wrong with it; -1 if every character is allowed.
// A file that starts with a UTF-16 byte order mark is left to yaml.v3.
func badText(data []byte) (int, string) {
	if bytes.HasPrefix(data, []byte{0xFE, 0xFF}) || bytes.HasPrefix(data, []byte{0xFF, 0xFE}) {
		return -1, ""
	}
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			return i, fmt.Sprintf("byte 0x%02x is not UTF-8 text: a scenario file must be UTF-8", data[i])
		case !yamlPrintable(r):
			return i, fmt.Sprintf("control character %U is not allowed in YAML", r)
		}
		i += size
	}
	return -1, ""
}

// yamlPrintable is YAML 1.2's set of characters a stream may hold.
func yamlPrintable(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0x7E) || r == 0x85 ||
		(r >= 0xA0 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// lineCol returns the 1-based line and column (in characters) of byte
// offset off of data.
func lineCol(data []byte, off int) (int, int) {
	line := 1 + bytes.Count(data[:off], []byte{'\n'})
	start := bytes.LastIndexByte(data[:off], '\n') + 1
	return line, utf8.RuneCount(data[start:off]) + 1
}

// mapping walks the pairs of a mapping node, reporting unknown and
// duplicate keys; each known key goes to f.
func (l *loader) mapping(n *yaml.Node, what string, known []string, f func(key string, k, v *yaml.Node)) {
	// Most mappings have a few keys: looking back through them costs less
	// than a map for each of the hundreds of thousands of a long file.
	var seen map[string]*yaml.Node
	if len(n.Content) > 32 {
		seen = make(map[string]*yaml.Node, len(n.Content)/2)
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			l.errorf(k, "%s keys must be plain names", what)
			continue
		}
		if first := firstKey(n.Content[:i], k.Value, seen); first != nil {
			l.errorf(k, "duplicate key %q in %s (first at line %d)", k.Value, what, first.Line)
			continue
		}
		if seen != nil {
			seen[k.Value] = k
		}
		if known != nil && !contains(known, k.Value) {
			l.errorf(k, "unknown key %q in %s%s", k.Value, what, contract.DidYouMean(k.Value, known))
			continue
		}
		f(k.Value, k, v)
	}
}

// firstKey returns the key node before, among the pairs of pairs, named
// key: looked up in seen if there is one, else looked for.
func firstKey(pairs []*yaml.Node, key string, seen map[string]*yaml.Node) *yaml.Node {
	if seen != nil {
		return seen[key]
	}
	for j := 0; j+1 < len(pairs); j += 2 {
		if k := pairs[j]; k.Kind == yaml.ScalarNode && k.Value == key {
			return k
		}
	}
	return nil
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
