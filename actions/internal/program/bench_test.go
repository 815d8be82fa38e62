package program

import "testing"

// BenchmarkStep measures one step, the work an exhaustive search does
// hundreds of thousands of times: runs from the start, again and again,
// the lowest enabled thread first (runs that pass, so the failure path's
// messages are not what is measured). flaglock has expressions that read
// shared variables, critical regions and loops; cond mutexes and
// conditions; lost a two-step set and expect.
func BenchmarkStep(b *testing.B) {
	for _, name := range []string{"flaglock", "cond", "fixed"} {
		b.Run(name, func(b *testing.B) {
			p := prog(b, name)
			start, _ := p.NewState()
			s := start.Clone()
			var enabled []int
			b.ReportAllocs()
			for b.Loop() {
				enabled = s.AppendEnabled(enabled[:0])
				if len(enabled) == 0 {
					s = start.Clone()
					continue
				}
				info, err := s.Step(enabled[0])
				if err != nil {
					b.Fatal(err)
				}
				if info.Failure != nil {
					b.Fatal(info.Failure)
				}
			}
		})
	}
}

// BenchmarkCloneHash measures what a search does with each new state.
func BenchmarkCloneHash(b *testing.B) {
	s, _ := play(b, prog(b, "flaglock"), "A B A")
	b.ReportAllocs()
	var h uint64
	for b.Loop() {
		h ^= s.Clone().Hash()
	}
	_ = h
}
