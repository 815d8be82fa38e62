package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/course"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var gf gradeFlags
		cmd := &cobra.Command{
			Use:               "grade [flags] LAB SUBMISSION...",
			Short:             "grade students' files against a lab: points, feedback, Gradescope and JUnit",
			Long:              gradeHelp,
			ValidArgsFunction: completeScenarios,
			RunE: func(cmd *cobra.Command, args []string) error {
				gf.timeoutSet = cmd.Flags().Changed("timeout")
				return c.grade(&gf, args)
			},
		}
		gf.define(cmd)
		return cmd
	})
}

const gradeHelp = `Grades a student's file against a lab: the lab's steps run against the
programs in the student's file, and each check of the lab (an assert step, or
a step with points:) earns its points when it passes. A lab is a scenario with
a course: key that names the programs a student writes; the student's file
holds those programs under programs: and nothing else. The checks are the
lab's: a file with steps, with other programs, or whose programs change the
lab's asserts, critical regions, invariants or expect does not load, and is
graded 0 with its mistakes as feedback.

One file: each check is printed with its points and, when it fails, what
broke, the failing interleaving and the command that replays it. --results
writes Gradescope's results.json, --junit a JUnit file with the points.
Exit codes: 0 every check passed; 1 a check failed, or the student's file
does not load (graded 0, its results written); 2 the lab or the command line
has a mistake (nothing was graded); 3 an output could not be written; 130
interrupted.

Several files, or a folder of them (*.yaml, sorted): each is graded in a pmrun
of its own, in parallel (--jobs), with a time limit each (--time-limit), in a
folder of its own under --out (results.json, junit.xml, grade.json,
pmrun.log, output.txt); then a table of the scores and --out/summary.csv. A
file's student ID is its name without .yaml, or, for FOLDER/ID/FILE.yaml, the
folder ID. The exit code is 0 when every file was graded, whatever its score.

--student ID picks the lab's variant for that student (course: variants), the
same ID always the same one, and the seed of the run, so that grading a file
again gives the same grade.`

type gradeFlags struct {
	student   string
	results   string
	junit     string
	jsonOut   string
	logPath   string
	out       string
	jobs      int
	timeLimit time.Duration
	vars      stringList
	seed      string
	timeout   time.Duration
	replay    stringList
	color     string
	fileName  string

	timeoutSet bool
}

func (gf *gradeFlags) define(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&gf.student, "student", "", "the student's `ID`: picks the lab's variant and the run's seed")
	fs.StringVar(&gf.results, "results", "", "write Gradescope's results.json to `FILE` (one submission)")
	fs.StringVar(&gf.junit, "junit", "", "write a JUnit XML file with the points to `FILE` (one submission)")
	fs.StringVar(&gf.jsonOut, "json", "", "write the grade as JSON to `FILE` (one submission)")
	fs.StringVar(&gf.logPath, "log", "", "append the run's JSON events to `FILE` (one submission)")
	fs.StringVar(&gf.out, "out", "grades", "several submissions: the `DIR` of their run folders and summary.csv")
	fs.IntVar(&gf.jobs, "jobs", defaultJobs(), "several submissions: grade `N` at a time")
	durationVar(fs, &gf.timeLimit, "time-limit", 0, "several submissions: stop the grading of one after `DUR` (default: the lab's timeout and 30s)")
	fs.Var(&gf.vars, "var", "set a var of the lab: `NAME=VALUE`, as for run; repeatable")
	fs.StringVar(&gf.seed, "seed", "", "the random seed `N` (default: the lab's, else one drawn from the lab and the student's ID)")
	durationVar(fs, &gf.timeout, "timeout", 0, "time limit of the lab's run, overriding its timeout: a `DUR` such as 30s")
	fs.Var(&gf.replay, "replay", "replay `SCHEDULE` (pmrun1:PROGRAM:…, as a grade printed it) in the program steps of its program; repeatable")
	fs.StringVar(&gf.color, "color", "auto", "colour the console's ✓ and ✗: `auto|always|never`")
	fs.StringVar(&gf.fileName, "file-name", "", "what the feedback calls the student's file (a batch's run gives its path as the teacher wrote it)")
	_ = fs.MarkHidden("file-name")
	completeFlags(cmd, map[string]cobra.CompletionFunc{
		"var":        completeVars,
		"results":    fileWithExt("json"),
		"junit":      fileWithExt("xml"),
		"json":       fileWithExt("json"),
		"log":        cobra.FixedCompletions(nil, cobra.ShellCompDirectiveDefault),
		"out":        cobra.FixedCompletions(nil, cobra.ShellCompDirectiveFilterDirs),
		"student":    noCompletions,
		"jobs":       noCompletions,
		"time-limit": noCompletions,
		"seed":       noCompletions,
		"replay":     noCompletions,
		"color":      fixedChoices("auto\ton a terminal, unless NO_COLOR is set", "always", "never"),
	})
}

func (c *cli) grade(gf *gradeFlags, args []string) error {
	if len(args) < 2 {
		return usageErrorf("grade: want a lab and a student's file (or a folder of them): pmrun grade LAB.yaml STUDENT.yaml")
	}
	lab, subs := args[0], args[1:]
	opt, err := gf.options()
	if err != nil {
		return err
	}
	files, batch, err := submissionFiles(subs)
	if err != nil {
		return err
	}
	if batch {
		for _, f := range []struct{ flag, v string }{{"--results", gf.results}, {"--junit", gf.junit}, {"--json", gf.jsonOut}, {"--log", gf.logPath}, {"--student", gf.student}} {
			if f.v != "" {
				return usageErrorf("%s is for one submission: with several, each one's are in its folder under --out", f.flag)
			}
		}
		return c.gradeMany(gf, lab, files)
	}
	return c.gradeOne(gf, opt, lab, files[0].path)
}

// options are the grading options the flags give.
func (gf *gradeFlags) options() (course.Options, error) {
	opt := course.Options{Student: gf.student, Vars: map[string]string{}, Timeout: gf.timeout, Schedules: gf.replay, RunID: newRunID(), Name: gf.fileName}
	if gf.timeoutSet && gf.timeout <= 0 {
		return opt, usageErrorf("--timeout %s: want a time above 0, such as 30s", gf.timeout)
	}
	if gf.jobs < 1 {
		return opt, usageErrorf("--jobs %d: want 1 or more", gf.jobs)
	}
	for _, v := range gf.vars {
		name, value, err := lang.ParseVar(v)
		if err != nil {
			return opt, usageErrorf("%v", err)
		}
		opt.Vars[name] = value
	}
	if gf.seed != "" {
		n, err := strconv.ParseUint(gf.seed, 10, 64)
		if err != nil {
			return opt, usageErrorf("--seed %q: want a whole number", gf.seed)
		}
		opt.Seed = &n
	}
	for _, sched := range gf.replay {
		if _, err := actions.ScheduleProgram(sched); err != nil {
			return opt, usageErrorf("--replay: %v", err)
		}
	}
	return opt, nil
}

// gradeOne grades one student's file and prints its checks.
func (c *cli) gradeOne(gf *gradeFlags, opt course.Options, lab, file string) error {
	look, err := lookOf(gf.color, c.stdout, os.Getenv)
	if err != nil {
		return err
	}
	var outputs []report.Output
	for _, o := range []report.Output{{Flag: "--results", Path: gf.results}, {Flag: "--junit", Path: gf.junit}, {Flag: "--json", Path: gf.jsonOut}, {Flag: "--log", Path: gf.logPath}} {
		if o.Path != "" {
			o.Replace = o.Flag != "--log"
			outputs = append(outputs, o)
		}
	}
	if err := report.CheckOutputs(outputs, []string{lab, file}); err != nil {
		return usageErrorf("%v", err)
	}
	if err := checkVarsDeclared(lab, opt); err != nil {
		return err
	}
	ctx, hard, stop := interruptible()
	defer stop()
	if gf.logPath != "" {
		f, err := runner.OpenLog(gf.logPath)
		if err != nil {
			return usageErrorf("--log %v", err)
		}
		defer report.AbortWrites(hard, f)()
		b := runner.NewLineBatcher(f, 50*time.Millisecond)
		defer b.Close()
		opt.Log = runner.NewEventLog(b, hclog.Info)
	}
	actions.StartGuard()
	res, err := course.Grade(ctx, lab, file, opt)
	if err != nil {
		return err
	}
	printGrade(c.stdout, res, look)
	writing := ctx
	if ctx.Err() != nil {
		writing = hard
	}
	failed := false
	wrote := func(flag, path string, write func(io.Writer) error) {
		if path == "" {
			return
		}
		if err := report.WriteFile(writing, path, write); err != nil {
			fmt.Fprintf(c.stderr, "pmrun: %s %v\n", flag, err)
			failed = true
		}
	}
	wrote("--results", gf.results, res.WriteGradescope)
	wrote("--junit", gf.junit, res.WriteJUnit)
	wrote("--json", gf.jsonOut, res.WriteJSON)
	switch {
	case errors.Is(context.Cause(ctx), runner.ErrInterrupted):
		return &exitError{code: exitInterrupted, err: errors.New("interrupted")}
	case failed:
		return &exitError{code: exitOutput}
	case !res.Passed():
		return &exitError{code: exitFailed}
	}
	return nil
}

// checkVarsDeclared refuses a --var the lab does not declare, as run does.
func checkVarsDeclared(lab string, opt course.Options) error {
	if len(opt.Vars) == 0 {
		return nil
	}
	sc, err := lang.LoadFile(lab, lang.LoadOptions{Registry: actions.Registry()})
	if err != nil {
		return err
	}
	return undeclaredVars(opt.Vars, keysOf(sc.Vars))
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// printGrade prints each check with its points and feedback, then the
// score.
func printGrade(w io.Writer, r *course.Result, look consoleLook) {
	pass, fail := look.signs()
	head, _, _ := strings.Cut(r.Summary(), "\n")
	fmt.Fprintln(w, head)
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  %s\n", e)
	}
	for _, ch := range r.Checks {
		sign := pass
		if !ch.Passed {
			sign = fail
		}
		fmt.Fprintf(w, "%s %s/%s %s\n", sign, points(ch.Points), points(ch.Max), ch.Name)
		if !ch.Passed && len(r.Errors) == 0 {
			for _, line := range strings.Split(ch.Output, "\n") {
				fmt.Fprintf(w, "    %s\n", line)
			}
		}
	}
	score := fmt.Sprintf("score: %s/%s", points(r.Score), points(r.Max))
	if r.Problem != "" {
		score += " (" + r.Problem + ")"
	}
	fmt.Fprintln(w, score)
}

func points(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

// defaultJobs is how many submissions are graded at a time: one a CPU.
func defaultJobs() int { return max(1, numCPU()) }
