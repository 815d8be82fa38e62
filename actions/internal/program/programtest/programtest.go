// Package programtest loads the programs that tests run, for the tests of
// the packages that run them (control, freerun, manual and the others):
// one harness instead of one a package. A mistake in a program fails the
// test that asked for it.
package programtest

import (
	"os"
	"sync"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// files caches the programs of each file: path → func() (*program.Set,
// error), read and loaded once however many tests ask.
var files sync.Map

// File returns the programs of the YAML file at path, which holds what a
// programs: key holds.
func File(t testing.TB, path string) *program.Set {
	t.Helper()
	load, _ := files.LoadOrStore(path, sync.OnceValues(func() (*program.Set, error) {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		return program.LoadText(data)
	}))
	set, err := load.(func() (*program.Set, error))()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return set
}

// Prog returns the program called name of the YAML file at path.
func Prog(t testing.TB, path, name string) *program.Program {
	t.Helper()
	return pick(t, File(t, path), name)
}

// Text returns the programs of YAML text, which holds what a programs:
// key holds.
func Text(t testing.TB, src string) *program.Set {
	t.Helper()
	set, err := program.LoadText([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// One returns the program called name of YAML text; when the text does
// not load, the test fails with the text (a generated program's, say).
func One(t testing.TB, src, name string) *program.Program {
	t.Helper()
	set, err := program.LoadText([]byte(src))
	if err != nil {
		t.Fatalf("%s:\n%s", err, src)
	}
	return pick(t, set, name)
}

func pick(t testing.TB, set *program.Set, name string) *program.Program {
	t.Helper()
	p, err := set.Program(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
