package program

import (
	"slices"
	"testing"
)

func TestDeadlockExplanation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program, schedule string
		text              string
		cycle             []string
	}{
		{
			program: "opposite", schedule: "A B",
			text: `deadlock: 2 of 2 threads blocked
A waits for mutex m2 at 79:19 (lock m2), held by B
B waits for mutex m1 at 80:19 (lock m1), held by A
cycle: A → m2 → B → m1 → A`,
			cycle: []string{"A", "m2", "B", "m1", "A"},
		},
		{
			program: "rendezvous_wrong",
			text: `deadlock: 2 of 2 threads blocked
A waits on semaphore bArrived (value 0) at 85:9 (wait bArrived); B could signal it
B waits on semaphore aArrived (value 0) at 86:9 (wait aArrived); A could signal it
cycle: A → bArrived → B → aArrived → A`,
			cycle: []string{"A", "bArrived", "B", "aArrived", "A"},
		},
		{
			program: "nobody",
			text: `deadlock: 1 of 1 threads blocked
A waits on semaphore s (value 0) at 97:9 (wait s); nobody signals it in the code left to run`,
		},
		{
			program: "self_signal",
			text: `deadlock: 1 of 1 threads blocked
A waits on semaphore s (value 0) at 102:9 (wait s); nobody signals it in the code left to run`,
		},
		{
			program: "signal_spent", schedule: "B A",
			text: `deadlock: 1 of 2 threads blocked
A waits on semaphore s (value 0) at 107:18 (wait s); nobody signals it in the code left to run`,
		},
		{
			program: "loop_signal", schedule: "",
			text: `deadlock: 2 of 2 threads blocked
A waits on semaphore s (value 0) at 114:9 (wait s); B could signal it
B waits on semaphore t (value 0) at 116:9 (wait t); nobody signals it in the code left to run`,
		},
		{
			program: "holder_finished", schedule: "A",
			text: `deadlock: 1 of 2 threads blocked
B waits for mutex m at 124:9 (lock m), held by A, which finished without unlocking it`,
		},
		{
			program: "cond_nobody", schedule: "A A",
			text: `deadlock: 1 of 1 threads blocked
A waits on condition c at 130:18 (cond_wait c); nobody signals it in the code left to run`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			p := prog(t, tt.program)
			s, _ := play(t, p, tt.schedule)
			if en := s.Enabled(); len(en) > 0 {
				t.Fatalf("threads %s can still step", names(p, en))
			}
			f := s.End()
			if f == nil || f.Verdict != Deadlock {
				t.Fatalf("End = %v, want a deadlock", f)
			}
			if f.Msg != tt.text || f.Deadlock.Text != tt.text {
				t.Errorf("explanation:\n%s\nwant:\n%s", f.Msg, tt.text)
			}
			if !slices.Equal(f.Deadlock.Cycle, tt.cycle) {
				t.Errorf("cycle = %q, want %q", f.Deadlock.Cycle, tt.cycle)
			}
		})
	}
}
