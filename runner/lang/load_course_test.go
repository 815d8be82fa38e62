package lang_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

var updateCourse = flag.Bool("update-course", false, "rewrite the errors of testdata/course/*.txtar")

// TestCourse loads each testdata/course/*.txtar's lab.yaml, with its
// student.yaml when it has one (a student's file loaded into the lab),
// and compares every error with the archive's errors file (empty: it
// loads). go test -update-course rewrites the errors files.
func TestCourse(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/course/*.txtar")
	if len(files) == 0 {
		t.Fatal("no testdata/course/*.txtar")
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var lab, student []byte
			errsAt := -1
			for i, f := range ar.Files {
				switch f.Name {
				case "lab.yaml":
					lab = f.Data
				case "student.yaml":
					student = f.Data
				case "errors":
					errsAt = i
				}
			}
			if lab == nil || errsAt < 0 {
				t.Fatal("want lab.yaml and errors")
			}
			opt := lang.LoadOptions{Registry: probe.Registry()}
			if student != nil {
				opt.Submission = &lang.Submission{File: "student.yaml", Data: student}
			}
			got := ""
			if _, err := lang.Parse("lab.yaml", lab, opt); err != nil {
				got = err.Error() + "\n"
			}
			if *updateCourse {
				ar.Files[errsAt].Data = []byte(got)
				if err := os.WriteFile(file, txtar.Format(ar), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			if want := string(ar.Files[errsAt].Data); got != want {
				t.Errorf("errors:\n%s\nwant:\n%s", got, want)
			}
		})
	}
}

const variantLab = `name: variants
vars:
  readers: 2
  broken: slow
course:
  student: p
  variants:
    readers: [1, 2, 3]
    broken: [slow, fast]
programs:
  p:
    vars: {n: 0}
    threads:
      R:
        count: ${{ vars.readers }}
        body: [atomic_set: n = n + 1]
    expect: n == ${{ vars.readers }}
steps:
  - program: {run: p}
`

// TestVariants: a student's ID picks each varied var's value, the same ID
// always the same value, every value for some ID; the value reaches the
// program's ${{ vars.X }}; --var still overrides it.
func TestVariants(t *testing.T) {
	t.Parallel()
	load := func(opt lang.LoadOptions) *lang.Scenario {
		t.Helper()
		opt.Registry = probe.Registry()
		sc, err := lang.Parse("lab.yaml", []byte(variantLab), opt)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	seen := map[string]bool{}
	for i := range 60 {
		id := fmt.Sprintf("student%d", i)
		a, b := load(lang.LoadOptions{Student: id}), load(lang.LoadOptions{Student: id})
		if a.Vars["readers"] != b.Vars["readers"] || a.Vars["broken"] != b.Vars["broken"] {
			t.Fatalf("%s: two loads gave %v and %v", id, a.Vars, b.Vars)
		}
		seen[fmt.Sprint(a.Vars["readers"], a.Vars["broken"])] = true
		threads, _ := actions.ProgramShape(a.Sections["programs"], "p")
		if len(threads) != a.Vars["readers"].(int) {
			t.Errorf("%s: readers %v, but the program has threads %v", id, a.Vars["readers"], threads)
		}
	}
	if len(seen) != 6 {
		t.Errorf("60 students got %d of the 6 variants: %v", len(seen), seen)
	}
	sc := load(lang.LoadOptions{Student: "student1", Vars: map[string]string{"readers": "5"}})
	if sc.Vars["readers"] != 5 {
		t.Errorf("--var readers=5 with a student: readers %v", sc.Vars["readers"])
	}
	if sc := load(lang.LoadOptions{}); sc.Vars["readers"] != 2 {
		t.Errorf("no student: readers %v, want the file's 2", sc.Vars["readers"])
	}
}
