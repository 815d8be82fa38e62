package native

import (
	"slices"
	"testing"
)

// TestTakes: a semaphore's holders are the threads with a unit taken and
// not posted back, by their oldest such unit; a post gives back the
// poster's oldest unit, and a post by a thread that holds none changes
// nothing.
func TestTakes(t *testing.T) {
	a, b, c := &thread{name: "A"}, &thread{name: "B"}, &thread{name: "C"}
	var k takes
	steps := []struct {
		op   string
		t    *thread
		want []*thread
	}{
		{"take", a, []*thread{a}},
		{"take", b, []*thread{a, b}},
		{"take", a, []*thread{a, b}},
		{"post", a, []*thread{b, a}}, // A's first unit is back: its second is younger than B's
		{"post", c, []*thread{b, a}},
		{"post", b, []*thread{a}},
		{"post", a, nil},
		{"post", a, nil},
		{"take", c, []*thread{c}},
	}
	for i, s := range steps {
		if s.op == "take" {
			k.take(s.t)
		} else {
			k.post(s.t)
		}
		if got := k.holders(); !slices.Equal(got, s.want) && len(got)+len(s.want) > 0 {
			t.Errorf("step %d (%s %s): holders %s, want %s", i, s.t.name, s.op, names(got), names(s.want))
		}
	}
}
