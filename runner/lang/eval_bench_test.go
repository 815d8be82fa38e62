package lang

import "testing"

func BenchmarkEval(b *testing.B) {
	p, errs := compile(`vars.n + 5 == 6 && steps.first.status == "ok"`, Pos{}, true, nil)
	if errs != nil {
		b.Fatal(errs)
	}
	s := NewScope(map[string]any{"n": 1}, map[string]any{}, func(string) bool { return false })
	s.Record("first", map[string]any{"status": "ok"}, true)
	b.ReportAllocs()
	for b.Loop() {
		if v, err := s.Eval(p, nil); err != nil || v != true {
			b.Fatal(v, err)
		}
	}
}
