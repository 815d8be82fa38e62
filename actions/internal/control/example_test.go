package control_test

import (
	"context"
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/schedule"
)

const lostUpdate = `
lost:
  vars: {count: 0}
  threads:
    A: &inc [set: count = count + 1]
    B: *inc
  expect: count == 2
`

func load(src, name string) *program.Program {
	set, err := program.LoadText([]byte(src))
	if err != nil {
		panic(err)
	}
	p, err := set.Program(name)
	if err != nil {
		panic(err)
	}
	return p
}

// An exhaustive search of the lost update: every interleaving, the first
// failing one shrunk and shown, and the schedule that replays it.
func ExampleSearch() {
	p := load(lostUpdate, "lost")
	out, err := control.Search(context.Background(), p, control.Options{Scheduler: control.Exhaustive, Shrink: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s: %v of %v interleavings fail; %d states\n", out.Verdict, out.FailingInterleavings, out.Interleavings, out.States)
	fmt.Println(out.ScheduleText)
	fmt.Print(out.Interleaving.Format())
	// Output:
	// expect: 4 of 6 interleavings fail; 12 states
	// pmrun1:lost:7f61e696078414e0:ab2a
	// count  A                             B
	//     0
	//     0  5: count = count + 1 (read)
	//     0                                5: count = count + 1 (read)
	//     1                                5: count = count + 1 (write)
	//     1  5: count = count + 1 (write)
	// expect count == 2 failed: count = 1
}

// A schedule pasted from a log, replayed on the real threads.
func ExampleReplay() {
	p := load(lostUpdate, "lost")
	s, err := schedule.Parse("pmrun1:lost:7f61e696078414e0:ab2a")
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := control.Replay(context.Background(), p, s, control.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(out.Verdict, out.Final, out.Switches, "switches")
	// Output:
	// expect map[count:1] 2 switches
}
