package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"
)

// compiledSchema compiles what 'pmrun schema' prints with a real validator.
func compiledSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := pmrun([]string{"schema"}, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("pmrun schema: exit %d: %s", code, errOut.String())
	}
	doc, err := jsonschema.UnmarshalJSON(&out)
	if err != nil {
		t.Fatalf("pmrun schema printed no JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("pmrun.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("pmrun.schema.json")
	if err != nil {
		t.Fatalf("the schema does not compile: %v", err)
	}
	return sch
}

// instance reads a YAML scenario as the JSON value a validator checks.
func instance(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := yaml.Unmarshal(data, &v); err != nil {
		t.Fatalf("not YAML: %v", err)
	}
	j, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("not JSON-able: %v", err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(j))
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

// TestSchemaAcceptsEveryScenario validates every scenario file of the
// repository against the schema 'pmrun schema' prints.
func TestSchemaAcceptsEveryScenario(t *testing.T) {
	sch := compiledSchema(t)
	var files []string
	err := filepath.WalkDir("../../scenarios", func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			files = append(files, path)
		}
		return err
	})
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios found: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := sch.Validate(instance(t, data)); err != nil {
				t.Errorf("%s does not validate: %v", path, err)
			}
		})
	}
}

// TestSchemaRejectsMistakes checks that each file of testdata/schema/bad.txtar
// is rejected, and that each is also one that 'pmrun check' rejects.
func TestSchemaRejectsMistakes(t *testing.T) {
	sch := compiledSchema(t)
	ar, err := txtar.ParseFile("testdata/schema/bad.txtar")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range ar.Files {
		t.Run(f.Name, func(t *testing.T) {
			if err := sch.Validate(instance(t, f.Data)); err == nil {
				t.Errorf("the schema accepts %s:\n%s", f.Name, f.Data)
			}
			path := filepath.Join(dir, f.Name)
			if err := os.WriteFile(path, f.Data, 0o644); err != nil {
				t.Fatal(err)
			}
			var out, errOut bytes.Buffer
			if code := pmrun([]string{"check", path}, strings.NewReader(""), &out, &errOut); code != 2 {
				t.Errorf("pmrun check %s: exit %d, want 2 (the example should be a real mistake)", f.Name, code)
			}
		})
	}
}
