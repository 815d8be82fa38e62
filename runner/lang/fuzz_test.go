package lang_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

// FuzzParse feeds the loader arbitrary files: it must never panic or hang,
// and every error it reports must carry a real position in the file.
// The corpus lives in testdata/fuzz/FuzzParse; the scenarios are seeds too.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("../../scenarios/*.yaml")
	more, _ := filepath.Glob("../../scenarios/*/*.yaml")
	for _, path := range append(seeds, more...) {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Add([]byte("name: x\nsteps:\n  - log: \"${{ vars.a }}\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := lang.Parse("f.yaml", data, lang.LoadOptions{Registry: probe.Registry()})
		if err == nil {
			if sc == nil || sc.Name == "" {
				t.Fatalf("no error but scenario %+v", sc)
			}
			return
		}
		var le lang.LoadErrors
		if !errors.As(err, &le) || len(le) == 0 {
			t.Fatalf("error is not LoadErrors: %v", err)
		}
		for _, e := range le {
			if e.File != "f.yaml" || e.Line < 1 || e.Col < 1 || e.Msg == "" {
				t.Fatalf("error without a position or message: %#v", e)
			}
		}
	})
}

// FuzzParseVar feeds --var arguments to ParseVar and, when one parses, to
// a scenario that declares the var with a value of each YAML type: nothing
// panics, a value is taken as given or refused with an error placed at
// the var's value in the file (or, for a value a parameter refuses, at
// the parameter), and UndeclaredVar answers for any name.
func FuzzParseVar(f *testing.F) {
	for _, arg := range []string{"items=500", "items=abc", "ratio=0.25", "on=yes", "label=", "list=[b, c]", "map={a: 1}",
		"x=\x00", "x=- a\n- b", "x=&a [*a]", "x=!!binary aGk=", "Bad=1", "=1", "noequals", "x==", "x=\"unterminated"} {
		f.Add(arg)
	}
	decls := []string{"1", "0.5", "true", "text", "[a]", "{a: 1}", "~", "20ms"}
	f.Fuzz(func(t *testing.T, arg string) {
		name, value, err := lang.ParseVar(arg)
		if err != nil {
			if !strings.Contains(err.Error(), "--var") {
				t.Fatalf("error without the flag: %v", err)
			}
			return
		}
		if name+"="+value != arg {
			t.Fatalf("ParseVar(%q) = %q, %q", arg, name, value)
		}
		_ = lang.UndeclaredVar(name, []string{"items", name + "s"})
		if len(name) > 1000 {
			return // YAML takes a plain key of at most 1024 characters: no file declares it
		}
		for _, decl := range decls {
			src := fmt.Sprintf("name: x\nvars:\n  %s: %s\nsteps:\n  - log: \"${{ vars['%s'] }}\"\n", name, decl, name)
			sc, err := lang.Parse("f.yaml", []byte(src), lang.LoadOptions{Registry: probe.Registry(), Vars: map[string]string{name: value}})
			if err == nil {
				if _, ok := sc.Vars[name]; !ok {
					t.Fatalf("%s: var %s lost", decl, name)
				}
				continue
			}
			var le lang.LoadErrors
			if !errors.As(err, &le) || len(le) == 0 {
				t.Fatalf("%s: error is not LoadErrors: %v", decl, err)
			}
			for _, e := range le {
				atVar := e.Line == 3 && e.Col == len(name)+5 && strings.HasPrefix(e.Msg, "--var "+name+"=")
				atParam := e.Line == 5 && strings.HasPrefix(e.Msg, "message: ")
				if e.File != "f.yaml" || (!atVar && !atParam) {
					t.Fatalf("%s, --var %q: error not at the var or the parameter: %v", decl, arg, e)
				}
			}
		}
	})
}
