package report

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/runner/internal/outfile"
	"github.com/pmrun/pmrun/runner/lang"
)

// Output names a file a run writes: the log, or a report.
type Output struct {
	Flag string // how messages name it: --log, --report, --trace, --junit
	Path string // as given
	// Replace: the output is written whole at the end, into a new file
	// renamed over its path (a report); otherwise appended to (the log).
	Replace bool
}

// CheckOutputs checks, before a run, that each output can be written:
// its folder exists and takes new files, it is no folder, it is reached
// through no link another user planted in a shared folder (see package
// outfile), it is none of the scenario files being run (inputs), and no
// two outputs are one file. Each error names the flag and the path.
func CheckOutputs(outputs []Output, inputs []string) error {
	for i, o := range outputs {
		if err := CheckOutputPath(o.Path, o.Replace); err != nil {
			return fmt.Errorf("%s %s: %v", o.Flag, o.Path, err)
		}
		if _, ok := inheritedFD(o.Path); ok {
			continue
		}
		for _, in := range inputs {
			if outfile.SameFile(o.Path, in) {
				return fmt.Errorf("%s %s: that is the scenario file %s, which this run reads: name another file", o.Flag, o.Path, in)
			}
		}
		for _, other := range outputs[:i] {
			if _, ok := inheritedFD(other.Path); !ok && outfile.SameFile(o.Path, other.Path) {
				return fmt.Errorf("%s %s: %s writes that file too: name another", o.Flag, o.Path, other.Flag)
			}
		}
	}
	return nil
}

// CheckOutputPath reports, before a run, why an output could not be
// written to path (see [CheckOutputs]); replace is [Output.Replace].
func CheckOutputPath(path string, replace bool) error {
	if fd, ok := inheritedFD(path); ok {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_GETFD, 0); err != nil {
			return fmt.Errorf("descriptor %d is not open", fd)
		}
		return nil
	}
	_, err := outfile.Find(path, replace)
	return err
}

// Existing says what an output at path would be written over, by the
// rules of [CheckOutputPath]: found is false when nothing is there yet
// (or path names one of pmrun's descriptors); a regular file's first
// bytes, up to n, are in head, and regular is false for a FIFO or device
// (whose head is not read). It lets a command refuse to replace a file
// that is not its own (pmrun menu --record).
func Existing(path string, n int) (head []byte, found, regular bool, err error) {
	if _, ok := inheritedFD(path); ok {
		return nil, false, false, nil
	}
	t, err := outfile.Find(path, true)
	if err != nil || t.Info == nil {
		return nil, false, t.Regular(), err
	}
	if !t.Regular() {
		return nil, true, false, nil
	}
	f, err := os.OpenFile(t.Path, os.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, true, true, errors.New(outfile.ErrText(err))
	}
	defer f.Close()
	head = make([]byte, n)
	m, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, true, true, errors.New(outfile.ErrText(err))
	}
	return head[:m], true, true, nil
}

// AbortWrites makes a pending or later write to f give up once ctx is done:
// a FIFO whose reader stopped reading would otherwise hold pmrun forever
// (a regular file's writes do not block, and are left alone). The
// returned function stops watching.
func AbortWrites(ctx context.Context, f *os.File) (stop func()) {
	stopAfter := context.AfterFunc(ctx, func() { _ = f.SetWriteDeadline(time.Now()) })
	return func() { stopAfter() }
}

// WriteFile writes an output whole through write: a regular file (or a
// new one) is written into a temporary file beside it and renamed over it
// once complete, so that an interrupted or failed write never leaves half
// a report under its name; a file it replaces keeps its mode, a new one
// gets 0600 less the umask. A symbolic link is followed as package
// outfile allows, the link kept. One of pmrun's own descriptors
// (/dev/stdout, /dev/fd/N) is written through that descriptor, at its
// offset (>> appends); a FIFO or a device is written into, without
// blocking on a FIFO nobody reads; ctx ending abandons a write to either.
// Errors name path, never the temporary file.
func WriteFile(ctx context.Context, path string, write func(io.Writer) error) error {
	if err := writeOutput(ctx, path, write); err != nil {
		return fmt.Errorf("%s: %s", path, outfile.ErrText(err))
	}
	return nil
}

func writeOutput(ctx context.Context, path string, write func(io.Writer) error) (err error) {
	if fd, ok := inheritedFD(path); ok {
		dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
		if err != nil {
			return err
		}
		f := os.NewFile(uintptr(dup), path)
		defer AbortWrites(ctx, f)()
		return writeTo(f, write)
	}
	t, err := outfile.Find(path, true)
	if err != nil {
		return err
	}
	if !t.Regular() {
		f, err := outfile.OpenInto(t)
		if err != nil {
			return err
		}
		defer AbortWrites(ctx, f)()
		return writeTo(f, write)
	}
	perm, keep := os.FileMode(outfile.Perm), false
	if t.Info != nil {
		perm, keep = t.Info.Mode().Perm(), true
	}
	f, err := outfile.CreateBeside(t.Path, perm, rand.Uint32)
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
	return os.Rename(f.Name(), t.Path)
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
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = errors.New("write abandoned: interrupted while the reader was not reading")
	}
	return err
}

// WriteTraceFile writes the timeline to path in Chrome's trace event
// format; see [Timeline.WriteTrace] and WriteFile.
func (t *Timeline) WriteTraceFile(ctx context.Context, path string) error {
	return WriteFile(ctx, path, t.WriteTrace)
}

// WriteHTMLFile writes the HTML report to path; see [WriteHTML].
func WriteHTMLFile(ctx context.Context, path string, outcomes []*lang.Outcome, tl *Timeline) error {
	return WriteFile(ctx, path, func(w io.Writer) error { return WriteHTML(w, outcomes, tl) })
}
