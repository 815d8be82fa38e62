package report

import (
	"testing"
	"time"
)

// TestReadable: durations in the report are rounded for reading, three
// significant digits at most.
func TestReadable(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0ns"},
		{850 * time.Nanosecond, "850ns"},
		{97512 * time.Nanosecond, "97.5µs"},
		{4 * time.Microsecond, "4µs"},
		{23001234 * time.Nanosecond, "23ms"},
		{50_712_345 * time.Nanosecond, "50.7ms"},
		{999_960 * time.Microsecond, "1s"},
		{1_056_789 * time.Microsecond, "1.06s"},
		{2500 * time.Millisecond, "2.5s"},
		{59_999 * time.Millisecond, "60s"},
		{65_400 * time.Millisecond, "1m5s"},
		{-3 * time.Millisecond, "-3ms"},
	} {
		if got := readable(tc.d); got != tc.want {
			t.Errorf("readable(%d) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
