package course_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/runner/course"
)

var update = flag.Bool("update", false, "rewrite testdata/handout/*.golden")

// TestHandoutMutex: the mutex lab's handout leaves out the solution (its
// paragraphs, its lines, the description that gives it away, the try
// that names it), shows the broken attempt with its lines and a table of
// its threads and variables, and gives the student a stub that loads
// into the lab; the Markdown is testdata/handout/mutex.md.golden.
func TestHandoutMutex(t *testing.T) {
	t.Parallel()
	h, err := course.MakeHandout(mutexLab, course.HandoutOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.Title != "Lab: mutual exclusion (The Little Book of Semaphores, 3.4)" {
		t.Errorf("title %q", h.Title)
	}
	for _, text := range []string{h.LabText, h.StudentText, strings.Join(problemLines(h), "\n")} {
		for _, secret := range []string{"[solution]", "Why it breaks", "semaphore of 1", "wait: mutex", "signal: mutex", "--var broken=mutex"} {
			if strings.Contains(text, secret) {
				t.Errorf("the handout gives %q away:\n%s", secret, text)
			}
		}
	}
	if h.Broken == nil || h.Broken.Name != "flag_lock" || strings.Join(h.Columns(), " ") != "step A B flag count" || h.Broken.Line != 32 {
		t.Errorf("broken attempt %+v, columns %v", h.Broken, h.Columns())
	}
	if len(h.Tries) != 3 || !strings.Contains(h.StudentText, "# your code") || !strings.Contains(h.StudentText, "set: count = count + 1") {
		t.Errorf("tries %v\nstudent's file:\n%s", h.Tries, h.StudentText)
	}
	var md bytes.Buffer
	if err := h.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/handout/mutex.md.golden", md.Bytes())
	var page bytes.Buffer
	if err := h.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<title>Lab: mutual exclusion", `<th class="step">step</th><th>A</th><th>B</th><th>flag</th><th>count</th>`, `<td class="step">16</td>`, "<code>critical:</code>"} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the page has no %q", want)
		}
	}
}

func problemLines(h *course.Handout) []string {
	var out []string
	for _, p := range h.Problem {
		out = append(out, p.Lines...)
	}
	for _, tr := range h.Tries {
		out = append(out, tr.Args+" "+tr.Why)
	}
	return out
}

// TestHandoutGrades: a student who fills in the stub and grades it in
// the student's lab gets the grade the teacher's lab gives; the stub as
// it is gets 0. Each student's handout shows that student's variant,
// which grading with the same ID uses.
func TestHandoutGrades(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	lab := "testdata/handout/variants.yaml"
	h, err := course.MakeHandout(lab, course.HandoutOptions{Student: "zoe"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(h.VariantText(), "Student zoe, your variant: rounds = ") || len(h.Tries) != 1 {
		t.Errorf("variant %q, tries %v", h.VariantText(), h.Tries)
	}
	// The broken attempt shown, and the one the manual game plays, are
	// the variant's.
	variant := map[string]string{}
	for _, s := range h.Variant {
		variant[s.Var] = fmt.Sprint(s.Value)
	}
	manual := fmt.Sprintf("pmrun run --var scheduler=manual --var rounds=%s --var broken=%s %s", variant["rounds"], variant["broken"], h.LabFile)
	if h.Broken == nil || h.Broken.Name != variant["broken"] || !slices.Contains(h.Commands(), [2]string{manual, "be the scheduler of the broken attempt: break it"}) {
		t.Errorf("variant %v: broken attempt %+v, commands %q", variant, h.Broken, h.Commands())
	}
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	studentLab := write(h.LabFile, h.LabText)
	stub := write("stub.yaml", h.StudentText)
	solved := strings.NewReplacer(
		"    # your code\n    threads:", "    semaphores: {s: 0}\n    threads:",
		"            - atomic_set: n = n + 1\n            # your code", "            - atomic_set: n = n + 1\n            - signal: s",
		"          do:\n            # your code\n            - assert", "          do:\n            - wait: s\n            - assert",
	).Replace(h.StudentText)
	mine := write("mine.yaml", solved)
	for _, tc := range []struct {
		lab, file string
		score     float64
	}{{studentLab, stub, 0}, {studentLab, mine, 5}, {lab, mine, 5}, {lab, stub, 0}} {
		res, err := course.Grade(t.Context(), tc.lab, tc.file, course.Options{Student: "zoe"})
		if err != nil {
			t.Fatal(err)
		}
		if res.Score != tc.score || res.Max != 5 || len(res.Errors) > 0 || !slices.Equal(res.Variant, h.Variant) {
			t.Errorf("%s in %s: %s (variant %s)\n%s", filepath.Base(tc.file), filepath.Base(tc.lab), res.Summary(), h.VariantText(), solved)
		}
	}
}

// TestHandoutRefuses: a lab whose solution is not marked, or whose stub
// borrows another program's YAML anchor, or whose solution lines are
// checks, has no handout, and says why.
func TestHandoutRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ lab, want string }{
		{"testdata/handout/unmarked.yaml", "unmarked.yaml:6: program mine is the student's, but none of its lines is marked # solution"},
		{"testdata/handout/borrowed.yaml", "borrowed.yaml:9: program mine uses the YAML anchor body of a program the student does not write"},
		{"testdata/handout/dropscheck.yaml", "the lab's thread B is missing"},
		{"../../scenarios/labs/lost_update.yaml", "the lab has no course: key"},
	} {
		_, err := course.MakeHandout(tc.lab, course.HandoutOptions{})
		var le *course.LabError
		if !errors.As(err, &le) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.lab, err, tc.want)
		}
	}
}

// golden compares got with the file, or rewrites it under -update.
func golden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it):\n%s", file, got)
	}
}

// TestHandoutBookLabs: every lab of the book has a handout, and the lab's
// solution, as a student's file, loads into the student's version (a
// student who solves it can grade it there).
func TestHandoutBookLabs(t *testing.T) {
	t.Parallel()
	labs, err := filepath.Glob("../../scenarios/labs/book/*.yaml")
	if err != nil || len(labs) < 19 {
		t.Fatalf("labs %v: %v", labs, err)
	}
	for _, lab := range labs {
		t.Run(filepath.Base(lab), func(t *testing.T) {
			t.Parallel()
			h, err := course.MakeHandout(lab, course.HandoutOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if h.Broken == nil || len(h.Programs) == 0 || len(h.Problem) < 2 {
				t.Errorf("broken %v, programs %v, problem %v", h.Broken, h.Programs, h.Problem)
			}
			if h.Key == "" {
				if filepath.Base(lab) != "santa_claus.yaml" {
					t.Errorf("no key")
				}
				return
			}
			dir := t.TempDir()
			studentLab := filepath.Join(dir, h.LabFile)
			key := filepath.Join(dir, "key.yaml")
			if err := os.WriteFile(studentLab, []byte(h.LabText), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(key, []byte(h.Key), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := course.CheckSubmission(studentLab, key, course.Options{}); err != nil {
				t.Errorf("the key does not load into the student's lab: %v", err)
			}
		})
	}
}

// TestBookLabVariants: each variant of a book lab that has them is handed
// out and graded: the lab's solution earns every point in it, and the
// grade names the variant the handout gave.
func TestBookLabVariants(t *testing.T) {
	t.Parallel()
	labs, err := filepath.Glob("../../scenarios/labs/book/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	varied := 0
	for _, lab := range labs {
		h, err := course.MakeHandout(lab, course.HandoutOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(h.Variant) == 0 {
			continue
		}
		varied++
		key := filepath.Join(t.TempDir(), "key.yaml")
		if err := os.WriteFile(key, []byte(h.Key), 0o644); err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for i := range 40 {
			id := fmt.Sprintf("student%d", i)
			h, err := course.MakeHandout(lab, course.HandoutOptions{Student: id})
			if err != nil {
				t.Fatal(err)
			}
			if seen[fmt.Sprint(h.Variant)] {
				continue
			}
			seen[fmt.Sprint(h.Variant)] = true
			res, err := course.Grade(t.Context(), lab, key, course.Options{Student: id})
			if err != nil {
				t.Fatal(err)
			}
			if res.Score != res.Max || res.Max == 0 || !slices.Equal(res.Variant, h.Variant) {
				t.Errorf("%s, %s: %s; the handout's %s", filepath.Base(lab), id, res.Summary(), h.VariantText())
			}
		}
		if len(seen) < 2 {
			t.Errorf("%s: 40 students got one variant, %v", filepath.Base(lab), seen)
		}
	}
	if varied == 0 {
		t.Error("no book lab has variants")
	}
}
