// Package outfile finds and opens the files pmrun writes — the log, the
// HTML report, the trace, the JUnit file — as a program run by root in a
// shared folder must:
//
//   - A symbolic link is followed only where Linux's fs.protected_symlinks
//     would follow it: in a sticky, world-writable folder (/tmp), a link
//     whose owner is neither the user nor the folder's owner is refused,
//     so a link another user planted cannot make pmrun write over a file
//     of its own choosing. pmrun applies the rule itself, link by link,
//     because it resolves links in user space (to replace a report whole)
//     and because the kernel's own switch may be off.
//   - Once resolved, a file is opened with O_NOFOLLOW, so a link swapped
//     in after the check is refused, not followed.
//   - A FIFO or device is opened with O_NONBLOCK: a FIFO nobody reads
//     fails at once (ENXIO) instead of blocking pmrun, deaf to Ctrl-C.
//   - Files are created with mode 0600: they hold process output and
//     message payloads.
package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// Perm is the mode of the files pmrun creates (less the umask).
const Perm = 0o600

// maxLinks is the kernel's MAXSYMLINKS: more links than this in one path
// is a loop.
const maxLinks = 40

// LinkError is a symbolic link pmrun refuses to follow: it lies in a
// sticky, world-writable folder and belongs to someone who is neither the
// user nor the folder's owner.
type LinkError struct {
	Link       string // the link, its folders' links resolved
	Owner      int    // the link's owner
	Dir        string // the sticky folder it lies in
	DirOwner   int
	FollowerID int // the effective user pmrun runs as
}

func (e *LinkError) Error() string {
	return fmt.Sprintf("%s is a symbolic link owned by another user (uid %d) in the shared folder %s: pmrun does not follow it (the fs.protected_symlinks rule); name the file itself", e.Link, e.Owner, e.Dir)
}

// Resolve returns the file path names, its symbolic links followed, each
// only as the protected_symlinks rule allows (see [LinkError]). The file
// itself need not exist, but its folder must. The result is absolute and
// holds no link, as long as nobody changes the folders meanwhile.
func Resolve(path string) (string, error) {
	if path == "" {
		return "", errors.New("no file named")
	}
	// Not filepath.Abs, which would clean link/.. away: the kernel takes
	// .. after a link from where the link leads.
	abs := path
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		abs = wd + "/" + path
	}
	rest := strings.Split(strings.TrimPrefix(abs, "/"), "/")
	done := "/"
	links := 0
	for len(rest) > 0 {
		c := rest[0]
		rest = rest[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			done = filepath.Dir(done) // done holds no link: this is its real parent
			continue
		}
		next := filepath.Join(done, c)
		fi, err := os.Lstat(next)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				if len(rest) == 0 {
					return next, nil // a file still to be created
				}
				return "", fmt.Errorf("the folder %s does not exist", next)
			}
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			if len(rest) > 0 && !fi.IsDir() {
				return "", &fs.PathError{Op: "open", Path: next, Err: syscall.ENOTDIR}
			}
			done = next
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "open", Path: abs, Err: syscall.ELOOP}
		}
		if err := mayFollow(next, fi, done); err != nil {
			return "", err
		}
		target, err := os.Readlink(next)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(target, "/") {
			done = "/"
		}
		rest = append(strings.Split(target, "/"), rest...)
	}
	return done, nil
}

// mayFollow applies the protected_symlinks rule to the link at path (fi
// its Lstat) in folder dir: in a sticky, world-writable folder, only a
// link owned by the user or by the folder's owner is followed.
func mayFollow(path string, fi fs.FileInfo, dir string) error {
	di, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if di.Mode()&fs.ModeSticky == 0 || di.Mode().Perm()&0o002 == 0 {
		return nil
	}
	owner, dirOwner, me := ownerOf(fi), ownerOf(di), os.Geteuid()
	if owner == me || owner == dirOwner {
		return nil
	}
	return &LinkError{Link: path, Owner: owner, Dir: dir, DirOwner: dirOwner, FollowerID: me}
}

func ownerOf(fi fs.FileInfo) int {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int(st.Uid)
	}
	return -1
}

// Target is a file an output goes to, found by [Find].
type Target struct {
	Path string      // resolved: absolute, without links
	Info fs.FileInfo // nil when the file does not exist yet
}

// Regular reports whether the output replaces or creates a regular file
// (rather than writing into a FIFO or a device).
func (t Target) Regular() bool { return t.Info == nil || t.Info.Mode().IsRegular() }

// Find resolves path and says what is there: nothing yet, a regular file,
// or a FIFO or device to write into. A folder, a socket, a missing folder,
// a refused link and a file pmrun could not write are errors: for a
// report (replace) the folder must take new files, since a report is
// written beside its file and renamed over it; for the log, the file must
// take writes, or the folder a new file.
func Find(path string, replace bool) (Target, error) {
	real, err := Resolve(path)
	if err != nil {
		return Target{}, err
	}
	t := Target{Path: real}
	fi, err := os.Lstat(real)
	switch {
	case err == nil:
		t.Info = fi
	case !errors.Is(err, fs.ErrNotExist):
		return Target{}, err
	}
	switch {
	case t.Info != nil && t.Info.IsDir():
		return Target{}, errors.New("it is a folder")
	case t.Info != nil && t.Info.Mode()&fs.ModeSocket != 0:
		return Target{}, errors.New("it is a socket")
	case t.Info != nil && !t.Regular():
		// A FIFO or a device: written into as it is.
	case t.Info != nil && !replace:
		if err := writable(real, unix.W_OK); err != nil {
			return Target{}, fmt.Errorf("pmrun may not write it: %v", ErrText(err))
		}
	default:
		dir := filepath.Dir(real)
		if err := writable(dir, unix.W_OK|unix.X_OK); err != nil {
			return Target{}, fmt.Errorf("pmrun cannot create files in its folder %s: %v", dir, ErrText(err))
		}
	}
	return t, nil
}

// writable checks access to path for the effective user.
func writable(path string, mode uint32) error {
	if err := unix.Faccessat(unix.AT_FDCWD, path, mode, unix.AT_EACCESS); err != nil {
		return &fs.PathError{Op: "access", Path: path, Err: err}
	}
	return nil
}

// OpenAppend opens the file path names for appending (the log), creating
// it with mode [Perm]; see [Find] and the package doc for the rules. Its
// errors do not repeat path.
func OpenAppend(path string) (*os.File, error) {
	t, err := Find(path, false)
	if err != nil {
		return nil, err
	}
	return open(t.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE)
}

// OpenInto opens an existing FIFO or device for writing, without blocking
// on a FIFO nobody reads.
func OpenInto(t Target) (*os.File, error) {
	return open(t.Path, os.O_WRONLY)
}

func open(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY, Perm)
	switch {
	case errors.Is(err, unix.ENXIO):
		return nil, errors.New("it is a FIFO that nothing reads: start its reader first")
	case errors.Is(err, unix.ELOOP):
		return nil, errors.New("it became a symbolic link while pmrun was opening it: not followed")
	case err != nil:
		return nil, errors.New(ErrText(err))
	}
	return f, nil
}

// CreateBeside creates a new, hidden file in the folder of target (a
// resolved path) to write a report into before it is renamed over
// target; mode is its permission bits.
func CreateBeside(target string, mode fs.FileMode, random func() uint32) (*os.File, error) {
	for range 100 {
		name := filepath.Join(filepath.Dir(target), fmt.Sprintf(".%s.%d", filepath.Base(target), random()))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, mode)
		if !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, fmt.Errorf("no free name for a temporary file beside %s", target)
}

// SameFile reports whether a and b, which need not exist, are one file:
// the same device and inode when both exist, else the same resolved path.
func SameFile(a, b string) bool {
	ra, errA := Resolve(a)
	rb, errB := Resolve(b)
	if errA != nil || errB != nil {
		return false
	}
	fa, errA := os.Stat(ra)
	fb, errB := os.Stat(rb)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	return ra == rb
}

// ErrText is an error's text for a message that names the file itself:
// the operation and the reason, without the path a *fs.PathError would
// add (which may be a temporary file's).
func ErrText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	var le *os.LinkError // a rename's: both paths, one a temporary file's
	if errors.As(err, &le) {
		return le.Op + ": " + le.Err.Error()
	}
	return err.Error()
}
