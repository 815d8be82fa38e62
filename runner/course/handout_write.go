package course

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"strings"
)

// A handout written out: Markdown, and a printable HTML page with the
// same content and a blank interleaving table to fill in by hand.

// WriteMarkdown writes the handout as Markdown.
func (h *Handout) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", h.Title)
	if v := h.VariantText(); v != "" {
		fmt.Fprintf(&b, "*%s*\n\n", v)
	}
	b.WriteString("## The problem\n\n")
	for _, p := range h.Problem {
		fmt.Fprintf(&b, "%s\n\n", strings.Join(p.Lines, "\n"))
	}
	if br := h.Broken; br != nil {
		fmt.Fprintf(&b, "## The broken attempt: `%s`\n\nIn `%s`, with its lines:\n\n```text\n%s\n```\n\n", br.Name, h.LabFile, numbered(br))
		fmt.Fprintf(&b, "%s\n\n", tableHelp)
		cols := h.Columns()
		fmt.Fprintf(&b, "| %s |\n|%s\n", strings.Join(cols, " | "), strings.Repeat("---|", len(cols)))
		for i := 1; i <= h.Rows; i++ {
			fmt.Fprintf(&b, "| %d |%s\n", i, strings.Repeat("   |", len(cols)-1))
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "## Your %s\n\n", h.programsTitle())
	fmt.Fprintf(&b, "Write %s in `%s`, which starts as:\n\n```yaml\n%s```\n\n%s\n\n", h.them(), h.StudentFile, h.StudentText, keepHelp)
	b.WriteString("## Checking your work\n\n```sh\n")
	for _, c := range h.Commands() {
		fmt.Fprintf(&b, "%-50s # %s\n", c[0], c[1])
	}
	b.WriteString("```\n")
	if len(h.Tries) > 0 {
		b.WriteString("\n## Things to try\n\n")
		for _, t := range h.Tries {
			fmt.Fprintf(&b, "- `%s` %s\n", h.TryCommand(t), t.Promise())
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

const (
	tableHelp = "Find an interleaving that breaks it. Write one step a row: the operation (with its line) in the column of the thread that takes it, and the shared variables after it."
	keepHelp  = "Keep the lab's checks as they are: its `assert`s, its `critical` regions and what is inside them, its `invariants` and `expect`, and the variables they read. `pmrun grade` refuses a file that changes them, and so will your teacher's grading."
)

// VariantText says whose variant the handout is, and its values; "" for a
// lab without variants.
func (h *Handout) VariantText() string {
	if len(h.Variant) == 0 {
		return ""
	}
	parts := make([]string, len(h.Variant))
	for i, s := range h.Variant {
		parts[i] = fmt.Sprintf("%s = %v", s.Var, s.Value)
	}
	who := "The lab's own variant"
	if h.Student != "" {
		who = "Student " + h.Student + ", your variant"
	}
	return who + ": " + strings.Join(parts, ", ") + "."
}

// Columns are the interleaving table's: the step, a thread each, the
// shared variables.
func (h *Handout) Columns() []string {
	cols := []string{"step"}
	if h.Broken != nil {
		cols = append(cols, h.Broken.Threads...)
		cols = append(cols, h.Broken.Vars...)
	}
	return cols
}

func (h *Handout) programsTitle() string {
	names := make([]string, len(h.Programs))
	for i, p := range h.Programs {
		names[i] = "`" + p.Name + "`"
	}
	return plural(len(names), "program: ", "programs: ") + strings.Join(names, ", ")
}

func (h *Handout) them() string { return plural(len(h.Programs), "it", "them") }

// Commands are the commands a student checks the work with, each with
// what it does.
func (h *Handout) Commands() [][2]string {
	out := [][2]string{{h.GradeCommand(), "each check: passed, or what broke, the interleaving and the line that replays it"}}
	if h.Manual && h.Broken != nil {
		out = append(out, [2]string{h.ManualCommand(), "be the scheduler of the broken attempt: break it"})
	}
	return out
}

// ManualCommand plays the broken attempt of the student's variant by
// hand: pmrun run knows no student, so the variant's values are given as
// --var.
func (h *Handout) ManualCommand() string {
	cmd := "pmrun run --var scheduler=manual"
	if h.Student != "" {
		for _, s := range h.Variant {
			cmd += " --var " + shellQuote(fmt.Sprintf("%s=%v", s.Var, s.Value))
		}
	}
	return cmd + " " + h.LabFile
}

// TryCommand is a thing to try as a command on the student's files.
func (h *Handout) TryCommand(t Try) string { return h.GradeCommand() + " " + t.Args }

// Promise is what a thing to try does.
func (t Try) Promise() string {
	s := t.Outcome
	if t.Outcome == "passes" {
		s = "passes, once your program is right"
	}
	if t.Why != "" {
		s += ": " + t.Why
	}
	return s
}

// numbered is a program's text with its line numbers in the student's
// lab.
func numbered(p *Program) string {
	lines := dedent(p.Lines)
	width := len(fmt.Sprint(p.Line + len(lines)))
	for i, l := range lines {
		lines[i] = fmt.Sprintf("%*d  %s", width, p.Line+i, l)
	}
	return strings.Join(lines, "\n")
}

// inlineCode turns `code` in a line of prose into HTML's <code>.
func inlineCode(s string) template.HTML {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + template.HTMLEscapeString(p) + "</code>")
		} else if i%2 == 1 {
			b.WriteString("`" + template.HTMLEscapeString(p))
		} else {
			b.WriteString(template.HTMLEscapeString(p))
		}
	}
	return template.HTML(b.String())
}

// dedent takes away the indentation the lines share.
func dedent(lines []string) []string {
	least := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		if n := len(l) - len(strings.TrimLeft(l, " ")); least < 0 || n < least {
			least = n
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		if len(l) >= least && least > 0 {
			l = l[least:]
		}
		out[i] = l
	}
	return out
}

//go:embed handout.html
var handoutHTML string

var handoutTemplate = template.Must(template.New("handout").Funcs(template.FuncMap{
	"join":     strings.Join,
	"numbered": numbered,
	"prose":    func(lines []string) template.HTML { return inlineCode(strings.Join(lines, " ")) },
	"rows": func(n int) []int {
		out := make([]int, n)
		for i := range out {
			out[i] = i + 1
		}
		return out
	},
	"blank": func(cols []string) []string { return cols[1:] },
}).Parse(handoutHTML))

// WriteHTML writes the handout as a page to print: the same content as
// the Markdown, and the interleaving table with room to write in.
func (h *Handout) WriteHTML(w io.Writer) error {
	return handoutTemplate.Execute(w, h)
}
