package program

import (
	"strings"
	"testing"
)

// TestArithmeticChecked runs each program of testdata/arith.yaml, whose
// arithmetic overflows or divides by zero somewhere the language
// evaluates an expression, and wants the run to fail with verdict assert,
// the expression, what went wrong and the values it read.
func TestArithmeticChecked(t *testing.T) {
	t.Parallel()
	set := loadFile(t, "testdata/arith.yaml")
	tests := []struct {
		program, msg string
	}{
		{"add", "x + x: 4611686018427387904 + 4611686018427387904 overflows (integers are 64-bit): x = 4611686018427387904"},
		{"add_read", "x + x: 4611686018427387904 + 4611686018427387904 overflows (integers are 64-bit): x = 4611686018427387904"},
		{"sub", "x - 2: -9223372036854775808 - 2 overflows (integers are 64-bit): x = -9223372036854775808"},
		{"mul", "x * x: 4294967296 * 4294967296 overflows (integers are 64-bit): x = 4294967296"},
		{"neg", "-x: -(-9223372036854775808) overflows (integers are 64-bit): x = -9223372036854775808"},
		{"abs", "abs(x): abs(-9223372036854775808) overflows (integers are 64-bit): x = -9223372036854775808"},
		{"divide", "int(5 / x): division by zero: x = 0"},
		{"modulo", "10 % x: division by zero: x = 0"},
		{"power", "int(x ** 64): int(1.8446744073709552e+19) is out of an integer's range (64-bit): x = 2"},
		{"local", "x * 4: 4611686018427387904 * 4 overflows (integers are 64-bit): x = 4611686018427387904"},
		{"condition", "1 / x > 0: division by zero: x = 0"},
		{"assert", "x + x > x: 4611686018427387904 + 4611686018427387904 overflows (integers are 64-bit): x = 4611686018427387904"},
		{"log", "log x + x: 4611686018427387904 + 4611686018427387904 overflows (integers are 64-bit): x = 4611686018427387904"},
		{"invariant", "invariant x + x > -1: 4611686018427387904 + 4611686018427387904 overflows (integers are 64-bit): x = 4611686018427387904"},
		{"expect", "expect x * 2 > 0: 4611686018427387904 * 2 overflows (integers are 64-bit): x = 4611686018427387904"},
	}
	for _, tt := range tests {
		t.Run(tt.program, func(t *testing.T) {
			t.Parallel()
			p, err := set.Program(tt.program)
			if err != nil {
				t.Fatal(err)
			}
			res, err := p.Run(Replay(nil), RunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if res.Verdict != Assert || res.Failure == nil || res.Failure.Msg != tt.msg {
				t.Errorf("got %s: %v\nwant assert: %s", res.Verdict, res.Failure, tt.msg)
			}
		})
	}
	t.Run("fine", func(t *testing.T) {
		p, err := set.Program("fine")
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Run(Replay(nil), RunOptions{})
		if err != nil || res.Verdict != Pass {
			t.Errorf("got %s: %v, %v; want the edges that fit to pass", res.Verdict, res.Failure, err)
		}
	})
}

// TestArithmeticLiterals: an operation on two literals that overflows is
// found at load, where expr would have folded it silently.
func TestArithmeticLiterals(t *testing.T) {
	t.Parallel()
	_, err := LoadText([]byte(`
p:
  vars: {x: 0}
  threads:
    A:
      - atomic_set: x = 9223372036854775807 + 1
      - atomic_set: x = 4611686018427387904 * 2 + x
      - atomic_set: x = 7 % 0
      - atomic_set: x = 9223372036854775807 - 1 + x
`))
	if err == nil {
		t.Fatal("loaded; want overflow errors")
	}
	want := []string{
		"6:25: atomic_set: 9223372036854775807 + 1: 9223372036854775807 + 1 overflows (integers are 64-bit)",
		"7:25: atomic_set: 4611686018427387904 * 2 + x: 4611686018427387904 * 2 overflows (integers are 64-bit)",
		"8:27: atomic_set: integer divide by zero", // expr's own check
	}
	if got := err.Error(); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}
