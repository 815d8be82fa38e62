package report_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pmrun/pmrun/actions"
	"github.com/pmrun/pmrun/runner/report"
)

// TestOutputMode: a report, a trace and a JUnit file hold process output
// and message payloads: a new one is created 0600, like the log.
func TestOutputMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tl := report.NewTimeline(actions.Registry(), 0, nil)
	for name, write := range map[string]func(string) error{
		"r.html": func(p string) error { return report.WriteHTMLFile(t.Context(), p, nil, tl) },
		"t.json": func(p string) error { return tl.WriteTraceFile(t.Context(), p) },
		"j.xml":  func(p string) error { return report.WriteJUnit(t.Context(), p, nil, report.JUnitRun{}) },
	} {
		path := filepath.Join(dir, name)
		if err := write(path); err != nil {
			t.Fatal(err)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600 (%v)", name, fi.Mode().Perm(), err)
		}
	}
}

// TestOutputErrors: a write that fails names the user's path, never the
// temporary file, and leaves none behind; a FIFO nobody reads is an
// error at once.
func TestOutputErrors(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full")
	}
	err := report.WriteHTMLFile(t.Context(), "/dev/full", nil, nil)
	if err == nil || err.Error() != "/dev/full: write: no space left on device" {
		t.Errorf("/dev/full: %v", err)
	}

	dir := t.TempDir()
	fifo := filepath.Join(dir, "report.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- report.WriteJUnit(t.Context(), fifo, nil, report.JUnitRun{}) }()
	select {
	case err := <-done:
		if err == nil || !strings.HasPrefix(err.Error(), fifo+": ") || !strings.Contains(err.Error(), "FIFO that nothing reads") {
			t.Errorf("a FIFO without a reader: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("writing into a FIFO without a reader blocked")
	}

	// A reader that stops reading: AbortWrites abandons the write when
	// its context ends (Ctrl-C while pmrun writes a report).
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer report.AbortWrites(ctx, w)()
	wrote := make(chan error, 1)
	go func() {
		_, err := w.Write(make([]byte, 1<<20)) // more than the pipe holds
		wrote <- err
	}()
	select {
	case err := <-wrote:
		t.Fatalf("a write of 1 MiB into a pipe nobody reads returned: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	cancel()
	select {
	case err := <-wrote:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("abandoned write: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the write went on after its context ended")
	}
}

// TestCheckOutputs: an output over a scenario file being run (by device
// and inode, through a link or another spelling) or over another output
// (by path, before either exists) is refused before the run.
func TestCheckOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	in := filepath.Join(dir, "s.yaml")
	if err := os.WriteFile(in, []byte("name: s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(in, filepath.Join(dir, "link.yaml")); err != nil {
		t.Fatal(err)
	}
	out := func(flag, path string) report.Output {
		return report.Output{Flag: flag, Path: path, Replace: flag != "--log"}
	}
	tests := []struct {
		outputs []report.Output
		want    string
	}{
		{[]report.Output{out("--log", filepath.Join(dir, "pmrun.log")), out("--report", filepath.Join(dir, "r.html"))}, ""},
		{[]report.Output{out("--report", in)}, "that is the scenario file " + in},
		{[]report.Output{out("--log", dir+"/./s.yaml")}, "that is the scenario file"},
		{[]report.Output{out("--junit", filepath.Join(dir, "link.yaml"))}, "that is the scenario file"},
		{[]report.Output{out("--junit", filepath.Join(dir, "x.xml")), out("--trace", dir+"/sub/../x.xml")}, "sub does not exist"},
		{[]report.Output{out("--junit", filepath.Join(dir, "x.xml")), out("--trace", dir+"/./x.xml")}, "--junit writes that file too"},
		{[]report.Output{out("--log", "/dev/stdout"), out("--report", "/dev/stdout")}, ""},
	}
	for _, tt := range tests {
		err := report.CheckOutputs(tt.outputs, []string{in})
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%v: %v", tt.outputs, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%v: got %v, want %q", tt.outputs, err, tt.want)
		}
	}
	if b, _ := os.ReadFile(in); string(b) != "name: s\n" {
		t.Errorf("the scenario file changed: %q", b)
	}
}
