package course

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/lang"
)

// Handout is the student's version of a lab: the problem without the
// solution, the broken attempt, a stub where the solution was, the things
// to try that do not give the answer away; and the files the student
// works with — the lab without its solution (LabFile), and the file to
// write the programs in and hand in (StudentFile).
type Handout struct {
	Name  string // the lab's file name, without .yaml: mutex
	Title string // the header's first paragraph
	// Problem are the header's paragraphs a student reads.
	Problem []Paragraph
	Student string    // the student's ID, "" for none
	Variant []Setting // the student's variant, in the lab's order
	// Broken is the broken attempt the handout shows, with the lines of
	// its program.
	Broken *Program
	// Programs are the programs the student writes, each as its stub.
	Programs []*Program
	Tries    []Try
	// Manual tells whether the lab's broken attempt can be played by
	// hand (it has a var scheduler).
	Manual bool
	// Rows is the number of rows of the interleaving table.
	Rows int

	LabFile     string // the student's lab's file name: mutex.lab.yaml
	LabText     string // its text
	StudentFile string // the student's file's name: mutex.yaml
	StudentText string // its text: the stubs under programs:
	// Key is the lab's solution as a student's file, for the teacher to
	// grade (it earns every point); "" when the solution borrows YAML
	// anchors from programs the student does not write. Never in the
	// student's version.
	Key string
}

// Paragraph is a paragraph of the problem, a line of the lab a line.
type Paragraph struct {
	Lines []string
}

// Program is a program as the handout shows it.
type Program struct {
	Name  string
	Lines []string // its text, from its name's line, as in the file
	// Line is the line of the student's lab its text starts on (the
	// lines pmrun's messages and games name).
	Line    int
	Threads []string // its threads, counted ones one by one (W0, W1, …)
	Vars    []string // its shared variables
}

// Try is a thing to try: a command and what it does.
type Try struct {
	Args    string // pmrun's arguments
	Outcome string // passes or fails
	Why     string
}

// HandoutOptions are how a handout is made.
type HandoutOptions struct {
	Student string            // picks the variant (--student)
	Vars    map[string]string // --var
	Rows    int               // rows of the interleaving table (default 16)
}

// MakeHandout makes the student's version of the lab in file lab. It
// checks what it makes: the student's lab loads, and the stubs keep the
// lab's checks (a student's file with them loads into the real lab).
func MakeHandout(lab string, opt HandoutOptions) (*Handout, error) {
	max, err := lang.MaxSize()
	if err != nil {
		return nil, &LabError{err}
	}
	load := lang.LoadOptions{Registry: actions.Registry(), Vars: opt.Vars, Student: opt.Student, MaxSize: max}
	sc, err := lang.LoadFile(lab, load)
	if err != nil {
		return nil, err
	}
	if sc.Course == nil {
		return nil, &LabError{fmt.Errorf("%s: the lab has no course: key naming the programs a student writes, so pmrun cannot tell the solution from the rest (docs/labs.md)", lab)}
	}
	data, err := os.ReadFile(lab)
	if err != nil {
		return nil, &LabError{err}
	}
	text, err := readLabText(data)
	if err != nil {
		return nil, &LabError{fmt.Errorf("%s: %v", lab, err)}
	}
	name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(lab), ".yaml"), ".yml")
	h := &Handout{
		Name: name, Student: opt.Student, Rows: opt.Rows,
		LabFile: name + ".lab.yaml", StudentFile: name + ".yaml",
	}
	if h.Rows <= 0 {
		h.Rows = 16
	}
	for _, v := range sc.Course.Variants {
		h.Variant = append(h.Variant, Setting{Var: v.Var, Value: sc.Vars[v.Var]})
	}
	_, h.Manual = sc.Vars["scheduler"]
	hidden := slices.Clone(sc.Course.Hidden)
	for _, stub := range sc.Course.Stubs {
		hidden = append(hidden, stub)
	}
	unseen := append(slices.Clone(hidden), sc.Course.Student...)
	section := sc.Sections[actions.ProgramsKey]
	shape := func(name string) *Program {
		threads, vars := actions.ProgramShape(section, name)
		return &Program{Name: name, Threads: threads, Vars: vars}
	}
	var all, key []string // the student's programs' lines, in the file's order
	for _, p := range text.order {
		if !slices.Contains(sc.Course.Student, p) {
			continue
		}
		lines, marked := text.programLines(p, true)
		if stub, ok := sc.Course.Stubs[p]; ok {
			lines, marked = text.stubLines(stub, p), true
		}
		if !marked {
			return nil, &LabError{fmt.Errorf("%s:%d: program %s is the student's, but none of its lines is marked # solution: the handout would give the solution away (docs/labs.md)", lab, text.programs[p].from+1, p)}
		}
		all = append(all, lines...)
		solution, _ := text.programLines(p, false)
		key = append(key, solution...)
		if out := anchorsOutside(all); len(out) > 0 {
			return nil, &LabError{fmt.Errorf("%s:%d: program %s uses the YAML anchor %s of a program the student does not write: a student's file holds its programs alone, so write it out in %s", lab, text.programs[p].from+1, p, out[0], p)}
		}
		prog := shape(p)
		prog.Lines = lines
		h.Programs = append(h.Programs, prog)
	}
	h.Broken = h.brokenAttempt(sc, text, unseen, shape)
	h.problem(text, unseen)
	var starts map[string]int
	h.LabText, starts = h.studentLab(text, sc.Course, hidden, lab)
	if h.Broken != nil {
		h.Broken.Line = starts[h.Broken.Name]
	}
	h.StudentText = h.studentFile()
	if len(anchorsOutside(key)) == 0 {
		h.Key = "# " + h.Name + ": the lab's solution, as a student's file (pmrun handout --key)\nprograms:\n" + strings.Join(key, "\n") + "\n"
	}
	if err := h.check(lab, load); err != nil {
		return nil, err
	}
	return h, nil
}

// brokenAttempt is the program the lab's var broken names, else the first
// the student sees; nil if there is none.
func (h *Handout) brokenAttempt(sc *lang.Scenario, text *labText, unseen []string, shape func(string) *Program) *Program {
	name, _ := sc.Vars["broken"].(string)
	if _, ok := text.programs[name]; !ok || slices.Contains(unseen, name) {
		name = ""
		for _, p := range text.order {
			if !slices.Contains(unseen, p) {
				name = p
				break
			}
		}
	}
	if name == "" {
		return nil
	}
	b := shape(name)
	b.Lines, _ = text.programLines(name, false)
	return b
}

// problem keeps the header's paragraphs and things to try that a student
// may read.
func (h *Handout) problem(text *labText, unseen []string) {
	paras := text.headerParagraphs()
	if len(paras) > 0 {
		h.Title = strings.TrimSuffix(strings.Join(paras[0], " "), ".")
		paras = paras[1:]
	}
	for _, p := range paras {
		if p.teachers() {
			continue
		}
		var prose []string
		for _, line := range p {
			if m := tryLine.FindStringSubmatch("# " + line); m != nil {
				if !givesAway(line, unseen) {
					h.Tries = append(h.Tries, Try{Args: m[1], Outcome: m[2], Why: m[3]})
				}
				continue
			}
			if strings.TrimSpace(line) != "Things to try:" {
				prose = append(prose, strings.TrimSpace(line))
			}
		}
		if len(prose) > 0 {
			h.Problem = append(h.Problem, Paragraph{Lines: prose})
		}
	}
}

// givesAway reports whether a try line is the teacher's: it says
// [solution], or names a program the student does not see.
func givesAway(line string, unseen []string) bool {
	if strings.Contains(line, solutionMark) {
		return true
	}
	for _, p := range unseen {
		if regexp.MustCompile(`=` + regexp.QuoteMeta(p) + `\b`).MatchString(line) {
			return true
		}
	}
	return false
}

// studentLab is the lab without what the student does not see: the
// teacher's paragraphs and tries, the hidden programs (and course:
// hidden:, which names them), the solution (a stub in its place), and the
// teacher's comments on the programs' lines. starts are the lines the
// programs start on.
func (h *Handout) studentLab(text *labText, c *lang.Course, hidden []string, lab string) (string, map[string]int) {
	student := c.Student
	var b strings.Builder
	starts := map[string]int{}
	line := func() int { return strings.Count(b.String(), "\n") + 1 }
	paras := text.headerParagraphs()
	unseen := append(slices.Clone(hidden), student...)
	fmt.Fprintf(&b, "# %s: the student's version of %s, made by pmrun handout.\n", h.Name, filepath.Base(lab))
	for i, p := range paras {
		if p.teachers() {
			continue
		}
		b.WriteString("#\n")
		for _, line := range p {
			if i > 0 && givesAway(line, unseen) && tryLine.MatchString("# "+line) {
				continue
			}
			fmt.Fprintf(&b, "# %s\n", line)
		}
	}
	replace := map[int][]string{} // a span's first line → its new lines
	skip := map[int]int{}         // a span's first line → its end
	names := map[int]string{}     // a program's first line → its name
	for _, name := range text.order {
		names[text.programs[name].from] = name
		s := text.programs[name]
		switch {
		case slices.Contains(hidden, name):
			replace[s.from], skip[s.from] = nil, s.to
		case slices.Contains(student, name):
			lines, _ := text.programLines(name, true)
			if stub, ok := c.Stubs[name]; ok {
				lines = text.stubLines(stub, name)
			}
			replace[s.from], skip[s.from] = lines, s.to
		default:
			lines, _ := text.programLines(name, false)
			replace[s.from], skip[s.from] = lines, s.to
		}
	}
	for _, t := range text.teachers {
		replace[t.from], skip[t.from] = nil, t.to
	}
	for i := text.header; i < len(text.lines); i++ {
		if end, ok := skip[i]; ok {
			if name, ok := names[i]; ok {
				starts[name] = line()
			}
			for _, l := range replace[i] {
				b.WriteString(l + "\n")
			}
			i = end - 1
			continue
		}
		if _, solution := stripComment(text.lines[i]); solution {
			continue // description: … # solution
		}
		b.WriteString(text.lines[i] + "\n")
	}
	return b.String(), starts
}

// studentFile is the file a student writes and hands in: the stubs.
func (h *Handout) studentFile() string {
	var b strings.Builder
	names := make([]string, len(h.Programs))
	for i, p := range h.Programs {
		names[i] = p.Name
	}
	fmt.Fprintf(&b, "# %s: your %s. Write the synchronization where it says \"%s\";\n", h.Name, plural(len(names), "program", "programs"), yourCode)
	fmt.Fprintf(&b, "# keep the lab's checks (asserts, critical regions, invariants, expect)\n# as they are. Check your work with:\n#   %s\n", h.GradeCommand())
	b.WriteString("programs:\n")
	for _, p := range h.Programs {
		for _, line := range p.Lines {
			b.WriteString(line + "\n")
		}
	}
	return b.String()
}

// GradeCommand is the command that grades the student's file in the
// student's lab.
func (h *Handout) GradeCommand() string {
	cmd := "pmrun grade " + h.LabFile + " " + h.StudentFile
	if h.Student != "" {
		cmd += " --student " + shellQuote(h.Student)
	}
	return cmd
}

// check loads what the handout made: the student's lab alone, and the
// stubs into the real lab, as a student's file.
func (h *Handout) check(lab string, load lang.LoadOptions) error {
	dir := filepath.Dir(lab)
	if _, err := lang.Parse(filepath.Join(dir, h.LabFile), []byte(h.LabText), load); err != nil {
		return &LabError{fmt.Errorf("the student's version of %s does not load (mark whole lines # solution, and keep what the steps need):\n%v", lab, err)}
	}
	load.Submission = &lang.Submission{File: h.StudentFile, Data: []byte(h.StudentText)}
	if _, err := lang.LoadFile(lab, load); err != nil {
		return &LabError{fmt.Errorf("the stub, the student's file %s as the handout writes it, does not load into %s (a line marked # solution is one of the lab's checks, or more than the solution):\n%v", h.StudentFile, lab, err)}
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
