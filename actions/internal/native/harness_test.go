package native

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions/internal/control"
	"github.com/pmrun/pmrun/actions/internal/engine"
	pl "github.com/pmrun/pmrun/actions/internal/preload"
	"github.com/pmrun/pmrun/actions/internal/proc"
)

// The test programs, compiled once per test binary into one folder.
var programs struct {
	sync.Mutex
	dir  string
	bins map[string]string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if programs.dir != "" {
		os.RemoveAll(programs.dir)
	}
	os.Exit(code)
}

// compile builds testdata/NAME.c (with pmrun.h on the include path) and
// returns the binary; extra are more compiler flags. It skips the test
// without a C compiler.
func compile(t *testing.T, name string, extra ...string) string {
	t.Helper()
	cc, err := pl.Compiler()
	if err != nil {
		t.Skip(err)
	}
	programs.Lock()
	defer programs.Unlock()
	key := fmt.Sprint(name, extra)
	if bin, ok := programs.bins[key]; ok {
		return bin
	}
	if programs.dir == "" {
		if programs.dir, err = os.MkdirTemp("", "pmrun-native-test-"); err != nil {
			t.Fatal(err)
		}
		programs.bins = map[string]string{}
		header := filepath.Join(programs.dir, "pmrun.h")
		if err := os.WriteFile(header, []byte(pl.HeaderText()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sub := filepath.Join(programs.dir, fmt.Sprint(len(programs.bins)))
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(sub, name)
	args := append([]string{cc, "-g", "-O1", "-pthread", "-I", programs.dir, "-o", bin, filepath.Join("testdata", name+".c")}, extra...)
	tab, err := proc.NewTable(proc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close(context.Background(), time.Second)
	p, err := tab.Start(proc.Spec{Name: "cc", Argv: args})
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.Wait(context.Background())
	if err != nil || !e.Success {
		t.Fatalf("compile %s: %v\n%s", name, err, e.Stderr)
	}
	programs.bins[key] = bin
	return bin
}

// result is what a strategy found, with what the shown run left beside.
type result struct {
	engine.Outcome
	notes []string
	exit  proc.Exit
}

// search runs the strategy opts names (replay, when opts.Replay is set)
// on p's threads, as the controlled action does; it shrinks a failure.
func search(t *testing.T, p *Program, ex Expect, opts control.Options) (result, error) {
	t.Helper()
	th := p.Threads(t.Context(), ex)
	if opts.MaxSteps == 0 {
		opts.MaxSteps = DefaultMaxSteps
	}
	opts.Shrink = true
	out, err := control.Run(t.Context(), control.ThreadsSystem(func() (engine.Threads, error) { return th, nil }), opts)
	notes, exit := th.Shown()
	return result{Outcome: out, notes: notes, exit: exit}, err
}

// table prints a run's interleaving for a test's log and comparisons.
func table(o result) string {
	if o.Interleaving == nil {
		return ""
	}
	return o.Interleaving.Format()
}

// runLimit bounds a run of a test program, and its wait for the first
// call to the library: the whole suite under the race detector on a
// loaded machine once took more than the 10 s of DefaultTimeout for a run
// of buffer.c (TestSearchFinds/buffer), which takes milliseconds alone. A
// run that hangs still fails, later.
const runLimit = 2 * time.Minute

// prepare compiles testdata/NAME.c and prepares it to run under control.
func prepare(t *testing.T, name string, extra ...string) *Program {
	t.Helper()
	bin := compile(t, name, extra...)
	p, err := Prepare(t.Context(), Config{Argv: []string{bin}, Timeout: runLimit, Handshake: runLimit})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
