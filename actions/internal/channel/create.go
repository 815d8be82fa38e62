package channel

// Making a channel and handing its ends to other processes: the runner
// creates every channel of a run (Create), gives each child the
// descriptors of its ends (Spec, Files), and an agent makes its endpoint
// of them (Attach).

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Create makes a channel in dir, the run's private directory, and returns
// the runner's endpoint, which holds both ends of a pipe, the read end of a
// FIFO and the bound socket. dir must be a directory that only its owner can
// enter (mode 0700): FIFOs and sockets there are reachable by path.
func Create(dir, name string, opt Options) (*Channel, error) {
	opt = opt.withDefaults()
	fail := func(err error) (*Channel, error) { return nil, &Error{Channel: name, Op: "create", Err: err} }
	if err := validate(name, opt); err != nil {
		return fail(err)
	}
	if err := checkPrivateDir(dir); err != nil {
		return fail(err)
	}
	switch opt.Kind {
	case Pipe:
		r, w, err := newPipe()
		if err != nil {
			return fail(err)
		}
		c := newChannel(name, opt, "", true)
		c.r, c.w = r, w
		return c, nil
	case FIFO:
		path := filepath.Join(dir, name+".fifo")
		r, err := makeFIFO(path)
		if err != nil {
			return fail(err)
		}
		c := newChannel(name, opt, path, true)
		c.r = r
		return c, nil
	default:
		path := filepath.Join(dir, name+".sock")
		r, err := bindSocket(path)
		if err != nil {
			return fail(err)
		}
		c := newChannel(name, opt, path, true)
		c.r = r
		return c, nil
	}
}

// checkPrivateDir refuses a directory that others could enter, where a
// FIFO or socket with a predictable name could be raced or read.
func checkPrivateDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("%w: run directory %s is not a directory", ErrInvalid, dir)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: run directory %s has mode %#o, want 0700", ErrInvalid, dir, perm)
	}
	return nil
}

// Spec describes this endpoint for [Attach]; its Files list matches what
// [Channel.Files] returns at the same moment.
func (c *Channel) Spec() Spec {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.specLocked()
}

func (c *Channel) specLocked() Spec {
	s := Spec{Name: c.name, Kind: c.opt.Kind, Framing: c.opt.Framing, MaxMessage: c.opt.MaxMessage, Path: c.path}
	switch c.opt.Kind {
	case Pipe:
		if c.r != nil {
			s.Files = append(s.Files, ReadEnd)
		}
		if c.w != nil {
			s.Files = append(s.Files, WriteEnd)
		}
	case Socket:
		if c.r != nil {
			s.Files = append(s.Files, ReadEnd)
		}
	}
	// A FIFO needs no files: an agent opens the path.
	return s
}

// Files returns new descriptors for one child process, matching
// [Channel.Spec]: the ends of a pipe, the bound socket of a socket channel,
// nothing for a FIFO. Pass them in exec.Cmd.ExtraFiles and close them once
// the child has started. They are separate open file descriptions (pipe
// ends are reopened through /proc/self/fd), so that exec's switching them to
// blocking mode does not reach this endpoint's non-blocking descriptors.
func (c *Channel) Files() ([]*os.File, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, c.err("files", os.ErrClosed)
	}
	var files []*os.File
	fail := func(err error) ([]*os.File, error) {
		for _, f := range files {
			f.Close()
		}
		return nil, c.err("files", err)
	}
	switch c.opt.Kind {
	case Pipe:
		for _, e := range []struct {
			end  *end
			mode int
		}{{c.r, unix.O_RDONLY}, {c.w, unix.O_WRONLY}} {
			if e.end == nil {
				continue
			}
			f, err := reopen(e.end.f, e.mode)
			if err != nil {
				return fail(err)
			}
			files = append(files, f)
		}
	case Socket:
		if c.r != nil {
			fd, err := dupFile(c.r.f)
			if err != nil {
				return fail(err)
			}
			files = append(files, os.NewFile(uintptr(fd), c.path))
		}
	}
	return files, nil
}

// Attach makes an endpoint in an agent from the [Spec] and the files its
// parent passed (in the Spec's order). It takes ownership of files and
// closes them, also on error: it keeps descriptions of its own, non-blocking.
func Attach(spec Spec, files []*os.File) (*Channel, error) {
	defer func() {
		for _, f := range files {
			if f != nil {
				f.Close()
			}
		}
	}()
	opt := Options{Kind: spec.Kind, Framing: spec.Framing, MaxMessage: spec.MaxMessage}
	fail := func(err error) (*Channel, error) { return nil, &Error{Channel: spec.Name, Op: "attach", Err: err} }
	if err := validate(spec.Name, opt); err != nil {
		return fail(err)
	}
	if spec.MaxMessage == 0 {
		return fail(fmt.Errorf("%w: spec without max message", ErrInvalid))
	}
	if len(files) != len(spec.Files) {
		return fail(fmt.Errorf("%w: spec lists %d files, got %d", ErrInvalid, len(spec.Files), len(files)))
	}
	if spec.Kind != Pipe && spec.Path == "" {
		return fail(fmt.Errorf("%w: %s channel without a path", ErrInvalid, spec.Kind))
	}
	c := newChannel(spec.Name, opt, spec.Path, false)
	for i, role := range spec.Files {
		if files[i] == nil {
			c.Close()
			return fail(fmt.Errorf("%w: file %d (%s) is nil", ErrInvalid, i, role))
		}
		e, err := attachEnd(spec.Kind, role, files[i])
		if err != nil {
			c.Close()
			return fail(fmt.Errorf("file %d (%s): %w", i, role, err))
		}
		switch {
		case role == ReadEnd && c.r == nil:
			c.r = e
		case role == WriteEnd && c.w == nil && spec.Kind == Pipe:
			c.w = e
		default:
			e.f.Close()
			c.Close()
			return fail(fmt.Errorf("%w: unexpected file %d (%s) for a %s channel", ErrInvalid, i, role, spec.Kind))
		}
	}
	return c, nil
}
