package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/course"
	"github.com/pmrun/pmrun/runner/lang"
	"github.com/pmrun/pmrun/runner/report"
)

// A batch of submissions: each graded by a pmrun of its own in a folder
// of its own, a few at a time, each with a time limit; then a table and a
// CSV of the scores.

// submission is a student's file and the student's ID.
type submission struct {
	path, id string
}

// submissionFiles are the files to grade: a file as it is, a folder's
// *.yaml files. batch is true unless there is one file, given as such.
func submissionFiles(paths []string) (subs []submission, batch bool, err error) {
	batch = len(paths) > 1
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, false, usageErrorf("%s: %v", p, errors.Unwrap(err))
		}
		if !fi.IsDir() {
			subs = append(subs, submission{path: p, id: idOf(filepath.Base(p))})
			continue
		}
		batch = true
		files, err := scenarioFiles([]string{p})
		if err != nil {
			return nil, false, err
		}
		for _, f := range files {
			rel, _ := filepath.Rel(p, f)
			id := idOf(rel)
			if dir, _, nested := strings.Cut(rel, string(filepath.Separator)); nested {
				id = dir // FOLDER/ID/FILE.yaml: one folder a student
			}
			subs = append(subs, submission{path: f, id: id})
		}
	}
	seen := map[string]string{}
	for _, s := range subs {
		if first, dup := seen[s.id]; dup && batch {
			return nil, false, usageErrorf("%s and %s are both student %s's: give each student one file", first, s.path, s.id)
		}
		seen[s.id] = s.path
	}
	return subs, batch, nil
}

// idOf is a file's name without its extension.
func idOf(name string) string {
	return strings.TrimSuffix(strings.TrimSuffix(name, ".yaml"), ".yml")
}

// gradeMany grades each submission in a pmrun of its own and prints the
// table of scores.
func (c *cli) gradeMany(gf *gradeFlags, lab string, subs []submission) error {
	look, err := lookOf(gf.color, c.stdout, os.Getenv)
	if err != nil {
		return err
	}
	opt, err := gf.options()
	if err != nil {
		return err
	}
	if err := checkVarsDeclared(lab, opt); err != nil {
		return err
	}
	// The lab is checked once, here: each grade then only finds the
	// student's mistakes.
	first, err := course.Prepare(lab, subs[0].path, course.Options{Vars: opt.Vars, Student: subs[0].id})
	if err != nil {
		return err
	}
	limit := gf.timeLimit
	if limit <= 0 {
		limit = labTimeout(lab, gf) + 30*time.Second
	}
	if err := os.MkdirAll(gf.out, 0o755); err != nil {
		return usageErrorf("--out %v", err)
	}
	summary := filepath.Join(gf.out, "summary.csv")
	if err := report.CheckOutputPath(summary, true); err != nil {
		return usageErrorf("--out: %s: %v", summary, err)
	}
	labAbs, err := filepath.Abs(lab)
	if err != nil {
		return usageErrorf("%s: %v", lab, err)
	}
	jobs := min(gf.jobs, len(subs))
	fmt.Fprintf(c.stdout, "grading %d submissions of lab %s in %s, %d at a time, %s each at most\n", len(subs), first.Lab, gf.out, jobs, limit)

	ctx, _, stop := interruptible()
	defer stop()
	results := make([]*course.Result, len(subs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range jobs {
		wg.Go(func() {
			for i := range next {
				results[i] = gradeChild(ctx, gf, lab, labAbs, subs[i], limit)
			}
		})
	}
	for i := range subs {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	var graded []*course.Result
	for _, r := range results {
		if r != nil {
			graded = append(graded, r)
		}
	}
	printTable(c.stdout, graded, look)
	if err := report.WriteFile(context.Background(), summary, func(w io.Writer) error { return course.WriteCSV(w, graded) }); err != nil {
		fmt.Fprintf(c.stderr, "pmrun: --out %v\n", err)
		return &exitError{code: exitOutput}
	}
	fmt.Fprintf(c.stdout, "summary: %s\n", summary)
	if errors.Is(context.Cause(ctx), runner.ErrInterrupted) {
		return &exitError{code: exitInterrupted, err: fmt.Errorf("interrupted: %d of %d submissions graded", len(graded), len(subs))}
	}
	return nil
}

// labTimeout is the lab's run's time limit: --timeout, else the lab's.
func labTimeout(lab string, gf *gradeFlags) time.Duration {
	if gf.timeout > 0 {
		return gf.timeout
	}
	sc, err := lang.LoadFile(lab, lang.LoadOptions{Registry: actions.Registry()})
	if err != nil {
		return time.Minute
	}
	return sc.Timeout
}

// gradeFiles are what a submission's pmrun writes in its run folder.
var gradeFiles = []string{"grade.json", "results.json", "junit.xml", "pmrun.log", "output.txt"}

// gradeChild grades one submission with a pmrun of its own, in its run
// folder: what it prints goes to output.txt, its grade to grade.json. A
// pmrun that does not finish within limit is killed with everything it
// started, and the submission graded 0.
func gradeChild(ctx context.Context, gf *gradeFlags, lab, labAbs string, s submission, limit time.Duration) *course.Result {
	dir := filepath.Join(gf.out, safeName(s.id))
	opt := course.Options{Student: s.id}
	fail := func(why string, lines ...string) *course.Result {
		res, err := course.Prepare(lab, s.path, opt)
		if err != nil {
			res = &course.Result{Lab: lab, LabFile: lab, File: s.path, Student: s.id, Problem: why, Errors: lines}
		}
		res.Fail(why, lines)
		return res
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("its run folder could not be made", err.Error())
	}
	// A grade of an earlier batch in the folder must not pass for this
	// one's when this pmrun writes none.
	for _, name := range gradeFiles {
		if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fail("its run folder could not be emptied", err.Error())
		}
	}
	subAbs, err := filepath.Abs(s.path)
	if err != nil {
		return fail("its path is not valid", err.Error())
	}
	args := []string{"grade", labAbs, subAbs, "--student", s.id, "--file-name", s.path,
		"--results", "results.json", "--junit", "junit.xml", "--json", "grade.json", "--log", "pmrun.log", "--color", "never"}
	for _, v := range gf.vars {
		args = append(args, "--var", v)
	}
	if gf.seed != "" {
		args = append(args, "--seed", gf.seed)
	}
	if gf.timeout > 0 {
		args = append(args, "--timeout", gf.timeout.String())
	}
	runCtx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "/proc/self/exe", args...)
	cmd.Args[0] = "pmrun"
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Its own process group: the time limit ends it and everything it
	// started.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	runErr := cmd.Run()
	_ = os.WriteFile(filepath.Join(dir, "output.txt"), out.Bytes(), 0o644)
	switch {
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return fail(fmt.Sprintf("ran out of time: the time limit is %s", limit))
	case ctx.Err() != nil:
		return fail("interrupted")
	}
	data, err := os.ReadFile(filepath.Join(dir, "grade.json"))
	var res course.Result
	if err != nil || json.Unmarshal(data, &res) != nil {
		return fail(fmt.Sprintf("grading it failed (%v)", runErr), strings.Split(strings.TrimSpace(out.String()), "\n")...)
	}
	return &res
}

// safeName makes an ID a folder's name.
func safeName(id string) string {
	id = strings.Map(func(r rune) rune {
		if r == '/' || r == 0 || r == '\\' {
			return '_'
		}
		return r
	}, id)
	if id == "" || id == "." || id == ".." {
		return "_" + id
	}
	return id
}

// printTable prints a line per submission: its score, a mark per check,
// and what went wrong; the checks are named under it.
func printTable(w io.Writer, results []*course.Result, look consoleLook) {
	if len(results) == 0 {
		return
	}
	pass, fail := look.signs()
	width := len("student")
	for _, r := range results {
		width = max(width, len(r.Student))
	}
	checks := results[0].Checks
	head := fmt.Sprintf("%-*s  %-9s", width, "student", "score")
	for i := range checks {
		head += fmt.Sprintf(" %-2d", i+1)
	}
	fmt.Fprintln(w, strings.TrimRight(head, " "))
	for _, r := range results {
		line := fmt.Sprintf("%-*s  %-9s", width, r.Student, points(r.Score)+"/"+points(r.Max))
		for _, c := range r.Checks {
			sign := pass
			if !c.Passed {
				sign = fail
			}
			line += " " + sign
			if !look.ascii {
				line += " " // ✓ is one column, ok two
			}
		}
		if r.Problem != "" {
			line += " " + r.Problem
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	for i, c := range checks {
		fmt.Fprintf(w, "  %d: %s (%s %s)\n", i+1, c.Name, points(c.Max), plural(int(c.Max), "point", "points"))
	}
}

func numCPU() int { return runtime.NumCPU() }
