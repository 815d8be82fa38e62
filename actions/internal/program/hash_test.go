package program

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata")

func TestStateHash(t *testing.T) {
	t.Parallel()
	p := prog(t, "two_by_two")
	a, _ := p.NewState()
	b, _ := p.NewState()
	if a.Hash() != b.Hash() || !a.Equal(b) {
		t.Error("two fresh states differ")
	}
	// The same state by two paths: equal, whatever the step count says.
	ab, _ := play(t, p, "A B")
	ba, _ := play(t, p, "B A")
	if ab.Hash() != ba.Hash() || !ab.Equal(ba) {
		t.Errorf("A B and B A reach different states: %v / %v", ab, ba)
	}
	// Different states.
	sa, _ := play(t, p, "A")
	sb, _ := play(t, p, "B")
	if sa.Hash() == sb.Hash() || sa.Equal(sb) || sa.Hash() == a.Hash() {
		t.Error("different states hash alike")
	}
	// A clone is equal and independent.
	c := sa.Clone()
	original := sa.Hash()
	if c.Hash() != original || c.Steps() != sa.Steps() {
		t.Error("a clone differs")
	}
	if _, err := c.Step(1); err != nil {
		t.Fatal(err)
	}
	if c.Hash() == original {
		t.Error("stepping a clone changed nothing")
	}
	if sa.Hash() != original || sa.Steps() != 1 {
		t.Error("stepping a clone changed the original")
	}
}

// TestHashGolden pins the encoding: a change of the state's layout or of
// the hash changes these values, and every stored hash with them.
func TestHashGolden(t *testing.T) {
	t.Parallel()
	p := prog(t, "lost")
	tests := []struct {
		schedule string
		hash     uint64
	}{
		{"", 0x62c878d809b117e8},      // nine zero words: count, then A and B at their first step
		{"A B A", 0x1277ed1aecc96cab}, // count 1, A done (pc 2), B holding 1 to write
	}
	for _, tt := range tests {
		s, _ := play(t, p, tt.schedule)
		if got := s.Hash(); got != tt.hash {
			t.Errorf("hash after %q = %#x, want %#x", tt.schedule, got, tt.hash)
		}
	}
}

func TestTextHash(t *testing.T) {
	t.Parallel()
	load := func(src string) *Program {
		t.Helper()
		set, err := LoadText([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := set.Program("lost")
		return p
	}
	base := load("lost:\n  vars: {count: 0}\n  threads:\n    A: [set: count = count + 1]\n    B: [set: count = count + 1]\n")
	restyled := load("# the lost update\nlost:\n  vars:\n    count: 0   # shared\n  threads:\n    A:\n      - set: 'count = count + 1'\n    B: [{set: count = count + 1}]\n")
	edited := load("lost:\n  vars: {count: 0}\n  threads:\n    A: [set: count = count + 2]\n    B: [set: count = count + 1]\n")
	if base.TextHash() != restyled.TextHash() {
		t.Errorf("comments and YAML style changed the hash:\n%s\n%s", Canonical(base.Def()), Canonical(restyled.Def()))
	}
	if base.TextHash() == edited.TextHash() {
		t.Error("an edited expression kept the hash")
	}
	if got, want := base.TextHash(), "892f3a57d3e3e38d"; got != want {
		t.Errorf("TextHash = %s, want %s (a change of the canonical text changes every schedule's hash)", got, want)
	}
}

// TestInterleavingFormat pins the OSTEP-style table of the lost update.
func TestInterleavingFormat(t *testing.T) {
	t.Parallel()
	p := prog(t, "lost")
	schedule := []int{0, 1, 0, 1}
	res, err := p.Run(Replay(schedule), RunOptions{Record: true})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Interleaving.Format()
	const golden = "testdata/lost.golden"
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("interleaving:\n%s\nwant:\n%s", got, want)
	}
	if res.Switches != 3 || len(res.Schedule) != 4 {
		t.Errorf("switches %d, schedule %v", res.Switches, res.Schedule)
	}
}

// TestHashWords pins hashWords to xxHash64's published value for the
// empty input, 0xef46db3751d8e999.
func TestHashWords(t *testing.T) {
	t.Parallel()
	if got := hashWords(nil); got != 0xef46db3751d8e999 {
		t.Errorf("hashWords(nil) = %#x", got)
	}
}
