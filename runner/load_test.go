package runner_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/runner"
	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

// The loader's own tests are in package lang; these load a file and run
// it, to check that what was loaded is what runs.

func TestLoadValues(t *testing.T) {
	t.Parallel()
	src := `name: values
vars: {count: 4}
channels:
  jobs: {kind: fifo, framing: lines, max_message: 1MiB}
timeout: 30s
seed: 7
steps:
  - id: p
    probe:
      n: "${{ vars.count + 1 }}"
      text: "count is ${{ vars.count }}!"
      flag: true
      every: 250ms
      size: 4KiB
      argv: [echo, 3, "${{ vars.count * 2 }}"]
      env: {A: "1", B: "${{ vars.count }}"}
  - assert: steps.p.n == 5 && steps.p.text == "count is 4!" && steps.p.flag
  - assert: steps.p.every == duration("250ms") && steps.p.size == 4096
  - assert: 'steps.p.argv == ["echo", "3", "8"] && steps.p.env.B == "4"'
`
	sc, err := lang.Parse("v.yaml", []byte(src), lang.LoadOptions{Registry: probe.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	if sc.Timeout.String() != "30s" || sc.Seed == nil || *sc.Seed != 7 {
		t.Errorf("timeout %v seed %v", sc.Timeout, sc.Seed)
	}
	if len(sc.Channels) != 1 || sc.Channels[0].Kind != "fifo" || sc.Channels[0].Framing != "lines" || sc.Channels[0].MaxMessage != 1<<20 {
		t.Errorf("channels %+v", sc.Channels[0])
	}
	o := runner.Run(t.Context(), sc, runner.Options{RunID: "t"})
	if o.Status != lang.StatusPassed {
		t.Fatalf("status %s: %v", o.Status, o.Err)
	}
}

// TestLoadLongFile: a file long enough for the loader to compile on every
// CPU gives the same errors, with their true positions and in file order,
// and once mended runs every step with its own expression.
func TestLoadLongFile(t *testing.T) {
	t.Parallel()
	const n = 1500
	build := func(mistakes bool) (string, []string) {
		var b strings.Builder
		var want []string
		line := 1
		add := func(format string, args ...any) {
			fmt.Fprintf(&b, format+"\n", args...)
			line++
		}
		add("name: long")
		add("channels: {jobs: {}}")
		add("steps:")
		add("  - id: s0")
		add("    log: start")
		for i := 1; i < n; i++ {
			add("  - id: s%d", i)
			switch {
			case mistakes && i == 100:
				want = append(want, fmt.Sprintf(`%d:19: expression: unknown step id "nope"`, line))
				add("    assert: steps.nope.status == \"ok\"")
			case mistakes && i == 400:
				want = append(want, fmt.Sprintf(`%d:20: expression: unexpected token`, line))
				add("    log: \"n=${{ 1 + }}\"")
			case mistakes && i == 700:
				want = append(want, fmt.Sprintf(`%d:22: probe: channel: no channel named "jbos", did you mean "jobs"?`, line))
				add("    probe: {channel: jbos}")
			case mistakes && i == 1200:
				add("    log: x")
				want = append(want, fmt.Sprintf(`%d:13: expression: unexpected token EOF`, line))
				add("    if: \"1 ==\"")
			case i%3 == 0:
				add("    log: \"${{ steps.s%d.status }} %d\"", i-1, i)
			default:
				add("    assert: steps.s%d.status == \"ok\" && %d + 1 == %d", i-1, i, i+1)
			}
		}
		return b.String(), want
	}

	bad, want := build(true)
	for range 3 { // the same errors every time, whatever the scheduling
		_, err := lang.Parse("s.yaml", []byte(bad), lang.LoadOptions{Registry: probe.Registry()})
		var le lang.LoadErrors
		if !errors.As(err, &le) {
			t.Fatalf("want LoadErrors, got %v", err)
		}
		if len(le) != len(want) {
			t.Fatalf("got %d errors, want %d:\n%v", len(le), len(want), err)
		}
		for i := range want {
			if got := fmt.Sprintf("%d:%d: %s", le[i].Line, le[i].Col, le[i].Msg); !strings.HasPrefix(got, want[i]) {
				t.Errorf("error %d:\n got %s\nwant %s…", i, got, want[i])
			}
		}
	}

	good, _ := build(false)
	sc, err := lang.Parse("s.yaml", []byte(good), lang.LoadOptions{Registry: probe.Registry()})
	if err != nil {
		t.Fatal(err)
	}
	o := runner.Run(context.Background(), sc, runner.Options{})
	if o.Status != lang.StatusPassed {
		t.Fatalf("run: %s: %v", o.Status, o.Err)
	}
	if ok, _, _ := o.Counts(); ok != n {
		t.Errorf("%d steps ok, want %d", ok, n)
	}
}
