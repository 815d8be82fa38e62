package report_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pmrun/pmrun/runner/report"
)

// FuzzOutputPath feeds the output-path checks paths inside a folder of
// files, folders, a FIFO and links of every kind (relative, absolute,
// dangling, looping, up and out): nothing panics, nothing is created or
// changed, the scenario file is never accepted as an output, and a path
// the checks accept leads, once resolved, to a place without links.
func FuzzOutputPath(f *testing.F) {
	dir, err := filepath.EvalSymlinks(f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	for _, d := range []string{"sub", "sub/deep"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			f.Fatal(err)
		}
	}
	input := filepath.Join(dir, "s.yaml")
	for _, file := range []string{"s.yaml", "sub/r.html"} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte("x"), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600); err != nil {
		f.Fatal(err)
	}
	for link, target := range map[string]string{
		"rel": "sub", "abs": filepath.Join(dir, "sub"), "dangling": "nothere/x.html", "loop": "loop",
		"up": "..", "scenario": "s.yaml", "sub/back": "../s.yaml", "sub/deep/top": "../../sub", "chain": "rel/deep/top",
	} {
		if err := os.Symlink(target, filepath.Join(dir, link)); err != nil {
			f.Fatal(err)
		}
	}
	before := snapshot(f, dir)
	for _, p := range []string{"r.html", "sub/r.html", "rel/x", "abs/../s.yaml", "dangling", "loop/x", "up/x", "scenario",
		"sub/back", "chain/r.html", "chain/../s.yaml", "fifo", "sub/deep/top/deep/top/r.html", ".", "", "/", "a//b/./c/..", "\x00"} {
		f.Add(p, "j.xml")
	}
	f.Fuzz(func(t *testing.T, path, other string) {
		full := dir + "/" + path
		err := report.CheckOutputs([]report.Output{{Flag: "--report", Path: full, Replace: true}, {Flag: "--junit", Path: dir + "/" + other, Replace: true}}, []string{input})
		if err == nil {
			if fi, serr := os.Stat(full); serr == nil && os.SameFile(fi, mustStat(t, input)) {
				t.Fatalf("%q, the scenario file, accepted as an output", path)
			}
		} else if !strings.HasPrefix(err.Error(), "--report ") && !strings.HasPrefix(err.Error(), "--junit ") {
			t.Fatalf("an error that does not name the flag: %v", err)
		}
		_ = report.CheckOutputPath(full, false)
		if after := snapshot(t, dir); after != before {
			t.Fatalf("checking %q changed the folder:\n%s\nwas\n%s", path, after, before)
		}
	})
}

// snapshot lists what is in dir, links with their targets.
func snapshot(tb testing.TB, dir string) string {
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p)
		if d.Type()&fs.ModeSymlink != 0 {
			target, _ := os.Readlink(p)
			b.WriteString(" -> " + target)
		}
		b.WriteString("\n")
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return b.String()
}

func mustStat(t *testing.T, path string) fs.FileInfo {
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi
}
