package report

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/runner/lang"
)

// CheckOutputPath reports, before a run, why a report could not be
// written to path: its folder missing, or path a folder.
func CheckOutputPath(path string) error {
	if fd, ok := inheritedFD(path); ok {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("descriptor %d is not open", fd)
		}
		return nil
	}
	path, direct := target(path)
	if direct {
		return nil
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if !fi.IsDir() {
		return fmt.Errorf("%s is not a folder", dir)
	}
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a folder", path)
	}
	return nil
}

// writeFileAtomic writes a report through write into a temporary file
// beside path and renames it over path once it is complete, so that an
// interrupted or failed write never leaves half a report under its name.
// A file it replaces keeps its mode; a new one gets 0644 less the umask.
// A path that is a symbolic link is written through, the link kept. One of
// pmrun's own descriptors (/dev/stdout, /dev/fd/N) is written through that
// descriptor, at its offset (>> appends); another file that is not a
// regular one (a FIFO, a device) is opened and written directly.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	if fd, ok := inheritedFD(path); ok {
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return writeTo(os.NewFile(uintptr(dup), path), write)
	}
	path, direct := target(path)
	if direct {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return err
		}
		return writeTo(f, write)
	}
	perm, keep := os.FileMode(0o644), false
	if fi, err := os.Stat(path); err == nil {
		perm, keep = fi.Mode().Perm(), true
	}
	f, err := createBeside(path, perm)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	bw := bufio.NewWriterSize(f, 64<<10)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if keep {
		if err := f.Chmod(perm); err != nil { // as it was, umask or not
			return err
		}
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// createBeside creates a new, hidden file next to path, with perm less
// the umask.
func createBeside(path string, perm os.FileMode) (*os.File, error) {
	for range 100 {
		name := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.%d", filepath.Base(path), rand.Uint32()))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("%s: no free name for a temporary file beside it", path)
}

// inheritedFD recognizes the names of a descriptor pmrun has open:
// /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N.
func inheritedFD(path string) (int, bool) {
	clean := filepath.Clean(path)
	switch clean {
	case "/dev/stdout":
		return 1, true
	case "/dev/stderr":
		return 2, true
	}
	for _, dir := range []string{"/dev/fd/", "/proc/self/fd/", fmt.Sprintf("/proc/%d/fd/", os.Getpid())} {
		if rest, ok := strings.CutPrefix(clean, dir); ok {
			if n, err := strconv.Atoi(rest); err == nil && n >= 0 {
				return n, true
			}
		}
	}
	return 0, false
}

// target returns the file a report for path goes to, and whether it must
// be written directly: a FIFO or a device is; a regular file, or a path
// through links to one that does not exist yet, is replaced.
func target(path string) (string, bool) {
	fi, err := os.Stat(path)
	switch {
	case err == nil && !fi.Mode().IsRegular() && !fi.IsDir():
		return path, true
	case err == nil:
		if real, err := filepath.EvalSymlinks(path); err == nil {
			return real, false
		}
		return path, false
	}
	return followLinks(path), false
}

// followLinks returns where path's symbolic links lead, the last one to
// a file that does not exist yet.
func followLinks(path string) string {
	for range 40 { // as the kernel's MAXSYMLINKS
		target, err := os.Readlink(path)
		if err != nil {
			return path // not a link (or not there): the path itself
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(path), target)
		}
		path = target
	}
	return path
}

// writeTo writes through write to f, and closes f.
func writeTo(f *os.File, write func(io.Writer) error) error {
	bw := bufio.NewWriterSize(f, 64<<10)
	err := write(bw)
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// WriteTraceFile writes the timeline to path in Chrome's trace event
// format; see [Timeline.WriteTrace].
func (t *Timeline) WriteTraceFile(path string) error {
	return writeFileAtomic(path, t.WriteTrace)
}

// WriteHTMLFile writes the HTML report to path; see [WriteHTML].
func WriteHTMLFile(path string, outcomes []*lang.Outcome, tl *Timeline) error {
	return writeFileAtomic(path, func(w io.Writer) error { return WriteHTML(w, outcomes, tl) })
}
