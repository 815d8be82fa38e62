package program

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTableFits: a table wider than TableWidth is made to fit: first by
// wrapping the widest threads' steps in narrower columns, then, with
// more threads than columns can hold, with a step a line naming its
// thread. Nothing is lost: every step's words are in the table.
func TestTableFits(t *testing.T) {
	t.Parallel()
	long := "atomic tobacco_on = tobacco_on + 1"
	tests := []struct {
		name    string
		threads []string
		single  bool
	}{
		{"wrapped", []string{"Producer", "Consumer", "Watcher"}, false},
		{"one column", []string{"AgentTP", "AgentPM", "AgentTM", "HasMatch", "HasTobacco", "HasPaper"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			il := &Interleaving{Threads: tt.threads, Vars: []string{"tobacco_on", "paper_on", "match_on"}, Bools: []bool{false, false, false}, Initial: []int64{0, 0, 0}}
			for i := range 3 * len(tt.threads) {
				th := i % len(tt.threads)
				il.Rows = append(il.Rows, Row{Thread: th, Op: long, Pos: Pos{Line: 50 + th}, Values: []int64{int64(i), 1, 1000000}})
			}
			out := il.Format()
			for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
				if n := utf8.RuneCountInString(line); n > TableWidth {
					t.Errorf("a line of %d columns, more than %d:\n%s", n, TableWidth, out)
					break
				}
			}
			if got := strings.Count(strings.Join(strings.Fields(out), " "), "tobacco_on + 1"); got != len(il.Rows) {
				t.Errorf("%d of %d steps whole in the table:\n%s", got, len(il.Rows), out)
			}
			if single := strings.Contains(out, "  thread  "); single != tt.single {
				t.Errorf("one column = %v, want %v:\n%s", single, tt.single, out)
			}
		})
	}
}

// TestWrap cuts at spaces, and a word longer than the column where it
// must.
func TestWrap(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		s    string
		w    int
		want string
	}{
		{"55: wait agent", 20, "55: wait agent"},
		{"55: atomic tobacco_on = tobacco_on + 1", 16, "55: atomic|tobacco_on =|tobacco_on + 1"},
		{"7: averyveryverylongname", 10, "7:|averyveryv|erylongnam|e"},
	} {
		if got := strings.Join(wrap(tt.s, tt.w), "|"); got != tt.want {
			t.Errorf("wrap(%q, %d) = %q, want %q", tt.s, tt.w, got, tt.want)
		}
	}
}
