package main

import (
	"strings"
	"testing"
)

// TestStarterMatchesSchema checks the scenario 'pmrun init' writes against
// the schema 'pmrun schema' prints, as an editor would.
func TestStarterMatchesSchema(t *testing.T) {
	sch := compiledSchema(t)
	if err := sch.Validate(instance(t, starter)); err != nil {
		t.Fatalf("the starter scenario does not match the schema: %v", err)
	}
}

// TestLabSkeletonMatchesSchema checks the lab 'pmrun init --lab' writes
// against the schema.
func TestLabSkeletonMatchesSchema(t *testing.T) {
	sch := compiledSchema(t)
	if err := sch.Validate(instance(t, []byte(strings.ReplaceAll(labSkeleton, "LABNAME", "lab")))); err != nil {
		t.Fatalf("the lab skeleton does not match the schema: %v", err)
	}
}
