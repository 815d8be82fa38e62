package program

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// TestLoadErrors loads each testdata/load/*.txtar's programs.yaml and
// compares every error, at its line:col, with the archive's errors file.
// go test -update rewrites the errors files.
func TestLoadErrors(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/load/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			t.Parallel()
			ar, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var src []byte
			errsAt := -1
			for i, f := range ar.Files {
				switch f.Name {
				case "programs.yaml":
					src = f.Data
				case "errors":
					errsAt = i
				}
			}
			if src == nil || errsAt < 0 {
				t.Fatal("want programs.yaml and errors")
			}
			got := ""
			if _, err := LoadText(src); err != nil {
				got = err.Error() + "\n"
			}
			if *update {
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

func TestSetProgram(t *testing.T) {
	t.Parallel()
	set, err := modelSet()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := set.Program("flaglok"); err == nil || err.Error() != `unknown program "flaglok", did you mean "flaglock"?` {
		t.Errorf("unknown program: %v", err)
	}
	p, err := set.Program("fifo")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Thread("w1"); err == nil || err.Error() != `program fifo has no thread "w1", did you mean "W1"?` {
		t.Errorf("unknown thread: %v", err)
	}
	if got := strings.Join(p.Threads(), " "); got != "W0 W1 W2 S" {
		t.Errorf("threads: %s", got)
	}
}
