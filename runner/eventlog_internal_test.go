package runner

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// TestLogEncoded: an event with pre-encoded fields, written into a
// LineBatcher or any writer, is the event Log writes with those fields as
// pairs, stamped with the time given; a pre-encoded key the logger already
// carries keeps the logger's value, as with Log.
func TestLogEncoded(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 27, 18, 0, 0, 123_400_000, time.UTC)
	for _, tt := range []struct {
		name  string
		event string
		pre   []any
		args  []any
	}{
		{"step fields", "step_end", []any{"step", 3, "action", "assert", "step_id", "x"}, []any{"status", "ok", "duration_ms", 0.012}},
		{"error", "step_end", []any{"step", 0, "action", "sleep"}, []any{"status", "failed", "error", "line 1\n<line 2>", "line", 7}},
		{"overlap with the logger", "step_start", []any{"scenario", "other"}, nil},
		{"overlap with args", "step_start", []any{"x", 1}, []any{"event", "ignored", "x", true}},
		{"no event name", "", []any{"x", 1}, []any{"y", 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var want bytes.Buffer
			NewEventLog(&want, hclog.Info).With("run_id", "r1", "scenario", "s").Log(hclog.Info, "msg", allPairs(nil, tt.event, encodePairs(tt.pre...), tt.args)...)

			var direct bytes.Buffer
			NewEventLog(&direct, hclog.Info).With("run_id", "r1", "scenario", "s").(*EventLog).logEncoded(at, hclog.Info, "msg", tt.event, encodePairs(tt.pre...), tt.args)

			var batched bytes.Buffer
			lb := NewLineBatcher(&batched, time.Hour)
			NewEventLog(lb, hclog.Info).With("run_id", "r1", "scenario", "s").(*EventLog).logEncoded(at, hclog.Info, "msg", tt.event, encodePairs(tt.pre...), tt.args)
			if batched.Len() != 0 {
				t.Fatal("the batch was written before its interval or a flush")
			}
			if err := lb.Close(); err != nil {
				t.Fatal(err)
			}

			wantEv := decodeEvent(t, want.String())
			wantEv["@timestamp"] = at.Format(time.RFC3339Nano)
			for _, got := range []string{direct.String(), batched.String()} {
				if !strings.HasSuffix(got, "}\n") || strings.Count(got, "\n") != 1 {
					t.Fatalf("not one line: %q", got)
				}
				if gotEv := decodeEvent(t, got); !reflect.DeepEqual(gotEv, wantEv) {
					t.Errorf("got  %s\nwant %v", got, wantEv)
				}
			}
		})
	}
}

func decodeEvent(t *testing.T, line string) map[string]any {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("%v: %q", err, line)
	}
	return ev
}
