package lang

import (
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"

	"github.com/pmrun/pmrun/actions"
)

// TestFastFetch: expressions whose member accesses fastFetch rewrote give
// what expr's own compilation gives, values and errors alike.
func TestFastFetch(t *testing.T) {
	t.Parallel()
	s := NewScope(map[string]any{"n": 2, "m": map[string]any{"a": 1, "list": []any{"x", "y"}}, "s": "text"},
		map[string]any{"scenario": "sc", "started": time.Unix(1700000000, 0)}, func(name string) bool { return name == "p" })
	s.Record("first", actions.Result{"status": "ok", "count": 3, "nested": map[string]any{"k": "v"}}, true)
	cases := []string{
		`vars.n + 1 == 3 && steps.first.status == "ok"`,
		`vars.m["a"]`,
		`vars.m.list[1]`,
		`vars.m.missing`,
		`steps.first.nested.k`,
		`last.count * 2`,
		`env.PATH != ""`,
		`env.NO_SUCH_VARIABLE_HERE`,
		`run.started.Unix()`,
		`run.scenario`,
		`steps.first?.status`,
		`steps?.nope?.status`,
		`alive("p") && !alive("q")`,
		`vars.n.x`,
		`vars.s.x`,
		`vars.m.missing.deeper`,
		`len(vars.m.list) == 2`,
		`map(vars.m.list, # + "!")`,
		`{"a": 1, "b": {"c": 2}}.b.c`,
		`[vars.m, vars.m][1].a`,
		`let x = vars.m; x.a + x["a"]`,
		`filter([{"k": 1}, {"k": 2}], .k > 1)[0].k`,
	}
	for _, src := range cases {
		p, errs := compile(src, Pos{}, false, nil)
		if errs != nil {
			t.Fatalf("%s: %v", src, errs)
		}
		got, gotErr := s.Eval(p, nil)
		plain, err := expr.Compile(src, expr.Env(typeEnv()))
		if err != nil {
			t.Fatalf("%s: expr.Compile: %v", src, err)
		}
		want, wantErr := expr.Run(plain, s.env)
		if (gotErr == nil) != (wantErr == nil) {
			t.Errorf("%s: error %v, expr gives %v", src, gotErr, wantErr)
			continue
		}
		if gotErr != nil {
			first := func(e error) string { return strings.SplitN(e.Error(), "\n", 2)[0] }
			if !strings.HasSuffix(first(gotErr), first(wantErr)) {
				t.Errorf("%s: error %q, expr gives %q", src, first(gotErr), first(wantErr))
			}
			continue
		}
		if formatValue(got) != formatValue(want) {
			t.Errorf("%s = %s, expr gives %s", src, formatValue(got), formatValue(want))
		}
	}
}
