package program_test

import (
	"fmt"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// A lost update: both threads read count before either writes it.
func Example() {
	src := `
lost:
  vars: {count: 0}
  threads:
    A: [set: count = count + 1]
    B: [set: count = count + 1]
  expect: count == 2
`
	set, err := program.LoadText([]byte(src))
	if err != nil {
		fmt.Println(err)
		return
	}
	p, _ := set.Program("lost")
	res, err := p.Run(program.Replay([]int{0, 1, 0, 1}), program.RunOptions{Record: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(res.Interleaving.Format())
	// Output:
	// count  A                             B
	//     0
	//     0  5: count = count + 1 (read)
	//     0                                6: count = count + 1 (read)
	//     1  5: count = count + 1 (write)
	//     1                                6: count = count + 1 (write)
	// expect count == 2 failed: count = 1
}

// Every error of a section, each at its line and column.
func ExampleLoadText() {
	src := `
race:
  vars: {count: 0}
  semaphores: {mutex: 1}
  threads:
    A: [wiat: mutex, set: count = cuont + 1, lock: mutex]
`
	_, err := program.LoadText([]byte(src))
	fmt.Println(err)
	// Output:
	// 6:9: unknown operation "wiat", did you mean "wait"?
	// 6:35: set: unknown variable "cuont", did you mean "count"?
	// 6:52: lock: mutex is a semaphore, not a mutex (a semaphore takes wait and signal)
}
