package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/go-hclog"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

// EventLog is the [hclog.Logger] the runner and the actions write events
// to. Its lines are hclog's JSON format — "@timestamp", "@level",
// "@message", "@module" and the key/value pairs — but they are encoded by
// appending, without reflection: hclog's own JSON path builds a map and
// runs encoding/json over it, about 5 µs an event, and a scenario step
// logs two events against a budget of 2 µs a step (the assert row of
// `make bench`, cmd/pmbench).
// TestEventLogMatchesHclog checks the lines decode to what hclog writes.
type EventLog struct {
	sink    *eventSink
	implied []any
	name    string
	// impliedJSON is implied encoded once, with its keys: every event
	// carries them (run_id, scenario).
	impliedJSON []byte
	impliedKeys []string
}

// eventSink is what loggers derived with With and Named share, as hclog's
// do: the output and the level.
type eventSink struct {
	mu   sync.Mutex
	w    io.Writer
	buf  []byte
	keys []string // scratch for the keys of the event being written

	// The timestamp's text up to the second, and its zone, for the
	// second tsSec: most events of a run share them.
	tsSec            int64
	tsPrefix, tsZone []byte
	level            atomic.Int32
	tees             []EventFunc
}

// EventFunc receives an event the log has written: its time, level,
// message and fields, the implied ones (run_id, scenario) first. It is
// called with the log's lock held, so events arrive one at a time and in
// the order they were written.
type EventFunc func(at time.Time, level hclog.Level, msg string, args []any)

// Tee passes every event written, after it is written, to f as well: the
// console shows process output and messages with -v, and --trace and
// --report keep the timeline. Each call adds one more f.
func (l *EventLog) Tee(f EventFunc) {
	l.sink.mu.Lock()
	l.sink.tees = append(l.sink.tees, f)
	l.sink.mu.Unlock()
}

// CheckDeclared has the log call undeclared with the name of each event
// it writes that reg does not declare ([contract.Registry.Declared]),
// once a name; an event without a name is "". For tests: an event that
// nothing declares is drawn nowhere, and its name was likely mistyped.
// undeclared is called with the log's lock held, as a tee is.
func (l *EventLog) CheckDeclared(reg *contract.Registry, undeclared func(name string)) {
	seen := map[string]bool{}
	l.Tee(func(_ time.Time, _ hclog.Level, _ string, args []any) {
		name, _ := contract.Fields(args).Get("event").(string)
		if !seen[name] && !reg.Declared(name) {
			seen[name] = true
			undeclared(name)
		}
	})
}

// NewEventLog returns an EventLog writing one JSON line per event to w,
// at level and above.
func NewEventLog(w io.Writer, level hclog.Level) *EventLog {
	s := &eventSink{w: w}
	s.level.Store(int32(level))
	return &EventLog{sink: s}
}

var _ hclog.Logger = (*EventLog)(nil)

var levelNames = map[hclog.Level]string{
	hclog.Trace: "trace", hclog.Debug: "debug", hclog.Info: "info", hclog.Warn: "warn", hclog.Error: "error",
}

// Log writes an event at level.
func (l *EventLog) Log(level hclog.Level, msg string, args ...any) {
	if level < l.GetLevel() || level == hclog.Off {
		return
	}
	l.write(time.Now(), level, msg, "", nil, args)
}

// logEncoded writes the event named event, stamped t, whose fields are
// pre, then args: the runner logs the fields of a step encoded once, at
// the times it has read the clock for the step's duration anyway.
func (l *EventLog) logEncoded(t time.Time, level hclog.Level, msg, event string, pre *encodedPairs, args []any) {
	if level < l.GetLevel() || level == hclog.Off {
		return
	}
	l.write(t, level, msg, event, pre, args)
}

// write encodes and writes one event: into the batch when the output is a
// [LineBatcher], which saves a copy and a lock.
func (l *EventLog) write(now time.Time, level hclog.Level, msg, event string, pre *encodedPairs, args []any) {
	s := l.sink
	s.mu.Lock()
	defer s.mu.Unlock()
	if lb, ok := s.w.(*LineBatcher); ok {
		lb.mu.Lock()
		if lb.err == nil {
			lb.buf = l.encode(lb.buf, now, level, msg, event, pre, args)
			_ = lb.appended()
		}
		lb.mu.Unlock()
	} else {
		s.buf = l.encode(s.buf[:0], now, level, msg, event, pre, args)
		_, _ = s.w.Write(s.buf)
	}
	if len(s.tees) > 0 {
		all := allPairs(l.implied, event, pre, args)
		for _, f := range s.tees {
			f(now, level, msg, all)
		}
	}
}

// encode appends one event's line to b; the sink's mu is held.
func (l *EventLog) encode(b []byte, now time.Time, level hclog.Level, msg, event string, pre *encodedPairs, args []any) []byte {
	s := l.sink
	name, ok := levelNames[level]
	if !ok {
		name = "all"
	}
	b = append(b, `{"@level":"`...)
	b = append(b, name...)
	b = append(b, `","@message":`...)
	b = appendString(b, msg)
	if l.name != "" {
		b = append(b, `,"@module":`...)
		b = appendString(b, l.name)
	}
	b = append(b, `,"@timestamp":"`...)
	b = s.appendTimestamp(b, now)
	b = append(b, '"')
	b = append(b, l.impliedJSON...)
	keys := append(s.keys[:0], l.impliedKeys...)
	if event != "" && !containsKey(keys, "event") {
		b = append(b, `,"event":`...)
		b = appendString(b, event)
		keys = append(keys, "event")
	}
	if pre != nil {
		if pre.overlaps(keys) {
			b, keys = appendPairs(b, pre.pairs, keys)
		} else {
			b = append(b, pre.json...)
			keys = append(keys, pre.keys...)
		}
	}
	b, keys = appendPairs(b, args, keys)
	s.keys = keys
	return append(b, "}\n"...)
}

// encodedPairs are key/value pairs encoded once and written in many
// events.
type encodedPairs struct {
	pairs []any    // as given: for the tee and for other loggers
	json  []byte   // each pair as `,"key":value`
	keys  []string // in order
}

func encodePairs(pairs ...any) *encodedPairs {
	e := &encodedPairs{pairs: pairs}
	e.json, e.keys = appendPairs(nil, pairs, nil)
	return e
}

// encodeAll encodes the log fields of many steps at once, into one
// buffer, sharing the lists of keys: a run of ten thousand steps prepares
// them with a few allocations rather than several a step.
func encodeAll(steps []*lang.Step, set func(i int, e encodedPairs)) {
	size := 0
	for _, st := range steps {
		size += 40 + len(st.Action) + len(st.ID)
	}
	buf := make([]byte, 0, size)
	var shared [][]string // the lists of keys seen, each kept once
	var scratch []string
	for i, st := range steps {
		pairs := st.LogFields()
		start := len(buf)
		buf, scratch = appendPairs(buf, pairs, scratch[:0])
		var keys []string
		for _, k := range shared {
			if slices.Equal(k, scratch) {
				keys = k
				break
			}
		}
		if keys == nil {
			keys = slices.Clone(scratch)
			shared = append(shared, keys)
		}
		set(i, encodedPairs{pairs: pairs, json: buf[start:len(buf):len(buf)], keys: keys})
	}
}

// allPairs returns the pairs of an event as a logger other than
// EventLog takes them: implied ones first, then the event's name, pre and
// args.
func allPairs(implied []any, event string, pre *encodedPairs, args []any) []any {
	all := make([]any, 0, len(implied)+2+len(args)+len(pre.all()))
	all = append(all, implied...)
	if event != "" {
		all = append(all, "event", event)
	}
	return append(append(all, pre.all()...), args...)
}

func (e *encodedPairs) all() []any {
	if e == nil {
		return nil
	}
	return e.pairs
}

// overlaps reports whether one of the pairs' keys is among keys, which
// then decide which value is kept.
func (e *encodedPairs) overlaps(keys []string) bool {
	for _, k := range e.keys {
		if containsKey(keys, k) {
			return true
		}
	}
	return false
}

// appendTimestamp appends t as time.RFC3339Nano does, formatting the date,
// time and zone only when the second changes.
func (s *eventSink) appendTimestamp(b []byte, t time.Time) []byte {
	if sec := t.Unix(); sec != s.tsSec || s.tsPrefix == nil {
		s.tsSec = sec
		s.tsPrefix = t.AppendFormat(s.tsPrefix[:0], "2006-01-02T15:04:05")
		s.tsZone = t.AppendFormat(s.tsZone[:0], "Z07:00")
	}
	b = append(b, s.tsPrefix...)
	if ns := t.Nanosecond(); ns != 0 {
		var digits [10]byte
		digits[0] = '.'
		for i := 9; i > 0; i-- {
			digits[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for digits[n-1] == '0' {
			n--
		}
		b = append(b, digits[:n]...)
	}
	return append(b, s.tsZone...)
}

// appendPairs appends key/value pairs; an odd value gets hclog's
// EXTRA_VALUE_AT_END key, and a repeated key keeps its first value. keys
// are those written so far, returned with these added.
func appendPairs(b []byte, args []any, keys []string) ([]byte, []string) {
	for i := 0; i < len(args); i += 2 {
		var key string
		var val any
		if i+1 < len(args) {
			val = args[i+1]
			if k, ok := args[i].(string); ok {
				key = k
			} else {
				key = fmt.Sprint(args[i])
			}
		} else {
			key, val = hclog.MissingKey, args[i]
		}
		if isReserved(key) || containsKey(keys, key) {
			continue
		}
		keys = append(keys, key)
		b = append(b, ',')
		b = appendString(b, key)
		b = append(b, ':')
		b = appendValue(b, val)
	}
	return b, keys
}

func isReserved(key string) bool { return len(key) > 0 && key[0] == '@' }

func containsKey(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// appendValue encodes v as encoding/json would, by hand for the types
// events carry.
func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int32:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case uint32:
		return strconv.AppendUint(b, uint64(v), 10)
	case uint64:
		return strconv.AppendUint(b, v, 10)
	case float64:
		return appendFloat(b, v)
	case time.Duration:
		return strconv.AppendInt(b, int64(v), 10)
	case []string:
		b = append(b, '[')
		for i, s := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		return append(b, ']')
	case hclog.Format:
		return appendString(b, fmt.Sprintf(v[0].(string), v[1:]...))
	case error:
		switch v.(type) {
		case json.Marshaler:
		default:
			return appendString(b, v.Error())
		}
	}
	out, err := json.Marshal(v)
	if err != nil {
		return appendString(b, fmt.Sprintf("%v", v))
	}
	return append(b, out...)
}

// appendFloat formats like encoding/json: no exponent for ordinary
// magnitudes; NaN and infinities, which JSON lacks, as strings.
func appendFloat(b []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return appendString(b, strconv.FormatFloat(f, 'g', -1, 64))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	return strconv.AppendFloat(b, f, format, -1, 64)
}

// plainJSON marks the bytes a JSON string holds as they are: printable
// ASCII but for the quote, the backslash and the HTML-escaped <, > and &.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

// appendString appends s as a JSON string, escaping as encoding/json does
// with HTML escaping on (hclog's default).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plainJSON[c] {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// Trace logs at trace level.
func (l *EventLog) Trace(msg string, args ...any) { l.Log(hclog.Trace, msg, args...) }

// Debug logs at debug level.
func (l *EventLog) Debug(msg string, args ...any) { l.Log(hclog.Debug, msg, args...) }

// Info logs at info level.
func (l *EventLog) Info(msg string, args ...any) { l.Log(hclog.Info, msg, args...) }

// Warn logs at warn level.
func (l *EventLog) Warn(msg string, args ...any) { l.Log(hclog.Warn, msg, args...) }

// Error logs at error level.
func (l *EventLog) Error(msg string, args ...any) { l.Log(hclog.Error, msg, args...) }

// IsTrace reports whether trace events are written.
func (l *EventLog) IsTrace() bool { return l.GetLevel() <= hclog.Trace }

// IsDebug reports whether debug events are written.
func (l *EventLog) IsDebug() bool { return l.GetLevel() <= hclog.Debug }

// IsInfo reports whether info events are written.
func (l *EventLog) IsInfo() bool { return l.GetLevel() <= hclog.Info }

// IsWarn reports whether warnings are written.
func (l *EventLog) IsWarn() bool { return l.GetLevel() <= hclog.Warn }

// IsError reports whether errors are written.
func (l *EventLog) IsError() bool { return l.GetLevel() <= hclog.Error }

// ImpliedArgs returns the pairs every event of this logger carries.
func (l *EventLog) ImpliedArgs() []any { return l.implied }

// With returns a logger whose events all carry args.
func (l *EventLog) With(args ...any) hclog.Logger {
	implied := make([]any, 0, len(l.implied)+len(args))
	implied = append(append(implied, l.implied...), args...)
	return newEventLog(l.sink, implied, l.name)
}

// Name returns the logger's module name.
func (l *EventLog) Name() string { return l.name }

// Named returns a logger with name appended to the module name.
func (l *EventLog) Named(name string) hclog.Logger {
	if l.name != "" {
		name = l.name + "." + name
	}
	return newEventLog(l.sink, l.implied, name)
}

// ResetNamed returns a logger with the module name set to name.
func (l *EventLog) ResetNamed(name string) hclog.Logger {
	return newEventLog(l.sink, l.implied, name)
}

// newEventLog returns a logger on sink whose events carry implied.
func newEventLog(sink *eventSink, implied []any, name string) *EventLog {
	l := &EventLog{sink: sink, implied: implied, name: name}
	l.impliedJSON, l.impliedKeys = appendPairs(nil, implied, nil)
	return l
}

// SetLevel sets the level of this logger and those it shares a sink with.
func (l *EventLog) SetLevel(level hclog.Level) { l.sink.level.Store(int32(level)) }

// GetLevel returns the logger's level.
func (l *EventLog) GetLevel() hclog.Level { return hclog.Level(l.sink.level.Load()) }

// StandardLogger returns a standard library logger whose lines become info
// events.
func (l *EventLog) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(l.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer whose lines become info events.
func (l *EventLog) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return lineFunc(func(line string) { l.Info(line) })
}

type lineFunc func(string)

func (f lineFunc) Write(p []byte) (int, error) {
	for _, line := range bytes.Split(bytes.TrimRight(p, "\n"), []byte("\n")) {
		f(strings.TrimSpace(string(line)))
	}
	return len(p), nil
}
