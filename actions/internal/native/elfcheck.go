package native

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrUncontrollable is a program pmrun cannot schedule: its calls never
// reach the library.
var ErrUncontrollable = errors.New("pmrun cannot control this program")

// UncontrollableError says which program and why.
type UncontrollableError struct {
	Path, Why string
}

func (e *UncontrollableError) Error() string {
	return fmt.Sprintf("native: %s: %s", e.Path, e.Why)
}

// Is makes errors.Is(err, ErrUncontrollable) true.
func (e *UncontrollableError) Is(target error) bool { return target == ErrUncontrollable }

// Resolve finds the program argv0 names, as exec would: a name without a
// slash in PATH, a relative path from dir.
func Resolve(argv0, dir string) (string, error) {
	if !strings.Contains(argv0, "/") {
		p, err := exec.LookPath(argv0)
		if err != nil {
			return "", fmt.Errorf("native: %s: not found in PATH", argv0)
		}
		return p, nil
	}
	if !filepath.IsAbs(argv0) && dir != "" {
		argv0 = filepath.Join(dir, argv0)
	}
	if _, err := os.Stat(argv0); err != nil {
		return "", fmt.Errorf("native: %w", err)
	}
	return argv0, nil
}

// Check refuses a binary whose synchronization pmrun's library cannot
// see: linked statically (LD_PRELOAD loads nothing into it), without
// glibc, or written in Go or Rust, whose runtimes synchronize through raw
// futexes rather than libc's calls. A script is let through: the
// interpreter it names is checked when it starts (a static one does not
// call the library and the handshake fails).
func Check(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("native: %w", err)
	}
	defer f.Close()
	head := make([]byte, 4)
	f.ReadAt(head, 0)
	if bytes.HasPrefix(head, []byte("#!")) {
		return nil
	}
	ef, err := elf.NewFile(f)
	if err != nil {
		return &UncontrollableError{path, "not an ELF program or a script"}
	}
	defer ef.Close()
	interp := false
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			interp = true
		}
	}
	if !interp {
		return &UncontrollableError{path, "a statically linked program: LD_PRELOAD cannot load pmrun's library into it, so pmrun sees none of its synchronization calls; build it without -static"}
	}
	if ef.Section(".go.buildinfo") != nil || hasSymbol(ef, "runtime.main") {
		return &UncontrollableError{path, "a Go program: its runtime synchronizes through raw futexes, not libc's pthread and semaphore calls, so pmrun's library sees none of it"}
	}
	if hasSymbol(ef, "rust_begin_unwind") || hasSymbol(ef, "__rust_alloc") || hasSymbol(ef, "__rust_probestack") {
		return &UncontrollableError{path, "a Rust program: its std synchronizes through raw futexes, not libc's pthread calls, so pmrun's library sees none of it"}
	}
	libs, _ := ef.ImportedLibraries()
	for _, l := range libs {
		if strings.HasPrefix(l, "libc.so.") {
			return nil
		}
	}
	return &UncontrollableError{path, fmt.Sprintf("it does not link glibc's libc.so.6 (it needs %s): pmrun's library stands in for glibc's calls", strings.Join(libs, ", "))}
}

func hasSymbol(ef *elf.File, name string) bool {
	for _, get := range []func() ([]elf.Symbol, error){ef.Symbols, ef.DynamicSymbols} {
		syms, _ := get()
		for _, s := range syms {
			if s.Name == name {
				return true
			}
		}
	}
	return false
}
