package outfile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestResolve: links are followed, relative and absolute, through folders
// and to files still to be created; loops and missing folders are errors.
func TestResolve(t *testing.T) {
	t.Parallel()
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	mustMkdir(t, filepath.Join(dir, "real"), 0o755)
	mustLink(t, "real", filepath.Join(dir, "rel"))
	mustLink(t, filepath.Join(dir, "real"), filepath.Join(dir, "abs"))
	mustLink(t, "real/new.html", filepath.Join(dir, "dangling"))
	mustLink(t, "loop", filepath.Join(dir, "loop"))
	mustLink(t, "../real/x", filepath.Join(dir, "real", "up"))
	mustMkdir(t, filepath.Join(dir, "real", "deep"), 0o755)
	mustLink(t, "real/deep", filepath.Join(dir, "deeplink"))
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path, want, err string
	}{
		{"real/a", "real/a", ""},
		{"rel/a", "real/a", ""},
		{"abs/a", "real/a", ""},
		{"dangling", "real/new.html", ""},
		{"real/up", "real/x", ""},
		{"rel/../file", "file", ""},
		{"deeplink/../f", "real/f", ""}, // .. after a link: the parent of where it leads
		{"loop", "", "too many levels of symbolic links"},
		{"missing/a", "", "the folder " + filepath.Join(dir, "missing") + " does not exist"},
		{"file/a", "", "not a directory"},
	}
	for _, tt := range tests {
		got, err := Resolve(dir + "/" + tt.path) // not Join, which would clean link/.. away
		switch {
		case tt.err != "":
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: got %q, %v; want an error with %q", tt.path, got, err, tt.err)
			}
		case err != nil:
			t.Errorf("%s: %v", tt.path, err)
		case got != filepath.Join(dir, tt.want):
			t.Errorf("%s: got %s, want %s", tt.path, got, filepath.Join(dir, tt.want))
		}
	}
}

// TestProtectedLinks: in a sticky, world-writable folder a link is
// followed only when its owner is the user or the folder's owner, as
// fs.protected_symlinks has it; elsewhere any link is. Planting a link
// owned by another user takes root (lchown): the test of pmrun as a user
// that is not root is TestOutputLinksAsUser in cmd/pmrun.
func TestProtectedLinks(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("making a link owned by another user needs root; cmd/pmrun's TestOutputLinksAsUser covers a user that is not root")
	}
	dir, _ := filepath.EvalSymlinks(t.TempDir())
	private := filepath.Join(dir, "private")
	mustMkdir(t, private, 0o700)
	shared := filepath.Join(dir, "shared")
	mustMkdir(t, shared, 0o777|fs.ModeSticky)
	const other = 65534 // nobody
	for _, tt := range []struct {
		name   string
		owner  int
		dirMod fs.FileMode
		ok     bool
	}{
		{"another user's link in a sticky folder", other, 0o777 | fs.ModeSticky, false},
		{"my link in a sticky folder", 0, 0o777 | fs.ModeSticky, true},
		{"another user's link in a folder that is not sticky", other, 0o777, true},
		{"another user's link in a sticky folder only its owner writes", other, 0o755 | fs.ModeSticky, true},
	} {
		d := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
		mustMkdir(t, d, tt.dirMod)
		link := filepath.Join(d, "report.html")
		mustLink(t, filepath.Join(private, "secret"), link)
		if err := os.Lchown(link, tt.owner, tt.owner); err != nil {
			t.Fatal(err)
		}
		got, err := Resolve(link)
		var le *LinkError
		switch {
		case tt.ok && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.ok && got != filepath.Join(private, "secret"):
			t.Errorf("%s: resolved to %s", tt.name, got)
		case !tt.ok && !errors.As(err, &le):
			t.Errorf("%s: followed to %s (%v)", tt.name, got, err)
		case !tt.ok && (le.Owner != other || le.Dir != d || !strings.Contains(err.Error(), "does not follow it")):
			t.Errorf("%s: %v", tt.name, err)
		}
	}
	// The rule holds for a link among the folders too.
	d := filepath.Join(dir, "another_user's_link_in_a_sticky_folder")
	mustLink(t, private, filepath.Join(d, "dir"))
	if err := os.Lchown(filepath.Join(d, "dir"), other, other); err != nil {
		t.Fatal(err)
	}
	if _, err := Resolve(filepath.Join(d, "dir", "secret")); !errors.As(err, new(*LinkError)) {
		t.Errorf("a planted link to a folder was followed: %v", err)
	}
	if _, err := OpenAppend(filepath.Join(d, "dir", "log")); !errors.As(err, new(*LinkError)) {
		t.Errorf("the log was opened through a planted link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(private, "log")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a log was created in the private folder: %v", err)
	}
}

// TestOpenAppend: the log is created 0600; a FIFO nobody reads is an
// error at once, not a wait; one with a reader is written into.
func TestOpenAppend(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f, err := OpenAppend(filepath.Join(dir, "pmrun.log"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fi, err := os.Stat(filepath.Join(dir, "pmrun.log")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the log's mode: %v %v", fi.Mode(), err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := OpenAppend(fifo)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "FIFO that nothing reads") {
			t.Errorf("a FIFO without a reader: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("opening a FIFO without a reader blocked")
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := OpenAppend(fifo)
	if err != nil {
		t.Fatalf("a FIFO with a reader: %v", err)
	}
	w.Close()
	if _, err := OpenAppend(dir); err == nil || !strings.Contains(err.Error(), "folder") {
		t.Errorf("a folder as the log: %v", err)
	}
}

// TestSameFile: one file by device and inode, through links and other
// spellings, and by path for a file not created yet.
func TestSameFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	if err := os.WriteFile(a, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	mustLink(t, a, filepath.Join(dir, "link"))
	if err := os.Link(a, filepath.Join(dir, "hard")); err != nil {
		t.Fatal(err)
	}
	for _, same := range []string{a, filepath.Join(dir, ".", "a.yaml"), filepath.Join(dir, "link"), filepath.Join(dir, "hard")} {
		if !SameFile(same, a) {
			t.Errorf("%s is not a.yaml", same)
		}
	}
	mustMkdir(t, filepath.Join(dir, "sub"), 0o700)
	if SameFile(filepath.Join(dir, "b"), a) || !SameFile(filepath.Join(dir, "new"), filepath.Join(dir, "sub")+"/../new") {
		t.Error("files not created yet: compared wrong")
	}
}

func mustMkdir(t *testing.T, path string, mode fs.FileMode) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // the umask left out
		t.Fatal(err)
	}
}

func mustLink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
}

// TestErrText: an error's text names no path, which may be a temporary
// file's: the caller names the user's.
func TestErrText(t *testing.T) {
	t.Parallel()
	for _, err := range []error{
		&fs.PathError{Op: "write", Path: "/d/.r.html.123", Err: syscall.ENOSPC},
		&os.LinkError{Op: "rename", Old: "/d/.r.html.123", New: "/d/r.html", Err: syscall.EXDEV},
	} {
		if got := ErrText(err); strings.Contains(got, "/d/") {
			t.Errorf("%v: %q names a path", err, got)
		}
	}
}
