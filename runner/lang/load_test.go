package lang_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	// Each case is a scenario with mistakes and the errors it must give,
	// as "LINE:COL: substring of the message".
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"yaml syntax", "name: x\nsteps:\n  - log: [unclosed\n", []string{"3:1: yaml: did not find expected ',' or ']' (in what starts on this line)"}},
		{"yaml tab", "name: x\nsteps:\n\t- log: a\n", []string{"3:1: yaml: found character that cannot start any token"}},
		// Indentation mistakes: the line that breaks the structure, not the
		// line of the list or mapping it breaks, and what the lines above
		// line up at.
		{"yaml item indented one more", "name: m3\nsteps:\n  - log: a\n  - log: b\n   - log: c\n",
			[]string{"5:4: yaml: did not find expected '-' indicator: line 5 starts at column 4, which lines up with nothing above it (the keys and items there start at columns 1, 3 and 5; YAML reads the structure from the indentation)"}},
		{"yaml item indented one less", "name: m3\nsteps:\n  - log: a\n  - log: b\n - log: c\n",
			[]string{"5:2: yaml: did not find expected key: line 5 starts at column 2, which lines up with nothing above it (the keys and items there start at columns 1, 3 and 5;"}},
		{"yaml step key indented one less", "name: m3\nsteps:\n  - id: x\n    log: a\n   if: true\n  - log: b\n",
			[]string{"5:4: yaml: did not find expected '-' indicator: line 5 starts at column 4, which lines up with nothing above it"}},
		{"yaml var indented one less", "name: m3\nvars:\n  a: 1\n b: 2\nsteps:\n  - log: a\n",
			[]string{"4:2: yaml: did not find expected key: line 4 starts at column 2, which lines up with nothing above it (the keys and items there start at columns 1 and 3;"}},
		{"yaml parameter indented one less", "name: m3\nsteps:\n  - probe:\n      n: 1\n     text: a\n",
			[]string{"5:6: yaml: did not find expected key: line 5 starts at column 6"}},
		{"yaml dash without a space", "name: m3\nsteps:\n  - log: a\n  -log: b\n",
			[]string{"4:3: yaml: did not find expected '-' indicator: a list item needs a space after its -"}},
		{"yaml comments and blank lines between", "name: m3\nsteps:\n  - log: a\n\n  # a comment\n  - log: b\n   - log: c\n",
			[]string{"7:4: yaml: did not find expected '-' indicator: line 7 starts at column 4"}},
		// An action's parameters written at the step's indentation: one
		// error that says so, not a missing parameter and an unknown action.
		{"parameters not indented under the action", "name: x\nsteps:\n  - probe:\n    n: 2\n    text: a\n",
			[]string{`3:5: probe: has no parameters, but n and text below it are probe's: indent them under probe: (two spaces more than probe)`}},
		{"parameters not indented, one is a step key", "name: x\nsteps:\n  - probe:\n    mode: fast\n    name: p\n",
			[]string{`3:5: probe: has no parameters, but mode below it is probe's: indent it under probe:`}},
		{"empty file", "", []string{"1:1: scenario is empty"}},
		{"not a mapping", "- log: a\n", []string{"1:1: a scenario is a mapping"}},
		{"no name no steps", "description: d\n", []string{"1:1: scenario has no name", "1:1: scenario has no steps"}},
		{"unknown top-level key", "name: x\ntiemout: 1s\nsteps: [log: a]\n", []string{`2:1: unknown key "tiemout" in scenario, did you mean "timeout"?`}},
		{"unknown step key", "name: x\nsteps:\n  - log: a\n    iff: true\n", []string{`4:5: unknown step key "iff", did you mean "if"?`}},
		{"unknown action", "name: x\nsteps:\n  - slep: 1s\n", []string{`3:5: unknown action "slep", did you mean "sleep"?`}},
		{"= for ==", "name: x\nsteps:\n  - assert: steps.x.status = \"ok\"\n  - id: x\n    log: a\n",
			[]string{`3:28: expression: unexpected token Operator("=") (did you mean ==? = is no operator in an expression)`}},
		{"unknown action far", "name: x\nsteps:\n  - frobnicate: 1\n", []string{`3:5: unknown action "frobnicate" (see pmrun actions`}},
		{"no action", "name: x\nsteps:\n  - id: a\n", []string{"3:5: step has no action"}},
		{"two actions", "name: x\nsteps:\n  - log: a\n    sleep: 1s\n", []string{`4:5: a step runs one action, but this one also has "sleep"`}},
		{"unknown parameter", "name: x\nsteps:\n  - log: {message: a, levle: warn}\n", []string{`3:23: unknown key "levle" in log, did you mean "level"?`}},
		{"missing required", "name: x\nsteps:\n  - log: {level: warn}\n", []string{`3:5: log: missing required parameter "message"`}},
		{"null shorthand", "name: x\nsteps:\n  - sleep:\n", []string{`3:5: sleep: missing required parameter "for"`}},
		{"wrong type int", "name: x\nsteps:\n  - probe: {n: many}\n", []string{`3:16: n: expected an integer, got string "many"`}},
		{"wrong type list", "name: x\nsteps:\n  - probe: {argv: echo hi}\n", []string{`3:19: argv: expected a list`}},
		{"wrong type bool", "name: x\nsteps:\n  - probe: {flag: 3}\n", []string{`3:19: flag: expected true or false`}},
		{"wrong type map", "name: x\nsteps:\n  - probe: {env: [a]}\n", []string{`3:18: env: expected a map of strings, got a list`}},
		{"out of range", "name: x\nsteps:\n  - probe: {n: 11}\n", []string{`3:16: n: 11 is above the maximum 10`}},
		{"below range", "name: x\nsteps:\n  - probe: {n: 0}\n", []string{`3:16: n: 0 is below the minimum 1`}},
		{"enum", "name: x\nsteps:\n  - probe: {mode: fats}\n", []string{`3:19: mode: "fats" is not one of fast, slow, did you mean "fast"?`}},
		{"bad size", "name: x\nsteps:\n  - probe: {size: 4XB}\n", []string{`3:19: size: bad size "4XB"`}},
		{"enum without its prefix", "name: x\nsteps:\n  - spawn: {name: p, cmd: [sleep, \"9\"]}\n  - terminate: {process: p, signal: kill}\n", []string{`4:37: signal: "kill" is not one of SIGTERM, SIGINT, SIGKILL, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGSTOP, SIGCONT, did you mean "SIGKILL"?`}},
		{"action in capitals", "name: x\nsteps:\n  - SLEEP: 1s\n", []string{`3:5: unknown action "SLEEP", did you mean "sleep"?`}},
		{"bad duration", "name: x\nsteps:\n  - sleep: 1x\n", []string{`3:12: for: bad duration "1x"`}},
		{"duration without unit", "name: x\nsteps:\n  - sleep: 5\n", []string{`3:12: for: duration 5 has no unit`}},
		{"negative duration", "name: x\nsteps:\n  - sleep: -1s\n", []string{`3:12: for: duration -1s is negative`}},
		{"bad scenario timeout", "name: x\ntimeout: soon\nsteps: [log: a]\n", []string{`2:10: timeout: bad duration "soon"`}},
		{"bad seed", "name: x\nseed: -3\nsteps: [log: a]\n", []string{`2:7: seed must be a whole number`}},
		{"malformed id", "name: x\nsteps:\n  - id: Bad-Id\n    log: a\n", []string{`3:9: id "Bad-Id" must match`}},
		{"duplicate id", "name: x\nsteps:\n  - id: a\n    log: a\n  - id: a\n    log: b\n", []string{`5:9: duplicate id "a" (first at line 3)`}},
		{"duplicate key", "name: x\nname: y\nsteps: [log: a]\n", []string{`2:1: duplicate key "name" in scenario (first at line 1)`}},
		{"undeclared channel", "name: x\nchannels:\n  jobs: {}\nsteps:\n  - probe: {channel: jbos}\n", []string{`5:22: probe: channel: no channel named "jbos", did you mean "jobs"?`}},
		{"default channel exists", "name: x\nsteps:\n  - probe: {channel: default}\n", nil},
		{"bad channel kind", "name: x\nchannels:\n  jobs: {kind: fifoo}\nsteps: [log: a]\n", []string{`3:16: kind must be one of pipe, fifo, socket, not "fifoo", did you mean "fifo"?`}},
		{"expression syntax", "name: x\nsteps:\n  - assert: 1 +* 2\n", []string{`3:16: expression: `}},
		{"expression syntax quoted", "name: x\nsteps:\n  - assert: \"vars.a >\"\n", []string{`3:21: expression: unexpected token EOF`}},
		{"expression unknown name", "name: x\nsteps:\n  - assert: stepz.a.ok\n", []string{`3:13: expression: unknown name stepz`}},
		{"expression unknown step", "name: x\nsteps:\n  - id: first\n    log: a\n  - assert: steps.frist.ok\n", []string{`5:19: expression: unknown step id "frist", did you mean "first"?`}},
		{"unknown step beside a folded constant", "name: x\nsteps:\n  - assert: 'steps.x.ok && \"a\" == \"b\"'\n", []string{`3:20: expression: unknown step id "x"`}},
		{"expression unknown var", "name: x\nvars: {items: 1}\nsteps:\n  - assert: vars.itemz > 0\n", []string{`4:18: expression: unknown var "itemz", did you mean "items"?`}},
		{"if expression", "name: x\nsteps:\n  - log: a\n    if: \"1 ==\"\n", []string{`4:13: expression: unexpected token EOF`}},
		{"unterminated template", "name: x\nsteps:\n  - log: \"n=${{ 1 + 1\"\n", []string{`3:13: unterminated ${{: missing }}`}},
		{"template syntax", "name: x\nsteps:\n  - log: \"n=${{ 1 + }}\"\n", []string{`3:20: expression: unexpected token`}},
		{"template unknown var", "name: x\nsteps:\n  - probe: {n: \"${{ vars.count }}\"}\n", []string{`3:26: expression: unknown var "count"`}},
		{"retry keys", "name: x\nsteps:\n  - log: a\n    retry: {until: \"true\", atempts: 2}\n", []string{`4:28: unknown key "atempts" in retry, did you mean "attempts"?`}},
		{"wait on foreground step", "name: x\nsteps:\n  - id: a\n    sleep: 1ms\n  - wait: {step: a}\n", []string{`5:18: wait: step: step "a" (line 3) does not run in the background`}},
		{"wait on unknown step", "name: x\nsteps:\n  - wait: {step: b}\n", []string{`3:18: wait: step: no step with id "b"`}},
		{"second document", "name: x\nsteps:\n  - log: a\n---\nname: y\nsteps:\n  - log: b\n", []string{"4:1: a second YAML document starts here"}},
		{"second empty document", "name: x\nsteps:\n  - log: a\n...\n---\n", []string{"5:1: a second YAML document starts here"}},
		{"syntax in a second document", "name: x\nsteps:\n  - log: a\n--- [\n", []string{"5:1: yaml: did not find expected node content"}},
		{"empty steps", "name: x\nsteps: []\n", []string{"2:8: steps is empty: a scenario needs at least one step"}},
		{"not UTF-8", "name: x\nsteps:\n  - log: \"caf\xe9!\"\n", []string{"3:14: yaml: byte 0xe9 is not UTF-8 text"}},
		{"not UTF-8 after other text", "name: x\nsteps:\n  - log: \"é\"\n  - log: é\xff\n", []string{"4:11: yaml: byte 0xff is not UTF-8 text"}},
		{"control character", "name: x\nsteps:\n  - log: a\x07\n", []string{"3:11: yaml: control character U+0007 is not allowed in YAML"}},
		{"tab after a dash", "name: x\nsteps:\n  - log: a\n  -\tlog: b\n", []string{"4:4: yaml: found character that cannot start any token: a tab"}},
		{"tab after a dash on the first line", "-\tlog: a\n", []string{"1:2: yaml: found character that cannot start any token: a tab"}},
		{"tab in indentation", "name: x\nsteps:\n  - log: a\n  - log: b\n    \tid: x\n", []string{"5:5: yaml: found a tab character that violates indentation"}},
		{"wait for itself", "name: x\nsteps:\n  - id: a\n    background: true\n    wait: {step: a}\n", []string{`5:18: wait: step: step "a" waits for itself`}},
		{"waits in a cycle", "name: x\nsteps:\n  - id: a\n    background: true\n    wait: {step: b}\n  - id: b\n    background: true\n    wait: {step: c}\n  - id: c\n    background: true\n    wait: {step: a}\n",
			[]string{`5:18: wait: background steps wait for each other in a cycle ("a" waits for "b" waits for "c", then "a" again)`}},
		// A step named by vars alone is known at load: checked as a literal.
		{"wait for itself through vars", "name: x\nvars: {who: a}\nsteps:\n  - id: a\n    background: true\n    wait: {step: \"${{ vars.who }}\"}\n",
			[]string{`6:18: wait: step: step "a" waits for itself`}},
		{"wait through vars for no step", "name: x\nvars: {who: b}\nsteps:\n  - id: a\n    background: true\n    wait: {step: \"${{ vars.who }}\"}\n",
			[]string{`6:18: wait: step: no step with id "b"`}},
		{"wait through vars for a step not in the background", "name: x\nvars: {who: b}\nsteps:\n  - id: b\n    log: x\n  - wait: {step: \"${{ vars.who }}\"}\n",
			[]string{`6:18: wait: step: step "b" (line 4) does not run in the background`}},
		{"waits in a cycle through vars", "name: x\nvars: {first: a}\nsteps:\n  - id: a\n    background: true\n    wait: {step: b}\n  - id: b\n    background: true\n    wait: {step: \"${{ vars.first }}\"}\n",
			[]string{`6:18: wait: background steps wait for each other in a cycle ("a" waits for "b", then "a" again)`}},
		{"waits without a cycle", "name: x\nsteps:\n  - id: a\n    background: true\n    sleep: 1ms\n  - id: b\n    background: true\n    wait: {step: a}\n  - wait: {step: b}\n", nil},
		{"wait for a later step", "name: x\nsteps:\n  - wait: {step: b}\n  - id: b\n    sleep: 1ms\n    background: true\n", []string{`3:18: wait: step: step "b" (line 4) comes after this one`}},
		{"wait on a finally step", "name: x\nsteps:\n  - wait: {step: f}\nfinally:\n  - id: f\n    log: a\n", []string{`3:18: wait: step: step "f" (line 5) does not run in the background`}},
		{"spawn with an empty name", "name: x\nsteps:\n  - spawn: {name: \"\", cmd: [sleep, \"1\"]}\n", []string{`3:19: spawn: name: name is empty`}},
		{"spawn with an empty shell", "name: x\nsteps:\n  - spawn: {name: p, shell: \"\"}\n", []string{`3:29: spawn: shell: shell is empty`}},
		{"spawn with an empty program", "name: x\nsteps:\n  - spawn: {name: p, cmd: [\"\", a]}\n", []string{`3:27: spawn: cmd: the program, cmd's first item, is empty`}},
		{"spawn with a NUL in env", "name: x\nsteps:\n  - spawn: {name: p, cmd: [env], env: {A: \"x\\0y\"}}\n", []string{`3:39: spawn: env: variable "A" holds a NUL byte`}},
		{"spawn with a NUL in an argument", "name: x\nsteps:\n  - spawn: {name: p, cmd: [echo, \"a\\0\"]}\n", []string{`3:27: spawn: cmd: item 2 holds a NUL byte`}},
		{"spawn with = in a variable's name", "name: x\nsteps:\n  - spawn: {name: p, cmd: [env], env: {\"A=B\": c}}\n", []string{`3:39: spawn: env: "A=B" cannot name an environment variable`}},
		{"send above max_message", "name: x\nchannels:\n  small: {max_message: 1KiB}\nsteps:\n  - send: {channel: small, count: 2, size: 4KiB}\n", []string{`5:44: send: size: 4096 bytes is more than channel small takes in one message (max_message: 1024)`}},
		{"message above max_message", "name: x\nchannels:\n  tiny: {max_message: 4}\nsteps:\n  - send: {channel: tiny, message: hello}\n", []string{`5:36: send: message: 5 bytes is more than channel tiny takes`}},
		{"send within max_message", "name: x\nchannels:\n  small: {max_message: 1KiB}\nsteps:\n  - send: {channel: small, size: 1KiB}\n  - send: {size: 16MiB}\n", nil},
		{"send above the default channel's max_message", "name: x\nsteps:\n  - send: {size: 17MiB}\n", []string{`3:18: send: size: 17825792 bytes is more than channel default takes`}},
		{"several at once", "name: x\ntimout: 1s\nsteps:\n  - slep: 1s\n  - log: {message: a, lvl: x}\n  - assert: vars.q\n",
			[]string{`2:1: unknown key "timout"`, `4:5: unknown action "slep"`, `5:23: unknown key "lvl"`, `6:18: expression: unknown var "q"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := lang.Parse("s.yaml", []byte(tt.yaml), lang.LoadOptions{Registry: probe.Registry()})
			if tt.want == nil {
				if err != nil {
					t.Fatalf("want no error, got:\n%v", err)
				}
				return
			}
			var le lang.LoadErrors
			if !errors.As(err, &le) {
				t.Fatalf("want LoadErrors, got %v", err)
			}
			if len(le) != len(tt.want) {
				t.Errorf("got %d errors, want %d:\n%v", len(le), len(tt.want), err)
			}
			for i, want := range tt.want {
				if i >= len(le) {
					break
				}
				got := fmt.Sprintf("%d:%d: %s", le[i].Line, le[i].Col, le[i].Msg)
				if !strings.HasPrefix(got, want) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, got, want)
				}
				if le[i].File != "s.yaml" {
					t.Errorf("error %d names file %q", i, le[i].File)
				}
			}
			if le.ExitCode() != 2 {
				t.Errorf("exit code %d, want 2", le.ExitCode())
			}
		})
	}
}

func TestParseVar(t *testing.T) {
	t.Parallel()
	tests := []struct {
		arg   string
		name  string
		value string
		err   bool
	}{
		{"items=500", "items", "500", false},
		{"name=hello world", "name", "hello world", false},
		{"empty=", "empty", "", false},
		{"eq=a=b", "eq", "a=b", false},
		{"noequals", "", "", true},
		{"Bad=1", "", "", true},
		{"=1", "", "", true},
	}
	for _, tt := range tests {
		name, v, err := lang.ParseVar(tt.arg)
		if (err != nil) != tt.err {
			t.Errorf("%q: err %v", tt.arg, err)
			continue
		}
		if err == nil && (name != tt.name || v != tt.value) {
			t.Errorf("%q: got %s=%q, want %s=%q", tt.arg, name, v, tt.name, tt.value)
		}
	}
}

// TestLoadLongFile: a file long enough that expressions compile on other
// goroutines while its steps are decoded (under -race, a check that they
// share nothing they should not) loads as a short one does: every
// expression compiled or its mistake reported at its line, in order.
func TestLoadLongFile(t *testing.T) {
	t.Parallel()
	gen := func(bad bool) (string, []string) {
		var src strings.Builder
		src.WriteString("name: long\nvars: {n: 1}\nsteps:\n")
		line := 4
		var want []string
		for i := range 1500 {
			switch {
			case bad && i%500 == 499:
				fmt.Fprintf(&src, "  - assert: steps.s%d.status +\n", i-1)
				want = append(want, fmt.Sprintf("%d:", line))
			case bad && i%300 == 299:
				fmt.Fprintf(&src, "  - log: \"${{ steps.later_%d.status }}\"\n", i)
				want = append(want, fmt.Sprintf("%d:21: expression: unknown step id \"later_%d\"", line, i))
			default:
				fmt.Fprintf(&src, "  - id: s%d\n    log: \"${{ vars.n + %d }}\"\n    if: steps.s0.status == \"ok\" || last.status != \"failed\"\n    retry: {until: \"result.attempt >= 1\", attempts: 2}\n", i, i)
				line += 3
			}
			line++
		}
		src.WriteString("finally:\n  - assert: steps.s1498.status == \"ok\"\n")
		return src.String(), want
	}
	src, want := gen(true)
	sc, err := lang.Parse("long.yaml", []byte(src), lang.LoadOptions{Registry: probe.Registry()})
	var le lang.LoadErrors
	if !errors.As(err, &le) || sc != nil {
		t.Fatalf("want load errors, got %v", err)
	}
	if len(le) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%v", len(le), len(want), err)
	}
	for i, w := range want {
		if got := fmt.Sprintf("%d:%d: %s", le[i].Line, le[i].Col, le[i].Msg); !strings.HasPrefix(got, w) {
			t.Errorf("error %d: got %s, want %s…", i, got, w)
		}
	}
	src, _ = gen(false)
	sc, err = lang.Parse("long.yaml", []byte(src), lang.LoadOptions{Registry: probe.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Steps) != 1500 || len(sc.Finally) != 1 || sc.Steps[1].If == nil || sc.Steps[1].Retry.Until == nil {
		t.Errorf("%d steps, %d finally; step 1's if %v, retry %+v", len(sc.Steps), len(sc.Finally), sc.Steps[1].If, sc.Steps[1].Retry)
	}
}

// TestLongTemplatePositions: in a template of thousands of expressions
// each is placed at its own column, or line in a block of several (the
// loader walks the template once to place them all).
func TestLongTemplatePositions(t *testing.T) {
	t.Parallel()
	var line, block strings.Builder
	line.WriteString("name: x\nsteps:\n  - log: \"")
	block.WriteString("name: x\nsteps:\n  - log: |\n")
	var cols []int
	col := 11 // the first character after   - log: "
	for i := range 2000 {
		part := fmt.Sprintf("é ${{ vars.v%d }} ", i)
		line.WriteString(part)
		cols = append(cols, col+len([]rune("é ${{ vars.")))
		col += len([]rune(part))
		fmt.Fprintf(&block, "      é ${{ %d }} ${{ vars.v%d }}\n", i, i)
	}
	line.WriteString("\"\n")
	for _, tc := range []struct {
		name, src string
		pos       func(i int) (int, int) // 0 col: any
	}{
		{"one line", line.String(), func(i int) (int, int) { return 3, cols[i] }},
		{"a block", block.String(), func(i int) (int, int) { return 4 + i, 0 }},
	} {
		_, err := lang.Parse("s.yaml", []byte(tc.src), lang.LoadOptions{Registry: probe.Registry()})
		var le lang.LoadErrors
		if !errors.As(err, &le) || len(le) != 2000 {
			t.Fatalf("%s: want 2000 errors, got %d: %.300v", tc.name, len(le), err)
		}
		for i, e := range le {
			line, col := tc.pos(i)
			if e.Line != line || (col != 0 && e.Col != col) || e.Msg != fmt.Sprintf("expression: unknown var \"v%d\"", i) {
				t.Fatalf("%s: error %d at %d:%d: %s, want %d:%d", tc.name, i, e.Line, e.Col, e.Msg, line, col)
			}
		}
	}
}

// TestLiteralsAsYAMLReadsThem: a parameter's literal is YAML's value of
// it, however the number or boolean is written.
func TestLiteralsAsYAMLReadsThem(t *testing.T) {
	t.Parallel()
	for text, want := range map[string]string{"7": "7", "010": "8", "0x1F": "31", "1_000": "1000", "+5": "5", "-0": "0", "0o17": "15"} {
		src := "name: x\nsteps:\n  - id: p\n    probe: {size: " + text + "}\n"
		sc, err := lang.Parse("s.yaml", []byte(src), lang.LoadOptions{Registry: probe.Registry()})
		if err != nil {
			t.Errorf("%s: %v", text, err)
			continue
		}
		a, err := sc.Steps[0].NewAction(lang.NewScope(nil, nil, nil))
		if err != nil {
			t.Fatal(err)
		}
		res, err := a.Run(t.Context(), nil) // probe gives its parameters back
		if err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(res["size"]); got != want {
			t.Errorf("%s: got %s, want %s", text, got, want)
		}
	}
}
