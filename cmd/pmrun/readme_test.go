package main

import (
	"os"
	"regexp"
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
	for _, spec := range actions.All() {
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
