package program

import (
	"os"
	"regexp"
	"testing"
)

// TestOpsDocumented: every operation of the table (ops.go) has its line in
// the package documentation's table of steps and its row in the README's
// table of operations, so that an operation added is one documented.
func TestOpsDocumented(t *testing.T) {
	t.Parallel()
	docs := map[string]string{"doc.go": "doc.go", "README.md": "../../../README.md"}
	for name, path := range docs {
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, key := range opKeys {
			line := `(?m)^//\t` + regexp.QuoteMeta(key) + `\b`
			if name == "README.md" {
				line = "(?m)^\\| `" + regexp.QuoteMeta(key) + "\\b"
			}
			if !regexp.MustCompile(line).Match(text) {
				t.Errorf("%s does not document operation %s (want a line matching %s)", name, key, line)
			}
		}
	}
}

// TestOpsDeclared: every operation has a key, a shape, what its shape
// needs (an object kind, a compile function) and, but yield, words for
// the schema; every key parses back to its operation.
func TestOpsDeclared(t *testing.T) {
	t.Parallel()
	for k := OpKind(1); int(k) < len(table); k++ {
		d := k.decl()
		switch {
		case d.name == "" || d.shape == 0:
			t.Errorf("operation %d has no key or no shape", k)
		case d.compile == nil && (d.shape != ShapeObject || d.object == 0 || d.instr == 0):
			t.Errorf("%s: no compile function, and not an operation on an object", d.name)
		case d.doc == "" && d.shape != ShapeNone:
			t.Errorf("%s: no words for the schema", d.name)
		}
		if got, ok := opNamed(d.name); !ok || got != k {
			t.Errorf("%s parses to %v", d.name, got)
		}
	}
}
