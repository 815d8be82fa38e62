package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// traceEvent is one entry of Chrome's trace event format, the JSON that
// Perfetto (ui.perfetto.dev) and chrome://tracing open. Times are in
// microseconds.
type traceEvent struct {
	Name string         `json:"name"`
	Cat  string         `json:"cat,omitempty"`
	Ph   string         `json:"ph"`
	Ts   float64        `json:"ts"`
	Dur  *float64       `json:"dur,omitempty"`
	S    string         `json:"s,omitempty"`
	Pid  int            `json:"pid"`
	Tid  int            `json:"tid"`
	Args map[string]any `json:"args,omitempty"`
}

// WriteTrace writes the timeline in Chrome's trace event format: each
// scenario run is a process of the trace, each track (a lane of steps, a
// process, a thread, a channel, a lab's worker) a thread of it; spans
// are complete ("X") events and marks instant ("i") events. Times count
// from the start of the first scenario.
func (t *Timeline) WriteTrace(w io.Writer) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	var base time.Time
	if len(t.runs) > 0 {
		base = t.runs[0].start
	}
	us := func(at time.Time) float64 { return float64(at.Sub(base).Nanoseconds()) / 1e3 }

	fmt.Fprintf(bw, "{\"displayTimeUnit\":\"ms\",\"otherData\":{\"generator\":\"pmrun\",\"left_out\":%d},\"traceEvents\":[\n", t.dropped)
	first := true
	emit := func(e traceEvent) error {
		if !first {
			bw.WriteString(",")
		}
		first = false
		return enc.Encode(e) // ends the entry with a newline
	}
	for i, r := range t.runs {
		pid := i + 1
		title := fmt.Sprintf("%s (%s), seed %v", r.scenario, r.file, r.seed)
		if r.status != "" {
			title += ", " + r.status
		}
		if err := emit(traceEvent{Name: "process_name", Ph: "M", Pid: pid, Args: map[string]any{"name": title}}); err != nil {
			return err
		}
		if err := emit(traceEvent{Name: "process_sort_index", Ph: "M", Pid: pid, Args: map[string]any{"sort_index": i}}); err != nil {
			return err
		}
		if err := writeGauges(r, pid, us, emit); err != nil {
			return err
		}
		end := r.endTime()
		for j, tr := range r.sortedTracks() {
			tid := j + 1
			meta := []traceEvent{
				{Name: "thread_name", Ph: "M", Pid: pid, Tid: tid, Args: map[string]any{"name": tr.label}},
				{Name: "thread_sort_index", Ph: "M", Pid: pid, Tid: tid, Args: map[string]any{"sort_index": j}},
			}
			for _, e := range meta {
				if err := emit(e); err != nil {
					return err
				}
			}
			for _, s := range tr.spans {
				dur := float64(s.until(end).Sub(s.start).Nanoseconds()) / 1e3
				args := traceArgs(s.args)
				args["status"] = s.status
				if !s.ended {
					args["status"] = stillRunning
				}
				if s.allowed {
					args["allowed"] = "continue_on_error"
				}
				if err := emit(traceEvent{Name: s.name, Cat: tr.kind.String(), Ph: "X", Ts: us(s.start), Dur: &dur, Pid: pid, Tid: tid, Args: args}); err != nil {
					return err
				}
			}
			for i := range tr.marks {
				m := &tr.marks[i]
				if err := emit(traceEvent{Name: tr.markLabel(m), Cat: m.event.Name, Ph: "i", S: "t", Ts: us(m.at), Pid: pid, Tid: tid, Args: traceArgs(m.args)}); err != nil {
					return err
				}
			}
		}
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

// writeGauges writes a run's gauges as counter ("C") events, which
// Perfetto draws as a graph under the run.
func writeGauges(r *runLine, pid int, us func(time.Time) float64, emit func(traceEvent) error) error {
	for _, g := range r.gauges {
		for _, p := range g.points {
			if err := emit(traceEvent{Name: g.label, Ph: "C", Ts: us(p.at), Pid: pid, Args: map[string]any{g.decl.Field: p.v}}); err != nil {
				return err
			}
		}
	}
	return nil
}

// endTime returns when the run ended: its scenario_end, or if that never
// came, the latest time anything in it was seen.
func (r *runLine) endTime() time.Time {
	if !r.end.IsZero() {
		return r.end
	}
	return r.lastTime()
}

// until returns when s ended, or end if it was still open.
func (s *span) until(end time.Time) time.Time {
	if s.ended {
		return s.end
	}
	return end
}

// lastTime returns the latest time anything in the run was seen.
func (r *runLine) lastTime() time.Time {
	last := r.start
	for _, tr := range r.tracks {
		for _, s := range tr.spans {
			if s.start.After(last) {
				last = s.start
			}
			if s.ended && s.end.After(last) {
				last = s.end
			}
		}
		for _, m := range tr.marks {
			if m.at.After(last) {
				last = m.at
			}
		}
	}
	for _, g := range r.gauges {
		for _, p := range g.points {
			if p.at.After(last) {
				last = p.at
			}
		}
	}
	return last
}
