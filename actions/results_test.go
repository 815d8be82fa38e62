package actions_test

import (
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/lang"
)

// TestResultsAreDocumented holds every registered action to what `pmrun
// actions` says it returns. For each, it runs testdata/results/<action>.yaml,
// a scenario that uses the action in each of its shapes (wait for a process,
// a thread and a step, …), and checks that every step of the action returns
// only fields among its Spec.Results, and that together they return every
// one of them. An action registered without such a scenario fails here, as
// does one whose results and documentation differ.
func TestResultsAreDocumented(t *testing.T) {
	t.Parallel()
	common := map[string]bool{"status": true, "duration": true, "error": true} // the runner's, on every result
	for _, spec := range actions.Registry().All() {
		t.Run(spec.Name, func(t *testing.T) {
			t.Parallel()
			name := filepath.Join("results", spec.Name+".yaml")
			if _, err := os.Stat(filepath.Join("testdata", name)); err != nil {
				t.Fatalf("every action needs testdata/%s, a scenario that shows each shape of its result: %v", name, err)
			}
			r := runTestdata(t, name)
			mustPass(t, r)
			documented := map[string]bool{}
			for _, f := range spec.Results {
				documented[f.Name] = true
			}
			returned := map[string]bool{}
			steps := 0
			for i, s := range r.Steps {
				if s.Step.Action != spec.Name || s.Status != lang.StatusOK {
					continue
				}
				steps++
				for _, field := range slices.Sorted(maps.Keys(s.Result)) {
					switch {
					case common[field]:
					case !documented[field]:
						t.Errorf("step %d returns %s, which its Spec.Results do not document", i, field)
					default:
						returned[field] = true
					}
				}
			}
			if steps == 0 {
				t.Fatalf("testdata/%s has no successful step of %s", name, spec.Name)
			}
			for _, f := range spec.Results {
				if !returned[f.Name] {
					t.Errorf("%s is documented, but no step of testdata/%s returned it", f.Name, name)
				}
			}
		})
	}
}
