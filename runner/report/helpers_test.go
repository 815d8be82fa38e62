package report_test

import (
	"testing"

	"github.com/pmrun/pmrun/runner/lang"
)

func mustParse(t *testing.T, src string) *lang.Scenario {
	t.Helper()
	sc, err := lang.Parse("t.yaml", []byte(src), lang.LoadOptions{})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return sc
}
