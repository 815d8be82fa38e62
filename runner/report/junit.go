package report

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

// The JUnit XML that CI systems read (Jenkins, GitLab, GitHub's test
// reporters, Azure): the Ant schema's testsuites, testsuite and testcase,
// with failures and errors told apart as that schema does — a failure is
// a check that did not hold (an assert), an error a step that could not do
// its work (a timeout, a process that would not start, a file that did not
// load).

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Skipped  int          `xml:"skipped,attr"`
	Time     string       `xml:"time,attr,omitempty"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Skipped   int         `xml:"skipped,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Hostname  string      `xml:"hostname,attr,omitempty"`
	File      string      `xml:"file,attr,omitempty"`
	Props     []junitProp `xml:"properties>property"`
	Cases     []junitCase `xml:"testcase"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
	SystemErr string        `xml:"system-err,omitempty"`
}

// junitProblem is a failure or an error: its type, a one-line message
// and the whole story.
type junitProblem struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// JUnit failure and error types.
const (
	junitAssertion   = "assertion"   // an assert that did not hold
	junitTimeout     = "timeout"     // a step's or the scenario's time ran out
	junitInterrupted = "interrupted" // Ctrl-C, SIGTERM or a console gone
	junitLoad        = "load"        // the file has mistakes; nothing ran
)

// JUnitRun is what the run as a whole adds to each suite of its JUnit
// file.
type JUnitRun struct {
	// SearchShard is --search-shard's I/N, or "". Each suite is then
	// named "NAME (search shard I of N)" and carries it as the property
	// search_shard, so that the files of N workers merge without two
	// suites of one name.
	SearchShard string
}

// WriteJUnit writes outcomes as a JUnit XML report: a test suite per
// scenario run (its name unique: repeated runs are numbered), a test case
// per step — those that never ran as skipped — with the seed as a
// property, so that a failure can be repeated, the output of each
// process a step waited for in its <system-out> and <system-err>, and
// what a step found that the console notes below it (a program's failure,
// its explanation, the command that replays it) in its <system-out>, and
// in the failure of an assert that checks that step.
func WriteJUnit(ctx context.Context, path string, outcomes []*lang.Outcome, run JUnitRun) error {
	host, _ := os.Hostname()
	doc := junitSuites{Name: "pmrun"}
	names := suiteNames(outcomes)
	var total float64
	for i, o := range outcomes {
		s := junitSuite{
			Name: names[i], File: o.Scenario.File, Hostname: host,
			Time:  seconds(o.Duration.Seconds()),
			Props: []junitProp{{Name: "seed", Value: fmt.Sprint(o.Seed)}, {Name: "status", Value: o.Status}, {Name: "scenario", Value: o.Scenario.Name}},
		}
		if run.SearchShard != "" {
			shard, of, _ := strings.Cut(run.SearchShard, "/")
			s.Name = fmt.Sprintf("%s (search shard %s of %s)", s.Name, shard, of)
			s.Props = append(s.Props, junitProp{Name: "search_shard", Value: run.SearchShard})
		}
		if !o.Started.IsZero() {
			s.Timestamp = o.Started.Format("2006-01-02T15:04:05")
		}
		// Every step of the file in order, each with how it ended: those
		// that never ran are skipped.
		results := map[int]*lang.StepResult{}
		for _, r := range o.Steps {
			results[r.Step.Index] = r
		}
		stopped := "not run: the scenario stopped before it"
		if o.Status == lang.StatusInterrupted {
			stopped = "not run: the run was interrupted before it"
		}
		stepFailed := false
		for _, st := range append(append([]*lang.Step(nil), o.Scenario.Steps...), o.Scenario.Finally...) {
			r := results[st.Index]
			if r == nil {
				msg := stopped
				if st.Finally {
					msg = "not run: the finally steps were abandoned"
				}
				s.Cases = append(s.Cases, junitCase{
					Name: caseName(st), Time: seconds(0), File: st.Pos.File, Line: st.Pos.Line,
					Skipped: &junitSkipped{Message: msg},
				})
				continue
			}
			c := stepCase(r, results)
			stepFailed = stepFailed || c.Failure != nil || c.Error != nil
			s.Cases = append(s.Cases, c)
		}
		if o.Status != lang.StatusPassed && o.Err != nil && !stepFailed {
			// A failure outside any step: a timeout, a background step,
			// cleanup, an interruption between steps.
			s.Cases = append(s.Cases, junitCase{Name: "scenario", Classname: names[i], Time: seconds(0),
				Error: &junitProblem{Type: problemType(nil, o.Err), Message: oneLine(o.Err), Text: o.Err.Error()}})
		}
		s.count()
		doc.add(s)
		total += o.Duration.Seconds()
	}
	doc.Time = seconds(total)
	return writeJUnitDoc(ctx, path, doc)
}

// stepCase is a step's test case: passed, failed (an assertion), an
// error (anything else that failed) or skipped. A failure that
// continue_on_error allows passes, saying so in its output: the run
// passed, and CI should agree.
func stepCase(r *lang.StepResult, results map[int]*lang.StepResult) junitCase {
	c := junitCase{
		Name: caseName(r.Step), Time: seconds(r.Duration.Seconds()),
		File: r.Step.Pos.File, Line: r.Step.Pos.Line,
	}
	var out, errOut []string
	// What the processes wrote: a wait's or terminate's result keeps the
	// last 64 KiB of each stream.
	if text, _ := r.Result["stdout"].(string); text != "" {
		out = append(out, processHeading(r, "stdout")+text)
	}
	if text, _ := r.Result["stderr"].(string); text != "" {
		errOut = append(errOut, processHeading(r, "stderr")+text)
	}
	notes := stepNotes(r)
	switch r.Status {
	case lang.StatusFailed:
		story := fmt.Sprintf("%s\nat %s", r.Err, r.Step.Pos)
		if len(notes) > 0 {
			story += "\n" + strings.Join(notes, "\n")
		}
		story += checkedNotes(r, results)
		switch {
		case r.Step.ContinueOnError:
			out = append(out, "failed, allowed by continue_on_error: "+story)
		case problemType(r, r.Err) == junitAssertion:
			c.Failure = &junitProblem{Type: junitAssertion, Message: oneLine(r.Err), Text: story}
		default:
			c.Error = &junitProblem{Type: problemType(r, r.Err), Message: oneLine(r.Err), Text: story}
		}
	case lang.StatusSkipped:
		msg := "skipped"
		if r.Step.If != nil {
			msg = "skipped: its if was false"
		}
		c.Skipped = &junitSkipped{Message: msg}
	default:
		out = append(out, notes...)
	}
	c.SystemOut = strings.Join(out, "\n")
	c.SystemErr = strings.Join(errOut, "\n")
	return c
}

// stepNotes are the lines the console prints below a step whatever -q
// says ([contract.Spec.Note]): what a program step found, and how to
// replay it.
func stepNotes(r *lang.StepResult) []string {
	if spec := r.Step.Spec(); spec != nil && spec.Note != nil && r.Result != nil {
		return spec.Note(r.Result)
	}
	return nil
}

// stepRef finds the steps an assertion reads: steps.ID, and last.
var stepRef = regexp.MustCompile(`\b(steps\.[a-z_][a-z0-9_]*|last)\b`)

// checkedNotes is what the steps that a failed assert reads found (their
// notes), for the assert's failure: a program's failure is the result of
// its step, and the assert that checks it is the test case CI shows.
func checkedNotes(r *lang.StepResult, results map[int]*lang.StepResult) string {
	var assertion *contract.AssertionError
	if !errors.As(r.Err, &assertion) {
		return ""
	}
	byID := map[string]*lang.StepResult{}
	var last *lang.StepResult
	for _, o := range results {
		if o.Step.ID != "" {
			byID[o.Step.ID] = o
		}
		if !o.Step.Background && o.Step.Index < r.Step.Index && (last == nil || o.Step.Index > last.Step.Index) {
			last = o
		}
	}
	var b strings.Builder
	seen := map[*lang.StepResult]bool{}
	for _, ref := range stepRef.FindAllString(assertion.Source, -1) {
		o := last
		if id, ok := strings.CutPrefix(ref, "steps."); ok {
			o = byID[id]
		}
		if o == nil || seen[o] {
			continue
		}
		seen[o] = true
		if notes := stepNotes(o); len(notes) > 0 {
			fmt.Fprintf(&b, "\n%s (line %d) %s", ref, o.Step.Pos.Line, strings.Join(notes, "\n"))
		}
	}
	return b.String()
}

// processHeading names the process whose output follows.
func processHeading(r *lang.StepResult, stream string) string {
	if name, _ := r.Result["name"].(string); name != "" {
		return fmt.Sprintf("--- %s of process %s (its last 64 KiB) ---\n", stream, name)
	}
	return fmt.Sprintf("--- %s ---\n", stream)
}

// problemType names the kind of a failure: an assertion, a timeout, an
// interruption, or the action that failed (spawn, receive, prodcons…).
func problemType(r *lang.StepResult, err error) string {
	var assertion *contract.AssertionError
	var timeout interface{ TimedOut() bool } // runner.TimeoutError
	switch {
	case errors.As(err, &assertion):
		return junitAssertion
	case errors.As(err, &timeout) && timeout.TimedOut():
		return junitTimeout
	case errors.Is(err, lang.ErrInterrupted):
		return junitInterrupted
	case r != nil:
		return r.Step.Action
	}
	return "scenario"
}

// suiteNames gives each outcome a suite name of its own: the scenario's
// name; "name (run 2 of 3)" for repeated runs; the file beside it when two
// files share a name.
func suiteNames(outcomes []*lang.Outcome) []string {
	runs := map[*lang.Scenario]int{}
	files := map[string]map[string]bool{}
	for _, o := range outcomes {
		runs[o.Scenario]++
		if files[o.Scenario.Name] == nil {
			files[o.Scenario.Name] = map[string]bool{}
		}
		files[o.Scenario.Name][o.Scenario.File] = true
	}
	seen := map[*lang.Scenario]int{}
	names := make([]string, len(outcomes))
	for i, o := range outcomes {
		name := o.Scenario.Name
		if len(files[name]) > 1 {
			name += " (" + o.Scenario.File + ")"
		}
		if n := runs[o.Scenario]; n > 1 {
			seen[o.Scenario]++
			name += fmt.Sprintf(" (run %d of %d)", seen[o.Scenario], n)
		}
		names[i] = name
	}
	return names
}

// WriteJUnitLoadErrors writes a JUnit XML report for a run that did not
// start because files have mistakes: a suite per such file, with one test
// case, "load", in error, listing every mistake as FILE:LINE:COL: message.
func WriteJUnitLoadErrors(ctx context.Context, path string, errs lang.LoadErrors) error {
	host, _ := os.Hostname()
	doc := junitSuites{Name: "pmrun"}
	var files []string
	byFile := map[string][]string{}
	for _, e := range errs {
		if _, ok := byFile[e.File]; !ok {
			files = append(files, e.File)
		}
		byFile[e.File] = append(byFile[e.File], e.Error())
	}
	for _, f := range files {
		lines := byFile[f]
		s := junitSuite{Name: f, File: f, Hostname: host, Time: seconds(0), Cases: []junitCase{{
			Name: "load", Classname: f, Time: seconds(0), File: f,
			Error: &junitProblem{Type: junitLoad,
				Message: fmt.Sprintf("%d %s in the file; nothing was run", len(lines), plural(len(lines), "mistake", "mistakes")),
				Text:    strings.Join(lines, "\n")},
		}}}
		s.count()
		doc.add(s)
	}
	return writeJUnitDoc(ctx, path, doc)
}

// count sets a suite's totals from its cases, and each case's class.
func (s *junitSuite) count() {
	s.Tests = len(s.Cases)
	for i := range s.Cases {
		c := &s.Cases[i]
		if c.Classname == "" {
			c.Classname = s.Name
		}
		switch {
		case c.Failure != nil:
			s.Failures++
		case c.Error != nil:
			s.Errors++
		case c.Skipped != nil:
			s.Skipped++
		}
	}
}

func (d *junitSuites) add(s junitSuite) {
	d.Suites = append(d.Suites, s)
	d.Tests += s.Tests
	d.Failures += s.Failures
	d.Errors += s.Errors
	d.Skipped += s.Skipped
}

func writeJUnitDoc(ctx context.Context, path string, doc junitSuites) error {
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(ctx, path, func(w io.Writer) error {
		_, err := w.Write(append([]byte(xml.Header), append(out, '\n')...))
		return err
	})
}

func caseName(st *lang.Step) string {
	name := fmt.Sprintf("%d %s", st.Index, st.Label())
	if st.Finally {
		name = fmt.Sprintf("%d finally: %s", st.Index, st.Label())
	}
	return name
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// oneLine joins the lines of an error, for one-line contexts such as JUnit
// attributes.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
