package course_test

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/runner/course"
	"github.com/pmrun/pmrun/runner/lang"
)

const mutexLab = "../../scenarios/labs/book/mutex.yaml"

// TestGrade grades student files for the mutex lab: a solution earns
// every point; a file without a lock fails the proof, with the
// interleaving and a replay line that replays it; a file that weakens
// the checks, and one that does not parse, do not load and score 0 with
// their mistakes as feedback.
func TestGrade(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		file    string
		score   float64
		errors  []string // in the grade's Errors
		outputs []string // in the failing check's output
		once    string   // said once in it
		problem string   // the grade's Problem, when errors
	}{
		{file: "mutex_good.yaml", score: 1},
		{file: "mutex_nolock.yaml", score: 0, outputs: []string{
			"verdict mutual_exclusion", "testdata/mutex_nolock.yaml:9:15: B entered critical while A is inside",
			"enter critical  ✗", "replay: pmrun grade ../../scenarios/labs/book/mutex.yaml testdata/mutex_nolock.yaml --student ann --replay pmrun1:mutex:",
		}},
		{file: "mutex_deadlock.yaml", score: 0, outputs: []string{
			"verdict deadlock", "testdata/mutex_deadlock.yaml:3:3: deadlock: 2 of 2 threads blocked\n",
			"A waits on semaphore m (value 0) at 13:15 (wait m)", "replay: pmrun grade",
		}, once: "A waits on semaphore m"},
		{file: "mutex_weakened.yaml", score: 0, errors: []string{
			"testdata/mutex_weakened.yaml:6:7: program mutex: the lab's `critical: [set: count = count + 1]` is missing",
			"testdata/mutex_weakened.yaml:11:13: program mutex: the lab has `expect: count == 4` here, not `expect: true`",
		}, problem: "the file changes the lab's checks"},
		{file: "mutex_unparsable.yaml", score: 0, errors: []string{"testdata/mutex_unparsable.yaml:4:1: yaml: did not find expected ',' or ']'"}, problem: "the file is not valid YAML"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			res, err := course.Grade(t.Context(), mutexLab, "testdata/"+tc.file, course.Options{Student: "ann"})
			if err != nil {
				t.Fatal(err)
			}
			if res.Score != tc.score || res.Max != 1 {
				t.Errorf("score %v/%v, want %v/1\n%s", res.Score, res.Max, tc.score, res.Summary())
			}
			if len(res.Checks) != 3 || res.Checks[2].Name != "one thread at a time in the critical section, in every interleaving" {
				t.Fatalf("checks %+v", res.Checks)
			}
			all := strings.Join(res.Errors, "\n")
			for _, want := range tc.errors {
				if !strings.Contains(all, want) {
					t.Errorf("errors:\n%s\nwant %q", all, want)
				}
			}
			if len(tc.errors) > 0 && (res.Problem != tc.problem || res.Passed()) {
				t.Errorf("problem %q, passed %v", res.Problem, res.Passed())
			}
			proof := res.Checks[2]
			for _, want := range tc.outputs {
				if !strings.Contains(proof.Output, want) {
					t.Errorf("the proof's feedback:\n%s\nwant %q", proof.Output, want)
				}
			}
			if n := strings.Count(proof.Output, tc.once); tc.once != "" && n != 1 {
				t.Errorf("the proof's feedback says %q %d times:\n%s", tc.once, n, proof.Output)
			}
			if tc.score == 1 && !res.Passed() {
				t.Errorf("a full score that did not pass: %+v", res.Checks)
			}
		})
	}
}

// TestGradeReplays: the replay line of a failing check replays the same
// failure, and the same file graded twice gets the same grade, byte for
// byte (the seed is drawn from the lab and the student).
func TestGradeReplays(t *testing.T) {
	t.Parallel()
	grade := func(schedules ...string) *course.Result {
		res, err := course.Grade(t.Context(), mutexLab, "testdata/mutex_nolock.yaml", course.Options{Student: "ann", Schedules: schedules})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	a, b := grade(), grade()
	if a.Checks[2].Output != b.Checks[2].Output || a.Seed != b.Seed {
		t.Errorf("two grades differ:\n%s\n%s", a.Checks[2].Output, b.Checks[2].Output)
	}
	_, line, ok := strings.Cut(a.Checks[2].Output, "--replay ")
	if !ok {
		t.Fatalf("no replay line:\n%s", a.Checks[2].Output)
	}
	sched, _, _ := strings.Cut(line, "\n")
	r := grade(sched)
	if !strings.Contains(r.Checks[2].Output, "verdict mutual_exclusion, 1 run") || !strings.Contains(r.Checks[2].Output, "B entered critical while A is inside") {
		t.Errorf("the replay of %s:\n%s", sched, r.Checks[2].Output)
	}
}

// TestGradeOutputs: Gradescope's results.json has the score and a test
// per check with its score, max_score and output; the JUnit file has a
// test case per check with its points.
func TestGradeOutputs(t *testing.T) {
	t.Parallel()
	res, err := course.Grade(t.Context(), mutexLab, "testdata/mutex_nolock.yaml", course.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := res.WriteGradescope(&buf); err != nil {
		t.Fatal(err)
	}
	var gs struct {
		Score float64 `json:"score"`
		Tests []struct {
			Score    *float64 `json:"score"`
			MaxScore *float64 `json:"max_score"`
			Name     string   `json:"name"`
			Output   string   `json:"output"`
			Status   string   `json:"status"`
		} `json:"tests"`
	}
	if err := json.Unmarshal(buf.Bytes(), &gs); err != nil {
		t.Fatal(err)
	}
	if gs.Score != 0 || len(gs.Tests) != 3 || *gs.Tests[2].MaxScore != 1 || *gs.Tests[2].Score != 0 || gs.Tests[2].Status != "failed" ||
		!strings.Contains(gs.Tests[2].Output, "replay: pmrun grade") || gs.Tests[0].Status != "passed" {
		t.Errorf("results.json:\n%s", buf.String())
	}
	buf.Reset()
	if err := res.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	var ju struct {
		Suites []struct {
			Tests int `xml:"tests,attr"`
			Fails int `xml:"failures,attr"`
			Cases []struct {
				Name  string `xml:"name,attr"`
				Props []struct {
					Name  string `xml:"name,attr"`
					Value string `xml:"value,attr"`
				} `xml:"properties>property"`
				Failure *struct {
					Text string `xml:",chardata"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(buf.Bytes(), &ju); err != nil {
		t.Fatal(err)
	}
	if len(ju.Suites) != 1 || ju.Suites[0].Tests != 3 || ju.Suites[0].Fails != 1 {
		t.Fatalf("junit:\n%s", buf.String())
	}
	proof := ju.Suites[0].Cases[2]
	if !strings.HasSuffix(proof.Name, "(0/1 points)") || proof.Failure == nil || !strings.Contains(proof.Failure.Text, "mutual_exclusion") ||
		len(proof.Props) != 2 || proof.Props[1].Name != "max_points" || proof.Props[1].Value != "1" {
		t.Errorf("junit proof case %+v", proof)
	}
}

// TestGradeLabMistakes: a lab that cannot be graded is an error, not a
// student's 0.
func TestGradeLabMistakes(t *testing.T) {
	t.Parallel()
	_, err := course.Grade(t.Context(), "../../scenarios/labs/lost_update.yaml", "testdata/mutex_good.yaml", course.Options{})
	var le *course.LabError
	if !errors.As(err, &le) || !strings.Contains(err.Error(), "add a course: key") {
		t.Errorf("a scenario without course: %v", err)
	}
	_, err = course.Grade(t.Context(), "testdata/missing.yaml", "testdata/mutex_good.yaml", course.Options{})
	var loadErrs lang.LoadErrors
	if !errors.As(err, &loadErrs) {
		t.Errorf("a missing lab: %v", err)
	}
}
