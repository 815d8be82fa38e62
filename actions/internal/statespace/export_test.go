package statespace

// visited is the fingerprints of the table, for the tests.
func (s *search) visited() map[uint64]bool {
	out := map[uint64]bool{}
	for _, sl := range s.tab.slots {
		if sl.key != 0 {
			out[sl.key] = true
		}
	}
	return out
}
