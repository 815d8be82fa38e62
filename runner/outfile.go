package runner

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// CheckOutputPath reports, before a run, why a report could not be
// written to path: its folder missing, or path a folder.
func CheckOutputPath(path string) error {
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
// A path that is a symbolic link is written through, the link kept; one
// that is not a regular file (/dev/stdout, a FIFO) is written directly.
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
	path, direct := target(path)
	if direct {
		return writeDirect(path, write)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
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
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// target returns the file a report for path goes to, and whether it must
// be written directly: /dev/stdout and the like, FIFOs and devices, which
// the kernel resolves (through /proc's magic links too), are; a regular
// file or a path through links to one that does not exist yet is replaced.
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

func writeDirect(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = write(bw)
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

// WriteReportFile writes the HTML report to path; see [WriteReport].
func WriteReportFile(path string, outcomes []*Outcome, tl *Timeline) error {
	return writeFileAtomic(path, func(w io.Writer) error { return WriteReport(w, outcomes, tl) })
}
