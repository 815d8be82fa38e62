package lang_test

import (
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

// TestLoadAgainstItsRegistry: the loader knows the actions of the
// registry it is given, and those alone: with the probe alone, a probe
// step loads and pmrun's own actions are unknown.
func TestLoadAgainstItsRegistry(t *testing.T) {
	t.Parallel()
	reg := contract.NewRegistry()
	reg.Register(probe.Spec)
	opt := lang.LoadOptions{Registry: reg}
	sc, err := lang.Parse("s.yaml", []byte("name: x\nsteps:\n  - probe: {n: 3}\n"), opt)
	if err != nil {
		t.Fatal(err)
	}
	if got := sc.Steps[0].Spec(); got != probe.Spec {
		t.Errorf("step's spec = %v, want the probe's", got)
	}
	_, err = lang.Parse("s.yaml", []byte("name: x\nsteps:\n  - log: hello\n"), opt)
	if err == nil || !strings.Contains(err.Error(), `3:5: unknown action "log"`) {
		t.Errorf("log against the probe alone: got %v, want unknown action", err)
	}
	if _, err := lang.Parse("s.yaml", []byte("name: x\nsteps:\n  - log: hello\n"), lang.LoadOptions{Registry: probe.Registry()}); err != nil {
		t.Errorf("log against pmrun's actions: %v", err)
	}
}
