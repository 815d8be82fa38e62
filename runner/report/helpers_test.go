package report_test

import (
	"testing"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/actions/contract"
	"github.com/pmrun/pmrun/runner/lang"
)

// mustParse loads src against pmrun's actions.
func mustParse(t *testing.T, src string) *lang.Scenario {
	t.Helper()
	return mustParseIn(t, actions.Registry(), src)
}

// mustParseIn loads src against the actions of reg.
func mustParseIn(t *testing.T, reg *contract.Registry, src string) *lang.Scenario {
	t.Helper()
	sc, err := lang.Parse("t.yaml", []byte(src), lang.LoadOptions{Registry: reg})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return sc
}
