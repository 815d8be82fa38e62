// Package course is pmrun for a course: grading a student's file against
// a lab, with points on the lab's checks ([Grade]); what the grade is
// written as for Gradescope, JUnit and a table ([Result]); and the
// student's version of a lab ([Handout]). A lab is a scenario with a
// course: key (see lang.Course); docs/labs.md is the teacher's guide.
package course

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/lang"
)

// Options are how a submission is graded.
type Options struct {
	// Student is the student's ID: it picks the lab's variant and, unless
	// Seed is set, the seed.
	Student string
	// Vars override the lab's vars (--var), as for a run.
	Vars map[string]string
	// Seed is the seed of the run; nil: the lab's seed, else one drawn
	// from the lab's name and the student's ID, so that grading the same
	// file again gives the same grade.
	Seed *uint64
	// Timeout overrides the lab's timeout.
	Timeout time.Duration
	// Schedules are replayed in the program steps of their programs
	// (--replay).
	Schedules []string
	// Log receives the run's events; nil discards them.
	Log hclog.Logger
	// RunID names the run in the events.
	RunID string
	// Name is what the feedback calls the student's file; "": its path.
	Name string
}

// Result is a submission's grade.
type Result struct {
	Lab     string `json:"lab"`      // the lab's name
	LabFile string `json:"lab_file"` // the lab's file
	File    string `json:"file"`     // the student's file
	Student string `json:"student,omitempty"`
	// Variant are the values the student's ID picked, in the lab's order.
	Variant []Setting `json:"variant,omitempty"`
	Score   float64   `json:"score"`
	Max     float64   `json:"max_score"`
	Checks  []Check   `json:"checks"`
	// Errors are the mistakes of the student's file (FILE:LINE:COL:
	// message); when there are any, nothing was run and the score is 0.
	Errors []string `json:"errors,omitempty"`
	// Problem says why the submission was not graded as a whole: it did
	// not load, it ran out of time.
	Problem  string        `json:"problem,omitempty"`
	Seed     uint64        `json:"seed"`
	Duration time.Duration `json:"duration_ns"`
}

// Setting is a var and its value.
type Setting struct {
	Var   string `json:"var"`
	Value any    `json:"value"`
}

// Check is one check of the lab, as this submission did.
type Check struct {
	Name   string  `json:"name"`
	Step   int     `json:"step"` // its index among the lab's steps
	Points float64 `json:"score"`
	Max    float64 `json:"max_score"`
	Passed bool    `json:"passed"`
	// Output is the feedback: what the check says, and for a failure
	// what broke, the failing interleaving and the line that replays it.
	Output string `json:"output"`
}

// Passed reports whether every check passed.
func (r *Result) Passed() bool {
	if len(r.Errors) > 0 || r.Problem != "" {
		return false
	}
	for _, c := range r.Checks {
		if !c.Passed {
			return false
		}
	}
	return true
}

// VariantText is the variant as var=value pairs, "" when the lab has none.
func (r *Result) VariantText() string {
	parts := make([]string, len(r.Variant))
	for i, s := range r.Variant {
		parts[i] = fmt.Sprintf("%s=%v", s.Var, s.Value)
	}
	return strings.Join(parts, ", ")
}

// LabError is a mistake in the lab or in how it was asked for: nothing
// could be graded. Its exit code is 2.
type LabError struct{ Err error }

func (e *LabError) Error() string { return e.Err.Error() }
func (e *LabError) Unwrap() error { return e.Err }

// ExitCode is 2: the lab or the command line is wrong.
func (e *LabError) ExitCode() int { return 2 }

// Grade grades the student's file against the lab: the lab's steps run
// against the student's programs, and each check (see [Checks]) earns
// its points when it passes. A student's file that does not load is
// graded 0 with its mistakes as feedback; an error is returned only when
// the lab itself cannot be graded (a [*LabError], or lang.LoadErrors of
// the lab's file).
func Grade(ctx context.Context, lab, file string, opt Options) (*Result, error) {
	started := time.Now()
	res, load, err := prepare(lab, file, opt)
	if err != nil {
		return nil, err
	}
	defer func() { res.Duration = time.Since(started) }()
	data, err := readSubmission(file, load.MaxSize)
	if err != nil {
		res.Fail("the file cannot be read", []string{fmt.Sprintf("%s: %v", res.File, err)})
		return res, nil
	}
	load.Submission = &lang.Submission{File: res.File, Data: data}
	sc, err := lang.LoadFile(lab, load)
	var loadErrs lang.LoadErrors
	switch {
	case errors.As(err, &loadErrs):
		var mine []string
		for _, e := range loadErrs {
			if e.File == res.File {
				mine = append(mine, e.Error())
			}
		}
		if len(mine) == 0 {
			return nil, err
		}
		res.Fail(loadProblem(loadErrs, res.File), mine)
		return res, nil
	case err != nil:
		return nil, err
	}
	for _, st := range sc.Steps {
		// Every check is graded, whatever the ones before it did.
		st.ContinueOnError = true
	}
	out := runner.Run(ctx, sc, runner.Options{
		RunID: opt.RunID, Seed: &res.Seed, Timeout: opt.Timeout, Log: opt.Log,
		SectionOptions: map[string]any{actions.ProgramsKey: &actions.ProgramOptions{Schedules: opt.Schedules}},
	})
	res.score(out, opt)
	return res, nil
}

// loadProblem says in a few words why the student's file did not load,
// for the grade's line and a batch's table: not YAML, a change to the
// lab's checks, or other mistakes (each is in the grade's Errors).
func loadProblem(errs lang.LoadErrors, file string) string {
	checks := false
	for _, e := range errs {
		switch {
		case e.File != file:
		case strings.HasPrefix(e.Msg, "yaml: "):
			return "the file is not valid YAML"
		case strings.Contains(e.Msg, actions.ChecksKept):
			checks = true
		}
	}
	if checks {
		return "the file changes the lab's checks"
	}
	return "the file does not load"
}

// CheckSubmission loads the student's file into the lab, as [Grade] does,
// and runs nothing: nil when it loads.
func CheckSubmission(lab, file string, opt Options) error {
	_, load, err := prepare(lab, file, opt)
	if err != nil {
		return err
	}
	data, err := readSubmission(file, load.MaxSize)
	if err != nil {
		return err
	}
	load.Submission = &lang.Submission{File: file, Data: data}
	_, err = lang.LoadFile(lab, load)
	return err
}

// Prepare returns the grade of the student's file before it is graded:
// the lab's checks, none passed, with the student's variant and seed. It
// loads the lab alone, and returns the errors [Grade] would for it. A
// batch of submissions fills in with it the grade of one that could not
// be graded ([Result.Fail]).
func Prepare(lab, file string, opt Options) (*Result, error) {
	res, _, err := prepare(lab, file, opt)
	return res, err
}

func prepare(lab, file string, opt Options) (*Result, lang.LoadOptions, error) {
	load := lang.LoadOptions{Registry: actions.Registry(), Vars: opt.Vars, Student: opt.Student}
	max, err := lang.MaxSize()
	if err != nil {
		return nil, load, &LabError{err}
	}
	load.MaxSize = max
	bare, err := lang.LoadFile(lab, load)
	if err != nil {
		return nil, load, err
	}
	if bare.Course == nil {
		return nil, load, &LabError{fmt.Errorf("%s: this scenario is not a lab a student's file can be graded in: add a course: key naming the programs a student writes (docs/labs.md)", lab)}
	}
	name := opt.Name
	if name == "" {
		name = file
	}
	res := &Result{Lab: bare.Name, LabFile: lab, File: name, Student: opt.Student, Seed: seedFor(bare, opt)}
	for _, v := range bare.Course.Variants {
		res.Variant = append(res.Variant, Setting{Var: v.Var, Value: bare.Vars[v.Var]})
	}
	res.Checks = Checks(bare)
	for _, c := range res.Checks {
		res.Max += c.Max
	}
	if len(res.Checks) == 0 {
		return nil, load, &LabError{fmt.Errorf("%s: the lab has no checks to grade: give it assert steps, or steps with points:", lab)}
	}
	return res, load, nil
}

// seedFor is the run's seed: the one asked for, the lab's, or one of the
// lab and the student.
func seedFor(sc *lang.Scenario, opt Options) uint64 {
	switch {
	case opt.Seed != nil:
		return *opt.Seed
	case sc.Seed != nil:
		return *sc.Seed
	}
	h := fnv.New64a()
	io.WriteString(h, sc.Name+"\x00"+opt.Student)
	return h.Sum64() >> 1
}

// readSubmission reads a student's file, up to the size of a scenario.
func readSubmission(file string, max int) ([]byte, error) {
	f, err := os.Open(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return nil, errors.New(pe.Op + ": " + pe.Err.Error())
		}
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(max)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > max {
		return nil, fmt.Errorf("the file is larger than %d bytes, the most pmrun reads", max)
	}
	return data, nil
}

// Fail grades the whole submission 0, for why, with lines as feedback.
func (r *Result) Fail(why string, lines []string) {
	r.Problem, r.Errors, r.Score = why, lines, 0
	for i := range r.Checks {
		r.Checks[i].Points, r.Checks[i].Passed = 0, false
		r.Checks[i].Output = "not run: " + why + ":\n" + strings.Join(lines, "\n")
	}
}

// Checks are the lab's checks: every assert step, and every step with
// points:, each worth its points (1 for an assert that does not say).
// Their Output is empty, and none has passed yet.
func Checks(sc *lang.Scenario) []Check {
	var out []Check
	for i, st := range sc.Steps {
		if st.Points == nil && st.Action != "assert" {
			continue
		}
		c := Check{Name: checkName(st), Step: i, Max: 1}
		if st.Points != nil {
			c.Max = *st.Points
		}
		out = append(out, c)
	}
	return out
}

// checkName is what a check is called: the step's name, else an assert's
// message, else its label.
func checkName(st *lang.Step) string {
	if st.Name != "" {
		return st.Name
	}
	if st.Action == "assert" {
		if m := st.ParamText("message"); m != "" {
			return m
		}
		return st.ParamText("that")
	}
	return st.Label()
}

// score fills in each check from the run.
func (r *Result) score(out *lang.Outcome, opt Options) {
	byStep := map[*lang.Step]*lang.StepResult{}
	byID := map[string]*lang.StepResult{}
	for _, sr := range out.Steps {
		byStep[sr.Step] = sr
		if sr.Step.ID != "" {
			byID[sr.Step.ID] = sr
		}
	}
	for i := range r.Checks {
		c := &r.Checks[i]
		st := out.Scenario.Steps[c.Step]
		sr := byStep[st]
		var b strings.Builder
		switch {
		case sr == nil:
			why := "the run ended before it"
			if out.Err != nil {
				why = out.Err.Error()
			}
			fmt.Fprintf(&b, "not run: %s\n", why)
		case sr.Status == lang.StatusOK:
			c.Passed, c.Points = true, c.Max
			fmt.Fprintf(&b, "passed: %s\n", c.Name)
		case sr.Status == lang.StatusSkipped:
			fmt.Fprintf(&b, "skipped: %s\n", c.Name)
		default:
			fmt.Fprintf(&b, "failed: %v\n", sr.Err)
		}
		// What the programs the check reads did.
		for _, id := range stepsRead(st) {
			if ps := byID[id]; ps != nil && ps.Step.Action == "program" {
				r.programFeedback(&b, ps, !c.Passed, opt)
			}
		}
		if st.Action == "program" && sr != nil {
			r.programFeedback(&b, sr, !c.Passed, opt)
		}
		c.Output = strings.TrimRight(b.String(), "\n")
		r.Score += c.Points
	}
	if out.Status == lang.StatusInterrupted {
		r.Problem = "interrupted"
	} else if te := new(runner.TimeoutError); errors.As(out.Err, &te) && strings.HasPrefix(te.What, "scenario") {
		r.Problem = "ran out of time: " + te.Error()
	}
}

// stepRef finds the step ids an expression reads: steps.ID.
var stepRef = regexp.MustCompile(`\bsteps\.([a-z_][a-z0-9_]*)`)

// stepsRead are the ids of the steps a check's condition reads, in order.
func stepsRead(st *lang.Step) []string {
	var ids []string
	for _, m := range stepRef.FindAllStringSubmatch(st.ParamText("that"), -1) {
		if !slices.Contains(ids, m[1]) {
			ids = append(ids, m[1])
		}
	}
	return ids
}

// programFeedback says what a program step found; with detail, the
// failing interleaving and the command that replays it.
func (r *Result) programFeedback(b *strings.Builder, sr *lang.StepResult, detail bool, opt Options) {
	res := sr.Result
	if res == nil {
		if sr.Err != nil {
			fmt.Fprintf(b, "%s: %v\n", sr.Step.Label(), sr.Err)
		}
		return
	}
	ok, _ := res["ok"].(bool)
	summary := fmt.Sprintf("%s: verdict %v", sr.Step.Label(), res["verdict"])
	if states, _ := res["states"].(int); states > 0 {
		summary += fmt.Sprintf(", %d states", states)
		if complete, _ := res["complete"].(bool); complete {
			summary += ", every interleaving"
		}
	} else if runs, _ := res["runs"].(int); runs == 1 {
		summary += ", 1 run"
	} else if runs > 1 {
		summary += fmt.Sprintf(", %d runs", runs)
	}
	fmt.Fprintln(b, summary)
	if ok || !detail {
		return
	}
	// A deadlock's explanation is in the failure and at the foot of the
	// interleaving: say it once, under the table.
	f, _ := res["failure"].(string)
	ex, _ := res["explanation"].(string)
	il, _ := res["interleaving"].(string)
	if first, rest, more := strings.Cut(f, "\n"); more && strings.Contains(il, rest) {
		f = first
	}
	if f != "" {
		fmt.Fprintf(b, "  %s\n", strings.ReplaceAll(f, "\n", "\n  "))
	}
	if ex != "" && !strings.Contains(f, ex) && !strings.Contains(il, ex) {
		fmt.Fprintf(b, "  %s\n", strings.ReplaceAll(ex, "\n", "\n  "))
	}
	if il != "" {
		fmt.Fprintf(b, "%s\n", strings.TrimRight(il, "\n"))
	}
	if sched, _ := res["schedule"].(string); sched != "" {
		fmt.Fprintf(b, "replay: %s\n", r.ReplayCommand(sched))
	}
}

// ReplayCommand is the command line that replays schedule in this grade.
func (r *Result) ReplayCommand(schedule string) string {
	args := []string{"pmrun", "grade", shellQuote(r.LabFile), shellQuote(r.File)}
	if r.Student != "" {
		args = append(args, "--student", shellQuote(r.Student))
	}
	return strings.Join(append(args, "--replay", schedule), " ")
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=+,@") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
