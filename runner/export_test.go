package runner

import "time"

// FormatTimestampForTest formats t with an event sink's cached timestamp,
// twice, so that the second use of the cache is checked too.
func FormatTimestampForTest(t time.Time) string {
	s := &eventSink{}
	s.appendTimestamp(nil, t.Add(-time.Nanosecond))
	return string(s.appendTimestamp(nil, t))
}
