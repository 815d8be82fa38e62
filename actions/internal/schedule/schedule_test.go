package schedule

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		steps []int
		text  string
	}{
		{nil, "pmrun1:p:0123456789abcdef:"},
		{[]int{0}, "pmrun1:p:0123456789abcdef:a"},
		{[]int{0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0}, "pmrun1:p:0123456789abcdef:a4b6a2"},
		{[]int{25, 26, 51, 51}, "pmrun1:p:0123456789abcdef:zAZ2"},
		{[]int{52, 52, 100, 0}, "pmrun1:p:0123456789abcdef:_52_2_100_a"},
		{[]int{1, 0, 1, 0}, "pmrun1:p:0123456789abcdef:baba"},
	} {
		s := Schedule{Program: "p", Hash: "0123456789abcdef", Steps: tc.steps}
		if got := s.String(); got != tc.text {
			t.Errorf("String(%v) = %q, want %q", tc.steps, got, tc.text)
		}
		back, err := Parse(tc.text)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.text, err)
		}
		if back.Program != "p" || back.Hash != "0123456789abcdef" || !slices.Equal(back.Steps, tc.steps) {
			t.Errorf("Parse(%q) = %+v, want steps %v", tc.text, back, tc.steps)
		}
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ text, want string }{
		{"", "not a pmrun schedule"},
		{"hello", "not a pmrun schedule"},
		{"pmrun1:p:h", "want pmrun1:PROGRAM:HASH:STEPS"},
		{"pmrun2:p:h:a", "version 2 is newer than this pmrun reads (1)"},
		{"pmrunx:p:h:a", "bad version"},
		{"pmrun1::h:a", "name or hash is missing"},
		{"pmrun1:p:h:a-b", `unexpected '-' at 2`},
		{"pmrun1:p:h:a0", `bad count "0" at 2`},
		{"pmrun1:p:h:_52", "not closed"},
		{"pmrun1:p:h:_7_", "bad thread"},
		{"pmrun1:p:h:a99999999", "more than"},
	} {
		_, err := Parse(tc.text)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tc.text, err, tc.want)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	s := Schedule{Program: "flaglock", Hash: "aaaa", Steps: []int{0, 1}}
	if err := s.Check("flaglock", "aaaa"); err != nil {
		t.Fatalf("Check of its own program: %v", err)
	}
	err := s.Check("flaglock", "bbbb")
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "was edited") {
		t.Errorf("an edited program: %v", err)
	}
	err = s.Check("other", "aaaa")
	if !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "not other") {
		t.Errorf("another program: %v", err)
	}
}

func TestSwitches(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		steps []int
		want  int
	}{{nil, 0}, {[]int{0, 0}, 0}, {[]int{0, 1, 0}, 2}, {[]int{0, 0, 1, 1, 2}, 2}} {
		if got := Switches(tc.steps); got != tc.want {
			t.Errorf("Switches(%v) = %d, want %d", tc.steps, got, tc.want)
		}
	}
}

// FuzzParse: any text either fails with an error or reads back to itself.
func FuzzParse(f *testing.F) {
	f.Add("pmrun1:p:0123456789abcdef:a4b6a2")
	f.Add("pmrun1:p:h:_52_2_100_a")
	f.Fuzz(func(t *testing.T, text string) {
		s, err := Parse(text)
		if err != nil {
			return
		}
		again, err := Parse(s.String())
		if err != nil || !slices.Equal(again.Steps, s.Steps) || again.Program != s.Program || again.Hash != s.Hash {
			t.Fatalf("%q read back as %+v, then %+v (%v)", text, s, again, err)
		}
	})
}

// TestPrintable: a short schedule prints whole; a long one (every other
// step a switch, for a million steps) prints as its program and hash and
// its length, in a line of less than a hundred bytes.
func TestPrintable(t *testing.T) {
	short := Schedule{Program: "spin", Hash: "beefa71a9d6dc0ca", Steps: []int{0, 0, 1}}.String()
	if got, whole := Printable(short); got != short || !whole {
		t.Errorf("Printable(%q) = %q, %v; want it whole", short, got, whole)
	}
	steps := make([]int, 1_000_000)
	for i := range steps {
		steps[i] = i % 2
	}
	long := Schedule{Program: "spin", Hash: "beefa71a9d6dc0ca", Steps: steps}.String()
	got, whole := Printable(long)
	want := fmt.Sprintf("pmrun1:spin:beefa71a9d6dc0ca:… (%d bytes, too long to print)", len(long))
	if got != want || whole {
		t.Errorf("Printable of %d bytes = %q, %v; want %q, false", len(long), got, whole, want)
	}
}
