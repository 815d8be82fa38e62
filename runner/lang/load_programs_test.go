package lang_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

// TestProgramsLoadErrors loads the scenarios of testdata/programs/*.txtar
// through the loader, a programs: section beside steps, and compares every
// error, FILE:LINE:COL: message, with the errors file that follows each
// scenario (empty: the scenario loads).
func TestProgramsLoadErrors(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/programs/*.txtar")
	if len(files) == 0 {
		t.Fatal("no testdata/programs/*.txtar")
	}
	for _, file := range files {
		ar, err := txtar.ParseFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i+1 < len(ar.Files); i += 2 {
			src, want := ar.Files[i], ar.Files[i+1]
			if want.Name != "errors" {
				t.Fatalf("%s: %s is followed by %s, not by its errors", file, src.Name, want.Name)
			}
			t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar")+"/"+src.Name, func(t *testing.T) {
				t.Parallel()
				_, err := lang.Parse(src.Name, src.Data, lang.LoadOptions{Registry: probe.Registry()})
				got := ""
				if err != nil {
					got = err.Error() + "\n"
				}
				if got != string(want.Data) {
					t.Errorf("errors:\n%s\nwant:\n%s", got, want.Data)
				}
			})
		}
	}
}

// TestProgramsSectionReachesTheSteps: the loaded programs are the
// scenario's, by their key.
func TestProgramsSectionReachesTheSteps(t *testing.T) {
	t.Parallel()
	src := "name: x\nprograms:\n  p:\n    threads:\n      A: [yield]\nsteps:\n  - program: {run: p, scheduler: os}\n"
	sc, err := lang.Parse("s.yaml", []byte(src), lang.LoadOptions{Registry: probe.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Sections["programs"] == nil {
		t.Fatalf("sections %v: no programs", sc.Sections)
	}
}
