package lang_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pmrun/pmrun/runner/lang"
)

// FuzzParse feeds the loader arbitrary files: it must never panic or hang,
// and every error it reports must carry a real position in the file.
// The corpus lives in testdata/fuzz/FuzzParse; the scenarios are seeds too.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../scenarios/*.yaml")
	more, _ := filepath.Glob("../../scenarios/*/*.yaml")
	for _, path := range append(seeds, more...) {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("name: x\nsteps:\n  - log: \"${{ vars.a }}\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := lang.Parse("f.yaml", data, lang.LoadOptions{})
		if err == nil {
			if sc == nil || sc.Name == "" {
				t.Fatalf("no error but scenario %+v", sc)
			}
			return
		}
		var le lang.LoadErrors
		if !errors.As(err, &le) || len(le) == 0 {
			t.Fatalf("error is not LoadErrors: %v", err)
		}
		for _, e := range le {
			if e.File != "f.yaml" || e.Line < 1 || e.Col < 1 || e.Msg == "" {
				t.Fatalf("error without a position or message: %#v", e)
			}
		}
	})
}
