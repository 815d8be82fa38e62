package report

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/pmrun/pmrun/runner/lang"
)

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	File     string      `xml:"file,attr,omitempty"`
	Props    []junitProp `xml:"properties>property"`
	Cases    []junitCase `xml:"testcase"`
}

type junitProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *struct{}     `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes outcomes as a JUnit XML report: a test suite per
// scenario run and a test case per step, with the seed as a property so a
// failure can be repeated.
func WriteJUnit(ctx context.Context, path string, outcomes []*lang.Outcome) error {
	var doc junitSuites
	for _, o := range outcomes {
		ok, failed, skipped := o.Counts()
		s := junitSuite{
			Name: o.Scenario.Name, File: o.Scenario.File,
			Tests: ok + failed + skipped, Failures: failed, Skipped: skipped,
			Time:  fmt.Sprintf("%.3f", o.Duration.Seconds()),
			Props: []junitProp{{Name: "seed", Value: fmt.Sprint(o.Seed)}, {Name: "status", Value: o.Status}},
		}
		for _, r := range o.Steps {
			c := junitCase{
				Name:      fmt.Sprintf("%d %s", r.Step.Index, r.Step.Label()),
				Classname: o.Scenario.Name,
				Time:      fmt.Sprintf("%.3f", r.Duration.Seconds()),
			}
			switch r.Status {
			case lang.StatusFailed:
				c.Failure = &junitFailure{Message: oneLine(r.Err), Text: fmt.Sprintf("%s\nat %s", r.Err, r.Step.Pos)}
			case lang.StatusSkipped:
				c.Skipped = &struct{}{}
			}
			s.Cases = append(s.Cases, c)
		}
		if o.Status != lang.StatusPassed && o.Err != nil && failed == 0 {
			// A failure outside any step: a timeout, a background step, cleanup.
			s.Tests++
			s.Failures++
			s.Cases = append(s.Cases, junitCase{Name: "scenario", Classname: o.Scenario.Name,
				Failure: &junitFailure{Message: oneLine(o.Err), Text: o.Err.Error()}})
		}
		doc.Suites = append(doc.Suites, s)
	}
	out, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(ctx, path, func(w io.Writer) error {
		_, err := w.Write(append([]byte(xml.Header), append(out, '\n')...))
		return err
	})
}

// oneLine joins the lines of an error, for one-line contexts such as JUnit
// attributes.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}
