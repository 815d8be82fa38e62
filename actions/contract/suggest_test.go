package contract

import "testing"

func TestNearest(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s          string
		candidates []string
		want       string
	}{
		{"slep", []string{"sleep", "spawn"}, "sleep"},
		{"spwan", []string{"sleep", "spawn"}, "spawn"}, // a swap is one edit
		{"SPAWN", []string{"sleep", "spawn"}, "spawn"}, // case
		{"KILL", []string{"SIGKILL", "SIGTERM"}, "SIGKILL"},
		{"INT", []string{"SIGINT", "SIGQUIT"}, "SIGINT"},
		{"ER", []string{"SIGTERM"}, ""},                 // too short for a suffix
		{"TERM", []string{"SIGTERM", "XTERM"}, "XTERM"}, // two suffixes: the nearest by edits
		{"frobnicate", []string{"sleep", "spawn"}, ""},  // too far
		{"z", []string{"b", "zz"}, ""},                  // one letter among several: a guess
		{"q", []string{"p"}, "p"},                       // the one candidate
		{"tiemout", []string{"timeout", "name"}, "timeout"},
		{"mutx", []string{"mutex", "m"}, "mutex"},
		{"", []string{"a"}, ""},
	} {
		if got := Nearest(tt.s, tt.candidates); got != tt.want {
			t.Errorf("Nearest(%q, %q) = %q, want %q", tt.s, tt.candidates, got, tt.want)
		}
	}
	if got, want := DidYouMean("slep", []string{"sleep"}), `, did you mean "sleep"?`; got != want {
		t.Errorf("DidYouMean = %q, want %q", got, want)
	}
	if got := DidYouMean("frobnicate", []string{"sleep"}); got != "" {
		t.Errorf("DidYouMean far = %q, want none", got)
	}
}
