package main

import (
	"os"
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
