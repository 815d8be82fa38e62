package course

import (
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// What a grade is written as: Gradescope's results.json, JUnit XML with
// the points, a line of a CSV, a console summary.

// gradescope is Gradescope's results.json: the score, and a test per
// check with its score, max_score and output.
type gradescope struct {
	Score         float64          `json:"score"`
	ExecutionTime float64          `json:"execution_time"`
	Output        string           `json:"output"`
	Visibility    string           `json:"visibility"`
	Tests         []gradescopeTest `json:"tests"`
}

type gradescopeTest struct {
	Score    float64 `json:"score"`
	MaxScore float64 `json:"max_score"`
	Status   string  `json:"status"`
	Name     string  `json:"name"`
	Number   string  `json:"number"`
	Output   string  `json:"output"`
}

// WriteGradescope writes r as Gradescope's results.json.
func (r *Result) WriteGradescope(w io.Writer) error {
	g := gradescope{Score: r.Score, ExecutionTime: r.Duration.Seconds(), Output: r.Summary(), Visibility: "visible", Tests: []gradescopeTest{}}
	for i, c := range r.Checks {
		status := "failed"
		if c.Passed {
			status = "passed"
		}
		g.Tests = append(g.Tests, gradescopeTest{Score: c.Points, MaxScore: c.Max, Status: status, Name: c.Name, Number: strconv.Itoa(i + 1), Output: c.Output})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(g)
}

// WriteJSON writes r as JSON: the grade as pmrun keeps it, which a batch
// of submissions reads back from each one's run folder.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// Summary is the grade in a few lines: the lab, the student and variant,
// the score, and why the submission was not graded as a whole.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "lab %s: %s", r.Lab, r.File)
	if r.Student != "" {
		fmt.Fprintf(&b, ", student %s", r.Student)
	}
	if v := r.VariantText(); v != "" {
		fmt.Fprintf(&b, " (variant: %s)", v)
	}
	fmt.Fprintf(&b, "\nscore: %s/%s", formatPoints(r.Score), formatPoints(r.Max))
	if r.Problem != "" {
		fmt.Fprintf(&b, " (%s)", r.Problem)
	}
	for _, e := range r.Errors {
		fmt.Fprintf(&b, "\n%s", e)
	}
	return b.String()
}

// formatPoints writes points without a useless fraction: 3, 2.5.
func formatPoints(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// JUnit XML, one test suite for the submission and a test case for each
// check; each case's points are properties (points, max_points) and are
// in its name, and the suite's are the sums.
type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Name    string       `xml:"name,attr"`
	Tests   int          `xml:"tests,attr"`
	Fails   int          `xml:"failures,attr"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Fails      int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name       string          `xml:"name,attr"`
	Classname  string          `xml:"classname,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Failure    *junitFailure   `xml:"failure"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes r as JUnit XML with the points.
func (r *Result) WriteJUnit(w io.Writer) error {
	suite := junitSuite{
		Name: r.Lab + ": " + r.File, Tests: len(r.Checks), Time: strconv.FormatFloat(r.Duration.Seconds(), 'f', 3, 64),
		Properties: []junitProperty{
			{Name: "lab", Value: r.LabFile}, {Name: "file", Value: r.File}, {Name: "student", Value: r.Student},
			{Name: "variant", Value: r.VariantText()},
			{Name: "score", Value: formatPoints(r.Score)}, {Name: "max_score", Value: formatPoints(r.Max)},
		},
		SystemOut: r.Summary(),
	}
	for _, c := range r.Checks {
		jc := junitCase{
			Name:      fmt.Sprintf("%s (%s/%s points)", c.Name, formatPoints(c.Points), formatPoints(c.Max)),
			Classname: r.Lab,
			Properties: []junitProperty{
				{Name: "points", Value: formatPoints(c.Points)}, {Name: "max_points", Value: formatPoints(c.Max)},
			},
			SystemOut: c.Output,
		}
		if !c.Passed {
			suite.Fails++
			jc.Failure = &junitFailure{Message: firstLine(c.Output), Type: "check", Text: c.Output}
		}
		suite.Cases = append(suite.Cases, jc)
	}
	if len(r.Errors) > 0 {
		suite.Errors = 1
	}
	out := junitSuites{Name: "pmrun grade", Tests: suite.Tests, Fails: suite.Fails, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// CSVHeader is the header of a summary CSV for these checks (a lab's):
// student, file, score, max_score, problem, variant, then each check's
// points.
func CSVHeader(checks []Check) []string {
	h := []string{"student", "file", "score", "max_score", "problem", "variant"}
	for _, c := range checks {
		h = append(h, c.Name)
	}
	return h
}

// CSVRow is r as a row under [CSVHeader].
func (r *Result) CSVRow() []string {
	row := []string{r.Student, r.File, formatPoints(r.Score), formatPoints(r.Max), r.Problem, r.VariantText()}
	for _, c := range r.Checks {
		row = append(row, formatPoints(c.Points))
	}
	return row
}

// WriteCSV writes the results, one row each, under the header of the
// first one's checks.
func WriteCSV(w io.Writer, results []*Result) error {
	cw := csv.NewWriter(w)
	if len(results) > 0 {
		if err := cw.Write(CSVHeader(results[0].Checks)); err != nil {
			return err
		}
	}
	for _, r := range results {
		if err := cw.Write(r.CSVRow()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
