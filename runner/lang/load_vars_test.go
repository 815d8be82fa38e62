package lang_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/runner/internal/probe"
	"github.com/pmrun/pmrun/runner/lang"
)

// TestVarOverrides: a --var value is read for the type of its var in the
// file, and a value of the wrong type is an error at the var's value.
func TestVarOverrides(t *testing.T) {
	t.Parallel()
	const file = "name: x\nvars: {items: 200, ratio: 0.5, on: true, label: x, list: [a], any: ~}\nsteps:\n  - log: a\n"
	tests := []struct {
		name, value string
		want        any    // the var's value, when no error
		err         string // LINE:COL: message prefix
	}{
		{"items", "500", 500, ""},
		{"items", "abc", nil, `2:15: --var items=abc: the var is a whole number in the file (200), not "abc"`},
		{"items", "2.5", nil, `2:15: --var items=2.5: the var is a whole number in the file`},
		{"ratio", "1", 1.0, ""},
		{"ratio", "0.25", 0.25, ""},
		{"ratio", "half", nil, `2:27: --var ratio=half: the var is a number in the file (0.5)`},
		{"on", "false", false, ""},
		{"on", "yes", nil, `2:36: --var on=yes: the var is true or false in the file`},
		{"label", "500", "500", ""},
		{"label", "", "", ""},
		{"list", "[b, c]", []any{"b", "c"}, ""},
		{"list", "b", nil, `2:58: --var list=b: the var is a list in the file`},
		{"any", "7", 7, ""},
		{"any", "[1, 2]", "[1, 2]", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name+"="+tt.value, func(t *testing.T) {
			t.Parallel()
			sc, err := lang.Parse("s.yaml", []byte(file), lang.LoadOptions{Registry: probe.Registry(), Vars: map[string]string{tt.name: tt.value}})
			if tt.err != "" {
				var le lang.LoadErrors
				if !errors.As(err, &le) || len(le) != 1 {
					t.Fatalf("want one load error, got %v", err)
				}
				if got := fmt.Sprintf("%d:%d: %s", le[0].Line, le[0].Col, le[0].Msg); !strings.HasPrefix(got, tt.err) {
					t.Fatalf("got  %s\nwant %s…", got, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.Vars[tt.name]; !reflect.DeepEqual(got, tt.want) {
				t.Errorf("var %s = %#v, want %#v", tt.name, got, tt.want)
			}
		})
	}
}

// TestVarNotDeclared: a --var the file does not declare is not its var
// (expressions cannot name it), and UndeclaredVar tells the command line,
// with the nearest name.
func TestVarNotDeclared(t *testing.T) {
	t.Parallel()
	sc, err := lang.Parse("s.yaml", []byte("name: x\nvars: {items: 1}\nsteps:\n  - log: a\n"), lang.LoadOptions{Registry: probe.Registry(), Vars: map[string]string{"itemz": "500"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := sc.Vars["itemz"]; ok || sc.Vars["items"] != 1 {
		t.Errorf("vars %v, want items=1 only", sc.Vars)
	}
	_, err = lang.Parse("s.yaml", []byte("name: x\nsteps:\n  - assert: vars.extra == 1\n"), lang.LoadOptions{Registry: probe.Registry(), Vars: map[string]string{"extra": "1"}})
	if err == nil || !strings.Contains(err.Error(), `unknown var "extra"`) {
		t.Errorf("an undeclared var named in an expression: %v", err)
	}
	if err := lang.UndeclaredVar("itemz", []string{"items", "nap"}); err == nil || !strings.Contains(err.Error(), `no scenario declares a var "itemz", did you mean "items"?`) {
		t.Errorf("UndeclaredVar: %v", err)
	}
	if err := lang.UndeclaredVar("items", []string{"nap", "items"}); err != nil {
		t.Errorf("a declared var: %v", err)
	}
	if err := lang.UndeclaredVar("x", nil); err == nil || !strings.Contains(err.Error(), "declares no vars") {
		t.Errorf("no vars at all: %v", err)
	}
}

// TestValuesKnownAtLoad: a parameter whose value names only vars is
// checked at load, as a run would check it, --var included; one that
// names a step's result is left to the run.
func TestValuesKnownAtLoad(t *testing.T) {
	t.Parallel()
	const file = "name: x\nvars: {n: 3, d: 1s}\nsteps:\n  - id: a\n    probe: {n: \"${{ vars.n }}\", every: \"${{ vars.d }}\"}\n  - probe: {n: \"${{ steps.a.n * 100 }}\"}\n"
	tests := []struct {
		vars map[string]string
		want string
	}{
		{nil, ""},
		{map[string]string{"n": "0"}, "5:16: n: 0 is below the minimum 1 (the value of ${{ vars.n }}, from vars)"},
		{map[string]string{"n": "11"}, "5:16: n: 11 is above the maximum 10"},
		{map[string]string{"d": "soon"}, `5:40: every: bad duration "soon"`},
	}
	for _, tt := range tests {
		_, err := lang.Parse("s.yaml", []byte(file), lang.LoadOptions{Registry: probe.Registry(), Vars: tt.vars})
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.vars, err)
			}
			continue
		}
		var le lang.LoadErrors
		if !errors.As(err, &le) || len(le) != 1 {
			t.Fatalf("%v: want one load error, got %v", tt.vars, err)
		}
		if got := fmt.Sprintf("%d:%d: %s", le[0].Line, le[0].Col, le[0].Msg); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%v:\n got %s\nwant %s…", tt.vars, got, tt.want)
		}
	}
}

// TestSizeCap: a file over the cap is refused before it is parsed.
func TestSizeCap(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(path, []byte("name: x\nsteps:\n"+strings.Repeat("  - log: a\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := lang.LoadFile(path, lang.LoadOptions{Registry: probe.Registry(), MaxSize: 1 << 20}); err != nil {
		t.Fatalf("under the cap: %v", err)
	}
	_, err := lang.LoadFile(path, lang.LoadOptions{Registry: probe.Registry(), MaxSize: 1024})
	if err == nil || !strings.Contains(err.Error(), "big.yaml:1:1: the file is larger than 1 KiB") || !strings.Contains(err.Error(), lang.MaxSizeEnv) {
		t.Errorf("over the cap: %v", err)
	}
}

// TestSizeCapEndless: a file without an end (/dev/zero) is read no further
// than the cap. Not parallel: TotalAlloc counts the whole process, and
// parallel tests do not run while a serial one does.
func TestSizeCapEndless(t *testing.T) {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := lang.CheckFile("/dev/zero", lang.LoadOptions{Registry: probe.Registry(), MaxSize: 4 << 20})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "larger than 4 MiB") {
		t.Errorf("/dev/zero: %v", err)
	}
	// Reading a little past the cap, in a buffer that grows by doubling,
	// allocates a few times the cap; an unbounded read would not stop.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Errorf("reading /dev/zero under a 4 MiB cap allocated %d MiB", grew>>20)
	}
}

func TestMaxSizeEnv(t *testing.T) {
	t.Setenv(lang.MaxSizeEnv, "")
	if n, err := lang.MaxSize(); err != nil || n != lang.DefaultMaxSize {
		t.Errorf("unset: %d %v", n, err)
	}
	t.Setenv(lang.MaxSizeEnv, "64MiB")
	if n, err := lang.MaxSize(); err != nil || n != 64<<20 {
		t.Errorf("64MiB: %d %v", n, err)
	}
	t.Setenv(lang.MaxSizeEnv, "lots")
	if _, err := lang.MaxSize(); err == nil || !strings.Contains(err.Error(), lang.MaxSizeEnv+"=lots") {
		t.Errorf("lots: %v", err)
	}
}

// TestReadFIFO: a FIFO is opened without blocking. One that nothing
// writes into is an error at once, not a wait in open(2) that no signal
// ends; one that a writer fills loads; one whose writer keeps it open and
// writes nothing is given up when the context ends.
func TestReadFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		if err := unix.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// within runs read, and fails the test if it has not returned when
	// the test is otherwise over; the FIFO's writer end then frees it.
	within := func(path string, read func() error) error {
		done := make(chan error, 1)
		go func() { done <- read() }()
		select {
		case err := <-done:
			return err
		case <-time.After(time.Minute):
			if w, err := os.OpenFile(path, os.O_WRONLY|unix.O_NONBLOCK, 0); err == nil {
				w.Close()
			}
			t.Fatalf("%s: still blocked after a minute", path)
			return nil
		}
	}

	empty := fifo("empty.yaml")
	err := within(empty, func() error { _, err := lang.LoadFile(empty, lang.LoadOptions{Registry: probe.Registry()}); return err })
	if err == nil || !strings.Contains(err.Error(), "empty.yaml:1:1: it is a FIFO and nothing was written into it: start its writer first") {
		t.Errorf("a FIFO nothing writes into: %v", err)
	}

	filled := fifo("filled.yaml")
	w := make(chan error, 1)
	r, err := os.OpenFile(filled, os.O_RDONLY|unix.O_NONBLOCK, 0) // so that the writer's open does not block
	if err != nil {
		t.Fatal(err)
	}
	wf, err := os.OpenFile(filled, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := wf.WriteString("name: f\nsteps: [{log: hi}]\n")
		w <- errors.Join(err, wf.Close())
	}()
	if err := <-w; err != nil {
		t.Fatal(err)
	}
	sc, err := lang.LoadFile(filled, lang.LoadOptions{Registry: probe.Registry()})
	r.Close()
	if err != nil || sc.Name != "f" {
		t.Errorf("a FIFO a writer filled: %v", err)
	}

	silent := fifo("silent.yaml")
	hold, err := os.OpenFile(silent, os.O_RDWR, 0) // a writer that writes nothing
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	ctx, cancel := context.WithCancelCause(t.Context())
	stop := errors.New("stopped")
	go func() { time.Sleep(50 * time.Millisecond); cancel(stop) }()
	err = within(silent, func() error { _, err := lang.ReadScenario(ctx, silent, 0); return err })
	if !errors.Is(err, stop) {
		t.Errorf("a FIFO whose writer writes nothing, the context ended: %v", err)
	}
}
