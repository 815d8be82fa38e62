package runner_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/internal/probe"
)

// TestEventLogMatchesHclog logs the same events through hclog's JSON
// logger and through EventLog: each line must decode to the same object.
func TestEventLogMatchesHclog(t *testing.T) {
	t.Parallel()
	events := [][]any{
		{"event", "step_end", "step", 3, "status", "ok", "duration_ms", 0.012},
		{"event", "x", "big", 1e22, "tiny", 1e-9, "neg", -2.5, "zero", 0.0, "u", uint64(1 << 63)},
		{"event", "strings", "s", "quote \" backslash \\ tab \t nl \n <html> & é \u2028 \x01", "bad", "\xff"},
		{"event", "types", "b", true, "n", nil, "d", 1500 * time.Millisecond, "err", errors.New("boom"), "list", []string{"a", "b"}},
		{"event", "odd", "dangling"},
		{"event", "map", "m", map[string]any{"k": 1}, "f", hclog.Fmt("%d-%s", 7, "x")},
		{"event", "dup", "event", "second"},
	}
	var want, got bytes.Buffer
	ref := hclog.New(&hclog.LoggerOptions{Output: &want, JSONFormat: true, Level: hclog.Debug}).Named("mod").With("run_id", "r1")
	ours := runner.NewEventLog(&got, hclog.Debug).Named("mod").With("run_id", "r1")
	for _, ev := range events {
		ref.Info("message <1>", ev...)
		ours.Info("message <1>", ev...)
	}
	ref.Debug("debug")
	ours.Debug("debug")
	ours.Trace("not written")
	wantLines := bytes.Split(bytes.TrimSpace(want.Bytes()), []byte("\n"))
	gotLines := bytes.Split(bytes.TrimSpace(got.Bytes()), []byte("\n"))
	if len(wantLines) != len(gotLines) {
		t.Fatalf("%d lines, want %d:\n%s", len(gotLines), len(wantLines), got.String())
	}
	for i := range wantLines {
		var w, g map[string]any
		if err := json.Unmarshal(wantLines[i], &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(gotLines[i], &g); err != nil {
			t.Fatalf("line %d is not JSON: %s: %v", i, gotLines[i], err)
		}
		if _, err := time.Parse(time.RFC3339Nano, g["@timestamp"].(string)); err != nil {
			t.Errorf("line %d: @timestamp %v: %v", i, g["@timestamp"], err)
		}
		delete(w, "@timestamp")
		delete(g, "@timestamp")
		if i == 6 { // hclog keeps the last of a repeated key; EventLog the first
			w["event"] = "dup"
		}
		if !reflect.DeepEqual(w, g) {
			t.Errorf("line %d:\n got %s\nwant %s", i, gotLines[i], wantLines[i])
		}
	}
}

func BenchmarkEventLog(b *testing.B) {
	for _, tt := range []struct {
		name string
		log  hclog.Logger
	}{
		{"hclog", hclog.New(&hclog.LoggerOptions{Output: io.Discard, JSONFormat: true, TimeFormat: time.RFC3339Nano})},
		{"EventLog", runner.NewEventLog(io.Discard, hclog.Info)},
	} {
		log := tt.log.With("run_id", "abcd1234", "scenario", "asserts")
		b.Run(tt.name, func(b *testing.B) {
			for b.Loop() {
				log.Info("step ok", "event", "step_end", "step", 12, "action", "assert", "status", "ok", "duration_ms", 0.012)
			}
		})
	}
}

// TestEventLogTimestamps: the cached timestamp text is what RFC3339Nano
// formatting gives, trailing zeros and all.
func TestEventLogTimestamps(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 11, 27, 16, 5, 26, 0, time.FixedZone("X", 3600))
	for _, ns := range []int{0, 1, 10, 120_000_000, 123_456_789, 999_999_999, 500_000_000} {
		at := base.Add(time.Duration(ns))
		got := runner.FormatTimestampForTest(at)
		if want := at.Format(time.RFC3339Nano); got != want {
			t.Errorf("%d ns: got %s, want %s", ns, got, want)
		}
	}
}

// TestCheckDeclared: the log names each event that the registry does not
// declare, once, and neither the runner's own events nor the declared
// ones.
func TestCheckDeclared(t *testing.T) {
	t.Parallel()
	log := runner.NewEventLog(io.Discard, hclog.Info)
	var got []string
	log.CheckDeclared(probe.Registry(), func(name string) { got = append(got, name) })
	l := log.With("run_id", "r1")
	for _, name := range []string{contract.StepStart, "process_start", "proces_start", "fork_taken", "proces_start", ""} {
		l.Info("m", "event", name)
	}
	l.Info("no name at all")
	if want := []string{"proces_start", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("undeclared %q, want %q", got, want)
	}
}
