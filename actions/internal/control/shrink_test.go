package control

import (
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

// TestShrinkReachesTheFewestSwitches: the failures random search finds,
// shrunk, keep their verdict and come down to the fewest context switches
// the bug needs, worked out by hand:
//   - lost update: A reads, B reads and writes, A writes: 2;
//   - flag lock: A tests, B tests, sets, enters, A sets and enters: 2;
//   - opposite mutexes: A locks m1, B locks m2: 1.
func TestShrinkReachesTheFewestSwitches(t *testing.T) {
	t.Parallel()
	tests := []struct {
		program  string
		verdict  program.Verdict
		switches int
	}{
		{"lost", program.Expect, 2},
		{"lost_loop", program.Expect, 2},
		{"flaglock", program.MutualExclusion, 2},
		{"opposite", program.Deadlock, 1},
	}
	for _, tt := range tests {
		for seed := range uint64(5) {
			out := mustSearch(t, tt.program, Options{Scheduler: Random, Seed: seed, Runs: 50, Shrink: true})
			if out.Verdict != tt.verdict || out.Switches != tt.switches || out.Switches > out.OriginalSwitches || out.Steps > out.OriginalSteps {
				t.Errorf("%s, seed %d: %s after %d switches in %d steps (from %d in %d), want %s after %d\n%s",
					tt.program, seed, out.Verdict, out.Switches, out.Steps, out.OriginalSwitches, out.OriginalSteps, tt.verdict, tt.switches, format(out))
			}
		}
	}
}

// TestShrinkOff: without Shrink, the schedule is the failing run's own.
func TestShrinkOff(t *testing.T) {
	t.Parallel()
	out := mustSearch(t, "flaglock", Options{Scheduler: Random, Seed: 1, Runs: 50})
	if out.Switches != out.OriginalSwitches || out.Steps != out.OriginalSteps || out.Switches == 2 {
		t.Errorf("%d switches in %d steps, the run had %d in %d", out.Switches, out.Steps, out.OriginalSwitches, out.OriginalSteps)
	}
}

// TestShrinkKeepsTheFailure: shrink on the model keeps the verdict and
// place of the failure for every failing run of a search, and never makes
// a schedule longer in switches.
func TestShrinkKeepsTheFailure(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"lost_loop", "flaglock", "opposite", "rendezvous_wrong"} {
		p := prog(t, name)
		for seed := range uint64(30) {
			res, err := p.Run(randomChooserFunc(newRNG(seed, 0)), program.RunOptions{MaxSteps: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if res.Failure == nil || res.Verdict == program.MaxSteps {
				continue
			}
			steps, f := shrink(t.Context(), Model(p), res.Schedule, res.Failure, 1000, false)
			again, err := p.Run(program.Replay(steps), program.RunOptions{MaxSteps: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if !sameKind(again.Failure, res.Failure) || !sameFailure(again.Failure, f) || len(again.Schedule) != len(steps) {
				t.Errorf("%s, seed %d: the shrunk schedule ends %v, the run %v", name, seed, again.Failure, res.Failure)
			}
			if schedule.Switches(steps) > res.Switches {
				t.Errorf("%s, seed %d: %d switches from %d", name, seed, schedule.Switches(steps), res.Switches)
			}
		}
	}
}

func randomChooserFunc(r *rng) program.Chooser {
	return func(s *program.State, enabled []int) int {
		t, _ := randomChooser{r}.choose(s, enabled)
		return t
	}
}
