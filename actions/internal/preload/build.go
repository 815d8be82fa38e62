package preload

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pmrun/pmrun/actions/internal/proc"
)

//go:embed c/*.c c/*.h
var sources embed.FS

// EnvLibrary names a library to use instead of building one.
const EnvLibrary = "PMRUN_PRELOAD"

// HeaderText is pmrun.h, the one-line header that gives a program
// pmrun_point(name): a point of its own between two accesses to plain
// memory, where pmrun may run another thread. Without pmrun it does
// nothing.
func HeaderText() string {
	b, _ := sources.ReadFile("c/pmrun.h")
	return string(b)
}

// Source returns the text of the library's file name (pmrun_ctl.h, …).
func Source(name string) (string, error) {
	b, err := sources.ReadFile("c/" + name)
	return string(b), err
}

// Hash is the hash of the library's sources, the cache's key.
func Hash() string {
	h := sha256.New()
	names, _ := fs.Glob(sources, "c/*")
	slices.Sort(names)
	for _, n := range names {
		b, _ := sources.ReadFile(n)
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// NoCompilerError is the error of a build without a C compiler.
type NoCompilerError struct{ Tried []string }

func (e *NoCompilerError) Error() string {
	return fmt.Sprintf("preload: pmrun builds its interposition library with a C compiler, and found none (tried %s in PATH): install one, e.g. apt-get install gcc (or set CC)",
		strings.Join(e.Tried, ", "))
}

var built struct {
	sync.Mutex
	path string
}

// Library returns the path of the interposition library, building it on
// first use (see the package documentation). It is safe for concurrent
// use, in one process and across processes.
func Library(ctx context.Context) (string, error) {
	if p := os.Getenv(EnvLibrary); p != "" {
		if fi, err := os.Stat(p); err != nil || !fi.Mode().IsRegular() {
			return "", fmt.Errorf("preload: %s=%s: not a library file: %v", EnvLibrary, p, err)
		}
		return p, nil
	}
	built.Lock()
	defer built.Unlock()
	if built.path != "" {
		if _, err := os.Stat(built.path); err == nil {
			return built.path, nil
		}
	}
	dir, err := cacheDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "libpmrun-"+Hash()+".so")
	if fi, err := os.Lstat(path); err == nil && fi.Mode().IsRegular() && ownedByMe(fi) {
		built.path = path
		return path, nil
	}
	if err := build(ctx, dir, path); err != nil {
		return "", err
	}
	built.path = path
	return path, nil
}

// cacheDir is the user's cache folder for pmrun, made if missing: a
// folder of the user's own, mode 0700, not a link.
func cacheDir() (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = filepath.Join(os.TempDir(), fmt.Sprintf("pmrun-cache-%d", os.Getuid()))
		if err := os.Mkdir(base, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return "", fmt.Errorf("preload: no cache folder: %w", err)
		}
	}
	dir := filepath.Join(base, "pmrun")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("preload: cache folder: %w", err)
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", fmt.Errorf("preload: cache folder: %w", err)
	}
	if !fi.IsDir() || !ownedByMe(fi) || fi.Mode().Perm()&0o022 != 0 {
		return "", fmt.Errorf("preload: cache folder %s is not a folder of this user's that only it can write (mode %v); remove it or set XDG_CACHE_HOME", dir, fi.Mode())
	}
	return dir, nil
}

func ownedByMe(fi fs.FileInfo) bool {
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Geteuid()
}

// Compiler returns the C compiler pmrun uses: $CC, else cc, gcc or clang.
func Compiler() (string, error) {
	tried := []string{"cc", "gcc", "clang"}
	if cc := os.Getenv("CC"); cc != "" {
		tried = append([]string{cc}, tried...)
	}
	for _, name := range tried {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", &NoCompilerError{Tried: tried}
}

// build compiles the sources into a temporary file in dir and renames it
// to path.
func build(ctx context.Context, dir, path string) error {
	cc, err := Compiler()
	if err != nil {
		return err
	}
	src, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	defer os.RemoveAll(src)
	names, _ := fs.Glob(sources, "c/*")
	var cfiles []string
	for _, n := range names {
		b, _ := sources.ReadFile(n)
		out := filepath.Join(src, filepath.Base(n))
		if err := os.WriteFile(out, b, 0o600); err != nil {
			return fmt.Errorf("preload: %w", err)
		}
		if strings.HasSuffix(n, ".c") {
			cfiles = append(cfiles, out)
		}
	}
	tmp := filepath.Join(src, "libpmrun.so")
	args := append([]string{"-shared", "-fPIC", "-O2", "-g", "-ftls-model=initial-exec", "-o", tmp}, cfiles...)
	args = append(args, "-ldl")
	if err := compile(ctx, cc, args); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("preload: install the library: %w", err)
	}
	return nil
}

// compile runs the compiler through a process table of its own: pmrun
// reaps every child through package proc, so no os/exec here.
func compile(ctx context.Context, cc string, args []string) error {
	t, err := proc.NewTable(proc.Options{})
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	defer t.Close(context.WithoutCancel(ctx), time.Second)
	p, err := t.Start(proc.Spec{Name: "cc", Argv: append([]string{cc}, args...)})
	if err != nil {
		return fmt.Errorf("preload: %w", err)
	}
	e, err := p.Wait(ctx)
	if err != nil {
		return fmt.Errorf("preload: building the interposition library: %w", err)
	}
	if !e.Success {
		out := strings.TrimSpace(e.Stderr + "\n" + e.Stdout)
		return fmt.Errorf("preload: building the interposition library with %s failed (exit %d%s):\n%s", cc, e.ExitCode, e.Signal, out)
	}
	return nil
}
