package program

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
)

// FuzzLoad loads any text as a programs: section and runs what loads for
// a few hundred steps: neither may panic or hang.
func FuzzLoad(f *testing.F) {
	for _, file := range []string{"testdata/model.yaml", "testdata/arith.yaml"} {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	files, _ := filepath.Glob("testdata/load/*.txtar")
	for _, file := range files {
		if ar, err := txtar.ParseFile(file); err == nil && len(ar.Files) > 0 {
			f.Add(ar.Files[0].Data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		set, err := LoadText(data)
		if err != nil {
			return
		}
		for _, name := range set.Names() {
			p, _ := set.Program(name)
			turn := 0
			_, err := p.Run(func(_ *State, enabled []int) int {
				turn++
				return enabled[turn%len(enabled)]
			}, RunOptions{MaxSteps: 300, Record: true})
			if err != nil {
				t.Fatal(err)
			}
		}
	})
}
