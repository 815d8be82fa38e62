package statespace

import (
	"os"
	"strings"
	"testing"
)

func TestTmpLab(t *testing.T) {
	data, _ := os.ReadFile("/tmp/lab_progress.yaml")
	for _, c := range []string{"2", "3"} {
		set, err := load([]byte(strings.ReplaceAll(string(data), "COUNT", c)))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"weak_mutex", "morris"} {
			p, _ := set.Program(name)
			f, n, complete, err := Starvation(t.Context(), p, 0)
			t.Logf("%s count %s: states %d complete %v err %v", name, c, n, complete, err)
			if f != nil {
				t.Logf("  %v %v %s", f.Lasso.Prefix, f.Lasso.Cycle, f.Failure.Msg)
			}
			res := mustSearch(t, p, Options{MaxSteps: 10000})
			t.Logf("  search: complete %v failures %d kinds %v", res.Complete, res.Failures, res.Kinds)
		}
	}
}
