package control

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/engine"
	"github.com/pmrun/pmrun/actions/internal/program"
	"github.com/pmrun/pmrun/actions/internal/program/programtest"
)

// prog returns a program of testdata/programs.yaml.
func prog(t testing.TB, name string) *program.Program {
	t.Helper()
	return programtest.Prog(t, "testdata/programs.yaml", name)
}

// mustSearch runs Search and fails the test on an error.
func mustSearch(t testing.TB, name string, opts Options) engine.Outcome {
	t.Helper()
	out, err := Search(t.Context(), prog(t, name), opts)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return out
}

// tasks are this process's threads.
func tasks(t testing.TB) map[int]string {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[int]string{}
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		comm, err := os.ReadFile("/proc/self/task/" + e.Name() + "/comm")
		if err != nil {
			continue // ended since
		}
		out[tid] = string(comm[:len(comm)-1])
	}
	return out
}

// gone waits until none of tids is a thread of this process any more,
// and fails the test if one still is after a long while (a guard against
// a hang, not a timing assertion).
func gone(t testing.TB, tids ...int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		left := 0
		now := tasks(t)
		for _, tid := range tids {
			if _, ok := now[tid]; ok {
				left++
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of threads %v are still alive", left, tids)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func tids(out engine.Outcome) []int {
	var ids []int
	for _, th := range out.Threads {
		ids = append(ids, th.TID)
	}
	return ids
}
