package course

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// A lab's text as a handout reads it: the header comment in paragraphs,
// with the teacher's marked; each program's lines; the lines a student's
// version leaves out. The markers (docs/labs.md):
//
//   - a header paragraph that starts with [solution] is the teacher's, and
//     so is one with commands in it (lines indented by two more spaces):
//     the handout has commands of its own;
//   - a "# try:" line that names a program the student does not see, or
//     says [solution], is left out;
//   - a line whose comment starts with "solution" is the solution's: the
//     student's lab leaves it out (description: … # solution), and a
//     program's stub says where it was;
//   - every other comment at the end of a program's line is the
//     teacher's, and is left out too.

// solutionMark starts a header paragraph, or is in a try line, that only
// the teacher reads.
const solutionMark = "[solution]"

// tryLine is a suggestion of "Things to try": pmrun's arguments, => and
// what it promises, passes or fails, then why.
var tryLine = regexp.MustCompile(`^#\s*try:\s*(.*?)\s*=>\s*(passes|fails)\b:?\s*(.*)$`)

// labText is a lab file's lines and where its parts are.
type labText struct {
	lines    []string // without their newlines
	header   int      // the header comment is lines[:header]
	programs map[string]span
	order    []string // the programs in the file's order
	// teachers are the keys of course: that name programs the student's
	// lab leaves out (hidden:, stubs:), to leave out with them.
	teachers []span
}

// span is lines [from, to) of a file, 0-based.
type span struct{ from, to int }

// readLabText finds the parts of a lab's text.
func readLabText(data []byte) (*labText, error) {
	t := &labText{lines: strings.Split(strings.TrimSuffix(string(data), "\n"), "\n"), programs: map[string]span{}}
	for t.header < len(t.lines) && strings.HasPrefix(t.lines[t.header], "#") {
		t.header++
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil, fmt.Errorf("the lab is not YAML: %v", err)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the lab is not a mapping")
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		end := len(t.lines)
		if i+2 < len(root.Content) {
			end = root.Content[i+2].Line - 1
		}
		switch k.Value {
		case "programs":
			if v.Kind != yaml.MappingNode || v.Style == yaml.FlowStyle {
				return nil, fmt.Errorf("line %d: programs: must be a block mapping, a program to a line, for a handout", k.Line)
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				pk := v.Content[j]
				to := end
				if j+2 < len(v.Content) {
					to = v.Content[j+2].Line - 1
				}
				t.programs[pk.Value] = span{pk.Line - 1, t.trimEnd(pk.Line-1, to, pk.Column-1)}
				t.order = append(t.order, pk.Value)
			}
		case "course":
			for j := 0; j+1 < len(v.Content); j += 2 {
				if ck := v.Content[j]; ck.Value == "hidden" || ck.Value == "stubs" {
					if v.Style == yaml.FlowStyle {
						return nil, fmt.Errorf("line %d: course: must be a block mapping for a handout (its %s: is left out of the student's lab)", k.Line, ck.Value)
					}
					to := end
					if j+2 < len(v.Content) {
						to = v.Content[j+2].Line - 1
					}
					t.teachers = append(t.teachers, span{ck.Line - 1, t.trimEnd(ck.Line-1, to, ck.Column-1)})
				}
			}
		}
	}
	return t, nil
}

// trimEnd is where an item that starts on line from, at column col, ends,
// before to: without the blank lines and comments after it that are not
// indented under it (they belong to what comes next).
func (t *labText) trimEnd(from, to, col int) int {
	for to > from+1 {
		line := t.lines[to-1]
		trimmed := strings.TrimLeft(line, " ")
		if trimmed != "" && (!strings.HasPrefix(trimmed, "#") || len(line)-len(trimmed) > col) {
			break
		}
		to--
	}
	return to
}

// paragraph is a paragraph of the header: its lines without "# ".
type paragraph []string

// headerParagraphs are the header's paragraphs, the teacher's included.
func (t *labText) headerParagraphs() []paragraph {
	var out []paragraph
	var cur paragraph
	for _, line := range t.lines[:t.header] {
		text := strings.TrimPrefix(strings.TrimPrefix(line, "#"), " ")
		if strings.TrimSpace(text) == "" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, text)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// teachers reports whether a header paragraph is the teacher's: it
// starts with [solution], or holds commands (the lab's own usage; a
// handout has commands of its own, for the student's files).
func (p paragraph) teachers() bool {
	if len(p) > 0 && strings.HasPrefix(strings.TrimSpace(p[0]), solutionMark) {
		return true
	}
	for _, line := range p {
		if code(line) && !tryLine.MatchString("# "+line) {
			return true
		}
	}
	return false
}

// code reports whether a header line is a command (indented by two more
// spaces), not prose.
func code(line string) bool { return strings.HasPrefix(line, "  ") }

// stripComment removes a comment at the end of a YAML line (a # after a
// space, outside quotes), and reports whether it started with "solution".
func stripComment(line string) (string, bool) {
	var quote rune
	for i, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case r == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
			comment := strings.TrimSpace(line[i+1:])
			return strings.TrimRight(line[:i], " \t"), strings.HasPrefix(comment, "solution")
		}
	}
	return line, false
}

// yourCode stands where the stub left the solution's lines out.
const yourCode = "# your code"

// programLines are a program's lines as the handout shows them: without
// their comments, and for a stub without the solution's lines, a
// "# your code" where they were. marked tells whether any line was the
// solution's.
func (t *labText) programLines(name string, stub bool) (out []string, marked bool) {
	s := t.programs[name]
	gap := false
	for _, line := range t.lines[s.from:s.to] {
		text, solution := stripComment(line)
		if trimmed := strings.TrimSpace(text); trimmed == "" && strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue // a whole-line comment: the teacher's
		}
		if solution && stub {
			marked = true
			if !gap {
				indent := len(text) - len(strings.TrimLeft(text, " "))
				if indent == 0 && strings.TrimSpace(text) == "" {
					indent = len(line) - len(strings.TrimLeft(line, " "))
				}
				out = append(out, strings.Repeat(" ", indent)+yourCode)
			}
			gap = true
			continue
		}
		if solution {
			marked = true
		}
		gap = false
		out = append(out, text)
	}
	return out, marked
}

// stubLines are the lines of program stub, a student's program's stub
// that the lab writes out (course: stubs), under the name of the program
// it stands for; its comments are for the student, and are kept.
func (t *labText) stubLines(stub, name string) []string {
	s := t.programs[stub]
	lines := slices.Clone(t.lines[s.from:s.to])
	if len(lines) > 0 {
		first, _ := stripComment(lines[0])
		lines[0] = strings.Replace(first, stub+":", name+":", 1)
	}
	return lines
}

// anchorsOutside finds the YAML aliases of lines that no anchor of lines
// defines: a program that borrows another program's code.
func anchorsOutside(lines []string) []string {
	defined := map[string]bool{}
	var out []string
	for _, line := range lines {
		for _, m := range anchorRe.FindAllStringSubmatch(line, -1) {
			if m[1] == "&" {
				defined[m[2]] = true
			} else if !defined[m[2]] {
				out = append(out, m[2])
			}
		}
	}
	return out
}

var anchorRe = regexp.MustCompile(`(?:^|[\s\[{,:])([&*])([A-Za-z0-9_-]+)`)
