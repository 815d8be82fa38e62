// Package shm provides shared memory regions that a process can hand to the
// children it starts: an anonymous memfd, sized and mapped MAP_SHARED. The
// memfd has no name in any directory, so nothing is left behind and nobody
// else can open it; a child receives it only as an inherited descriptor
// (exec.Cmd.ExtraFiles), because it is created close-on-exec.
package shm

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	_ "github.com/pmrun/pmrun/actions/linuxonly" // pmrun runs on Linux only
)

// ErrClosed is returned when a closed [Region] is used.
var ErrClosed = errors.New("shm: region closed")

// Region is a shared memory mapping backed by a memfd.
type Region struct {
	f   *os.File
	mem []byte
}

// Create makes a zero-filled region of size bytes. name is only a label,
// shown in /proc/PID/fd and /proc/PID/maps as "memfd:NAME".
func Create(name string, size int) (*Region, error) {
	if size <= 0 {
		return nil, fmt.Errorf("shm: create %q: size %d is not positive", name, size)
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("shm: create %q: memfd_create: %w", name, err)
	}
	f := os.NewFile(uintptr(fd), "memfd:"+name)
	if err := f.Truncate(int64(size)); err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	r, err := mapFile(f, size)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: create %q: %w", name, err)
	}
	return r, nil
}

// Open maps the region behind f, a descriptor a parent passed with
// [Region.File]; its size is the file's. The region owns f from then on and
// closes it in [Region.Close], also when Open fails.
func Open(f *os.File) (*Region, error) {
	if f == nil {
		return nil, errors.New("shm: open: nil file")
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: open %s: %w", f.Name(), err)
	}
	if st.Size() <= 0 || st.Size() > int64(^uint(0)>>1) {
		f.Close()
		return nil, fmt.Errorf("shm: open %s: unusable size %d", f.Name(), st.Size())
	}
	r, err := mapFile(f, int(st.Size()))
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("shm: open %s: %w", f.Name(), err)
	}
	return r, nil
}

func mapFile(f *os.File, size int) (*Region, error) {
	mem, err := unix.Mmap(int(f.Fd()), 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap %d bytes: %w", size, err)
	}
	return &Region{f: f, mem: mem}, nil
}

// File returns the memfd, to pass to a child in exec.Cmd.ExtraFiles (the
// child then calls [Open] on it). It stays owned by the region.
func (r *Region) File() *os.File { return r.f }

// Bytes returns the mapping. Its start is page-aligned. It must not be used
// after [Region.Close].
func (r *Region) Bytes() []byte { return r.mem }

// Size returns the region's length in bytes.
func (r *Region) Size() int { return len(r.mem) }

// Close unmaps the region and closes the memfd. Nobody in this process may
// touch the memory afterwards; other processes keep their own mappings.
func (r *Region) Close() error {
	if r.mem == nil {
		return ErrClosed
	}
	err := unix.Munmap(r.mem)
	r.mem = nil
	if cerr := r.f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("shm: close %s: %w", r.f.Name(), err)
	}
	return nil
}
