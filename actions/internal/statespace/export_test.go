package statespace

import (
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// visited is the fingerprints of the table, for the tests.
func (s *search) visited() map[uint64]bool {
	out := map[uint64]bool{}
	s.tab.each(func(key uint64, _ uint32) { out[key] = true })
	return out
}

// newTestSearch is a search with opts and their defaults, for a test that
// looks inside it.
func newTestSearch(t testing.TB, p *program.Program, opts Options) *search {
	t.Helper()
	o, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s := newSearch(t.Context(), p, o)
	s.keepTable = true
	t.Cleanup(s.mem.release)
	return s
}
