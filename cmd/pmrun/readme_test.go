package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions"
)

// TestReadmeDocumentsEveryAction keeps the README's table of actions true
// to the registry: every action has a row, naming each of its parameters
// (the shorthand one may be shown by its kind instead) and each field of
// its result.
func TestReadmeDocumentsEveryAction(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if m := regexp.MustCompile("^\\| `([a-z_]+)` \\|").FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	for _, spec := range actions.Registry().All() {
		row, ok := rows[spec.Name]
		if !ok {
			t.Errorf("README has no row for the action %s", spec.Name)
			continue
		}
		named := func(word string) bool {
			return regexp.MustCompile(`\b` + regexp.QuoteMeta(word) + `\b`).MatchString(row)
		}
		for _, p := range spec.Params {
			if p.Name != spec.Shorthand && !named(p.Name) {
				t.Errorf("README's row for %s does not name its parameter %s", spec.Name, p.Name)
			}
		}
		for _, f := range spec.Results {
			if !named(f.Name) {
				t.Errorf("README's row for %s does not name its result field %s", spec.Name, f.Name)
			}
		}
	}
}

// TestReadmeExitCodes keeps the README's table of exit codes true to the
// codes pmrun returns.
func TestReadmeExitCodes(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(b), "Exit codes, the same for every command:")
	if !ok {
		t.Fatal("README has no table of exit codes")
	}
	table, _, _ = strings.Cut(strings.TrimLeft(table, "\n"), "\n\n") // the table alone
	var got []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([0-9]+)` \\|").FindAllStringSubmatch(table, -1) {
		got = append(got, m[1])
	}
	want := []string{}
	for _, c := range []int{exitOK, exitFailed, exitUsage, exitOutput, exitInterrupted, exitConsoleClosed} {
		want = append(want, strconv.Itoa(c))
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("README's exit codes %v, pmrun's %v", got, want)
	}
}

// TestMakeFuzzRunsEveryFuzzer keeps 'make fuzz' true to the code: each
// Fuzz function of the module is run by a line of the Makefile's fuzz
// target, by its package and its exact name (Go fuzzes one target per
// invocation), and each line names a function that exists.
func TestMakeFuzzRunsEveryFuzzer(t *testing.T) {
	mk, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	_, target, ok := strings.Cut(string(mk), "\nfuzz:\n")
	if !ok {
		t.Fatal("the Makefile has no fuzz target")
	}
	target, _, _ = strings.Cut(target, "\n\n")
	run := map[string]bool{}
	for _, m := range regexp.MustCompile(`-fuzz '\^(Fuzz\w+)\$\$' (\./\S+)`).FindAllStringSubmatch(target, -1) {
		run[strings.TrimPrefix(m[2], "./")+" "+m[1]] = true
	}
	found := map[string]bool{}
	fuzzFunc := regexp.MustCompile(`(?m)^func (Fuzz\w+)\(\w+ \*testing\.F\)`)
	err = filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range fuzzFunc.FindAllStringSubmatch(string(b), -1) {
			found[filepath.Dir(strings.TrimPrefix(path, "../../"))+" "+m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) == 0 {
		t.Fatal("found no Fuzz function")
	}
	for f := range found {
		if !run[f] {
			t.Errorf("make fuzz does not run %s", f)
		}
	}
	for r := range run {
		if !found[r] {
			t.Errorf("make fuzz runs %s, which does not exist", r)
		}
	}
}
