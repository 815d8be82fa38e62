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
func writeFileAtomic(path string, write func(io.Writer) error) (err error) {
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

// WriteTraceFile writes the timeline to path in Chrome's trace event
// format; see [Timeline.WriteTrace].
func (t *Timeline) WriteTraceFile(path string) error {
	return writeFileAtomic(path, t.WriteTrace)
}

// WriteReportFile writes the HTML report to path; see [WriteReport].
func WriteReportFile(path string, outcomes []*Outcome, tl *Timeline) error {
	return writeFileAtomic(path, func(w io.Writer) error { return WriteReport(w, outcomes, tl) })
}
