package contract_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/pmrun/pmrun/"

// TestContractIsALeaf: the contract imports nothing of pmrun, and the
// loader and the presentation import nothing of pmrun's actions but the
// contract (and linuxonly, the empty package that stops a build for
// another system with one message), so that neither depends on processes, agents or schedulers
// (docs/ARCHITECTURE.md draws the graph).
func TestContractIsALeaf(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pkg     string
		allowed []string // the pmrun packages it may depend on, beside itself
	}{
		// actions/linuxonly, a leaf too, only stops a build for another
		// system.
		{"actions/contract", nil},
		{"actions/contract/view", nil},
		{"actions/linuxonly", nil},
		{"runner/lang", []string{"actions/contract", "actions/linuxonly"}},
		{"runner/report", []string{"actions/contract", "actions/contract/view", "actions/linuxonly", "runner/lang", "runner/internal/outfile"}},
	} {
		for _, dep := range deps(t, module+tt.pkg) {
			rel, ours := strings.CutPrefix(dep, module)
			if !ours || rel == tt.pkg {
				continue
			}
			ok := false
			for _, a := range tt.allowed {
				ok = ok || rel == a
			}
			if !ok {
				t.Errorf("%s depends on %s", tt.pkg, rel)
			}
		}
	}
}

// deps lists the packages pkg depends on, as go list -deps says.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to list the dependencies with")
	}
	out, err := exec.CommandContext(t.Context(), goBin, "list", "-deps", "-json", pkg).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list %s: %v\n%s", pkg, err, ee.Stderr)
		}
		t.Fatalf("go list %s: %v", pkg, err)
	}
	var list []string
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p struct{ ImportPath string }
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		list = append(list, p.ImportPath)
	}
	if len(list) == 0 {
		t.Fatalf("go list %s listed nothing", pkg)
	}
	return list
}
