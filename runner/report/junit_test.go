package report_test

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

// The JUnit document as a CI system reads it.
type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name      string `xml:"name,attr"`
	Tests     int    `xml:"tests,attr"`
	Failures  int    `xml:"failures,attr"`
	Errors    int    `xml:"errors,attr"`
	Skipped   int    `xml:"skipped,attr"`
	Time      string `xml:"time,attr"`
	Timestamp string `xml:"timestamp,attr"`
	Hostname  string `xml:"hostname,attr"`
	Props     []struct {
		Name  string `xml:"name,attr"`
		Value string `xml:"value,attr"`
	} `xml:"properties>property"`
	Cases []xmlCase `xml:"testcase"`
}

type xmlCase struct {
	Name      string      `xml:"name,attr"`
	Classname string      `xml:"classname,attr"`
	Failure   *xmlProblem `xml:"failure"`
	Error     *xmlProblem `xml:"error"`
	Skipped   *struct {
		Message string `xml:"message,attr"`
	} `xml:"skipped"`
	SystemOut string `xml:"system-out"`
	SystemErr string `xml:"system-err"`
}

type xmlProblem struct {
	Type    string `xml:"type,attr"`
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func readJUnit(t *testing.T, path string) xmlSuites {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc xmlSuites
	if err := xml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, data)
	}
	return doc
}

// outcome of a case: "ok", "failure TYPE", "error TYPE" or "skipped".
func (c xmlCase) outcome() string {
	switch {
	case c.Failure != nil:
		return "failure " + c.Failure.Type
	case c.Error != nil:
		return "error " + c.Error.Type
	case c.Skipped != nil:
		return "skipped"
	}
	return "ok"
}

// TestJUnitAsCIReadsIt: failures (assertions) and errors (anything else
// that failed) counted apart and typed, a timestamp and hostname, the
// processes' output in system-out and system-err, steps that never ran
// skipped, an allowed failure passing, and unique suite names when a
// scenario runs twice.
func TestJUnitAsCIReadsIt(t *testing.T) {
	t.Parallel()
	mixed := mustParse(t, `name: mixed
steps:
  - spawn: {name: talker, shell: 'echo hello; echo oops >&2'}
  - wait: {process: talker}
  - log: never
    if: "false"
  - assert: "false"
    continue_on_error: true
  - assert: {that: "1 == 2", message: "one is not two"}
  - log: after
  - log: after again
finally:
  - log: bye
`)
	timeout := mustParse(t, "name: slow\nsteps:\n  - sleep: 5s\n    timeout: 10ms\n")
	noexec := mustParse(t, "name: noexec\nsteps:\n  - spawn: {name: x, cmd: [/nonexistent/program]}\n")
	var outcomes []*lang.Outcome
	for _, sc := range []*lang.Scenario{mixed, timeout, noexec, timeout} {
		outcomes = append(outcomes, runner.Run(t.Context(), sc, runner.Options{}))
	}
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := report.WriteJUnit(t.Context(), path, outcomes, report.JUnitRun{}); err != nil {
		t.Fatal(err)
	}
	doc := readJUnit(t, path)

	var names []string
	for _, s := range doc.Suites {
		names = append(names, s.Name)
	}
	if got, want := strings.Join(names, " | "), "mixed | slow (run 1 of 2) | noexec | slow (run 2 of 2)"; got != want {
		t.Errorf("suite names %q, want %q", got, want)
	}

	m := doc.Suites[0]
	var got []string
	for _, c := range m.Cases {
		got = append(got, c.Name+": "+c.outcome())
		if c.Classname != "mixed" {
			t.Errorf("case %q has class %q", c.Name, c.Classname)
		}
	}
	want := []string{
		"0 spawn talker: ok",
		"1 wait talker: ok",
		"2 log never: skipped",
		"3 assert false: ok",
		"4 assert 1 == 2: failure assertion",
		"5 log after: skipped",
		"6 log after again: skipped",
		"7 finally: log bye: ok",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("cases:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if m.Tests != 8 || m.Failures != 1 || m.Errors != 0 || m.Skipped != 3 {
		t.Errorf("mixed: tests %d, failures %d, errors %d, skipped %d; want 8, 1, 0, 3", m.Tests, m.Failures, m.Errors, m.Skipped)
	}
	if len(m.Cases) == 8 {
		if f := m.Cases[4].Failure; f == nil || !strings.Contains(f.Message, "one is not two") || !strings.Contains(f.Text, "t.yaml:9:5") {
			t.Errorf("the failure says neither what nor where: %+v", f)
		}
		if s := m.Cases[5].Skipped; !strings.Contains(s.Message, "not run") {
			t.Errorf("a step that never ran: %q", s.Message)
		}
		if wait := m.Cases[1]; !strings.Contains(wait.SystemOut, "process talker") || !strings.Contains(wait.SystemOut, "hello\n") || !strings.Contains(wait.SystemErr, "oops\n") {
			t.Errorf("wait's output: system-out %q, system-err %q", wait.SystemOut, wait.SystemErr)
		}
		if allowed := m.Cases[3]; !strings.Contains(allowed.SystemOut, "allowed by continue_on_error") {
			t.Errorf("an allowed failure does not say so: %q", allowed.SystemOut)
		}
	}
	if _, err := time.Parse("2006-01-02T15:04:05", m.Timestamp); err != nil || m.Hostname == "" {
		t.Errorf("timestamp %q (%v), hostname %q", m.Timestamp, err, m.Hostname)
	}
	seed := false
	for _, p := range m.Props {
		seed = seed || p.Name == "seed" && regexp.MustCompile(`^[0-9]+$`).MatchString(p.Value)
	}
	if !seed {
		t.Errorf("no seed property: %+v", m.Props)
	}

	if s := doc.Suites[1]; s.Errors != 1 || s.Failures != 0 || s.Cases[0].outcome() != "error timeout" {
		t.Errorf("a step timeout: errors %d, failures %d, %s", s.Errors, s.Failures, s.Cases[0].outcome())
	}
	if s := doc.Suites[2]; s.Errors != 1 || s.Cases[0].outcome() != "error spawn" || !strings.Contains(s.Cases[0].Error.Message, "/nonexistent/program") {
		t.Errorf("a process that would not start: %+v", s.Cases[0])
	}
	if doc.Tests != 8+1+1+1 || doc.Failures != 1 || doc.Errors != 3 || doc.Skipped != 3 {
		t.Errorf("totals: tests %d, failures %d, errors %d, skipped %d", doc.Tests, doc.Failures, doc.Errors, doc.Skipped)
	}
}

// TestJUnitLoadErrors: a file that does not load is a suite with one
// case in error, listing every mistake with its position.
func TestJUnitLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var errs lang.LoadErrors
	for name, src := range map[string]string{
		"a.yaml": "name: a\nsteps:\n  - slep: 1s\n  - log: {mesage: x}\n",
		"b.yaml": "name: b\ntiemout: 1s\nsteps: [{log: b}]\n",
	} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := lang.LoadFile(path, lang.LoadOptions{Registry: actions.Registry()})
		le, ok := err.(lang.LoadErrors)
		if !ok {
			t.Fatalf("%s: %v, want load errors", name, err)
		}
		errs = append(errs, le...)
	}
	path := filepath.Join(dir, "junit.xml")
	if err := report.WriteJUnitLoadErrors(t.Context(), path, errs); err != nil {
		t.Fatal(err)
	}
	doc := readJUnit(t, path)
	if len(doc.Suites) != 2 || doc.Errors != 2 || doc.Tests != 2 {
		t.Fatalf("%d suites, %d errors, %d tests; want 2, 2, 2", len(doc.Suites), doc.Errors, doc.Tests)
	}
	for _, s := range doc.Suites {
		if len(s.Cases) != 1 || s.Cases[0].outcome() != "error load" || s.Errors != 1 {
			t.Fatalf("suite %s: %+v", s.Name, s.Cases)
		}
		e := s.Cases[0].Error
		if !regexp.MustCompile(`(?m)^`+regexp.QuoteMeta(s.Name)+`:[0-9]+:[0-9]+: `).MatchString(e.Text) || !strings.Contains(e.Message, "nothing was run") {
			t.Errorf("suite %s: %q / %q", s.Name, e.Message, e.Text)
		}
	}
	for _, s := range doc.Suites {
		if a := s.Cases[0].Error; strings.HasSuffix(s.Name, "a.yaml") && (!strings.Contains(a.Message, "3 mistakes") || !strings.Contains(a.Text, `did you mean "sleep"`)) {
			t.Errorf("a.yaml: %q\n%s", a.Message, a.Text)
		}
	}
}

// TestJUnitProgramStory: what a program step found — its failure, a
// deadlock's explanation, the command that replays it — is in its test
// case, as the console prints it: in its system-out when the step passed
// (a search found what it was asked to), and in the failure of an assert
// that checks the step's result, where CI shows it.
func TestJUnitProgramStory(t *testing.T) {
	t.Parallel()
	sc := mustParse(t, `name: story
programs:
  lost:
    vars: {count: 0}
    threads:
      A: &add
        - set: count = count + 1
      B: *add
    expect: count == 2
  abba:
    mutexes: [a, b]
    threads:
      A: [lock: a, lock: b, unlock: b, unlock: a]
      B: [lock: b, lock: a, unlock: a, unlock: b]
steps:
  - id: find
    program: {run: lost, scheduler: exhaustive}
  - id: stuck
    program: {run: abba, scheduler: exhaustive}
  - assert: {that: steps.stuck.ok, message: "no deadlock"}
`)
	o := runner.Run(t.Context(), sc, runner.Options{})
	path := filepath.Join(t.TempDir(), "junit.xml")
	if err := report.WriteJUnit(t.Context(), path, []*lang.Outcome{o}, report.JUnitRun{}); err != nil {
		t.Fatal(err)
	}
	cases := readJUnit(t, path).Suites[0].Cases
	find, stuck, check := cases[0], cases[1], cases[2]
	for _, want := range []string{"found expect in 4 steps", "t.yaml:9:13: expect count == 2 failed: count = 1", "replay: pmrun run t.yaml", "--replay pmrun1:lost:"} {
		if !strings.Contains(find.SystemOut, want) {
			t.Errorf("the find step's system-out lacks %q:\n%s", want, find.SystemOut)
		}
	}
	if find.outcome() != "ok" || stuck.outcome() != "ok" {
		t.Errorf("program steps that found a failure: %s, %s; want ok (the step did its work)", find.outcome(), stuck.outcome())
	}
	for _, want := range []string{"found deadlock", "A waits for mutex b", "held by B", "replay: pmrun run t.yaml"} {
		if !strings.Contains(stuck.SystemOut, want) {
			t.Errorf("the deadlocked step's system-out lacks %q:\n%s", want, stuck.SystemOut)
		}
	}
	if check.Failure == nil {
		t.Fatalf("the assert on the program's result: %s, want a failure", check.outcome())
	}
	for _, want := range []string{"no deadlock", "steps.stuck (line 18) found deadlock", "A waits for mutex b", "replay: pmrun run t.yaml"} {
		if !strings.Contains(check.Failure.Text, want) {
			t.Errorf("the assert's failure lacks %q:\n%s", want, check.Failure.Text)
		}
	}
}

// TestJUnitSearchShard: each --search-shard worker's file names its
// suites after its shard, and says it in a property, so that the files of
// N workers merge without two suites of one name.
func TestJUnitSearchShard(t *testing.T) {
	t.Parallel()
	o := runner.Run(t.Context(), mustParse(t, "name: s\nsteps:\n  - log: a\n"), runner.Options{})
	dir := t.TempDir()
	var names []string
	for _, shard := range []string{"1/2", "2/2"} {
		path := filepath.Join(dir, strings.ReplaceAll(shard, "/", "-")+".xml")
		if err := report.WriteJUnit(t.Context(), path, []*lang.Outcome{o}, report.JUnitRun{SearchShard: shard}); err != nil {
			t.Fatal(err)
		}
		s := readJUnit(t, path).Suites[0]
		names = append(names, s.Name)
		found := false
		for _, p := range s.Props {
			found = found || (p.Name == "search_shard" && p.Value == shard)
		}
		if !found {
			t.Errorf("shard %s: no search_shard property: %+v", shard, s.Props)
		}
	}
	if got, want := strings.Join(names, " | "), "s (search shard 1 of 2) | s (search shard 2 of 2)"; got != want {
		t.Errorf("suite names %q, want %q", got, want)
	}
}
