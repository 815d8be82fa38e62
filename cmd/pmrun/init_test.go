package main

import "testing"

// TestStarterMatchesSchema checks the scenario 'pmrun init' writes against
// the schema 'pmrun schema' prints, as an editor would.
func TestStarterMatchesSchema(t *testing.T) {
	sch := compiledSchema(t)
	if err := sch.Validate(instance(t, starter)); err != nil {
		t.Fatalf("the starter scenario does not match the schema: %v", err)
	}
}
