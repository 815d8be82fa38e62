package shm_test

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions/internal/shm"
)

// TestMain doubles as the child process of the cross-process test: with
// SHM_TEST_HELPER set it opens fd 3, writes into it and exits.
func TestMain(m *testing.M) {
	if os.Getenv("SHM_TEST_HELPER") == "1" {
		os.Exit(helper())
	}
	os.Exit(m.Run())
}

func helper() int {
	r, err := shm.Open(os.NewFile(3, "shm"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Close()
	b := r.Bytes()
	if string(b[:5]) != "ping\x00" {
		fmt.Fprintf(os.Stderr, "child read %q\n", b[:5])
		return 1
	}
	copy(b, "pong")
	return 0
}

func TestCreateIsZeroedAndSized(t *testing.T) {
	r, err := shm.Create("test", 10000)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Size() != 10000 || len(r.Bytes()) != 10000 {
		t.Fatalf("size %d, len %d; want 10000", r.Size(), len(r.Bytes()))
	}
	for i, c := range r.Bytes() {
		if c != 0 {
			t.Fatalf("byte %d = %d, want 0", i, c)
		}
	}
}

func TestCreateRejectsBadSize(t *testing.T) {
	for _, size := range []int{0, -1} {
		if r, err := shm.Create("bad", size); err == nil {
			r.Close()
			t.Errorf("Create(size %d) succeeded", size)
		}
	}
}

func TestChildSeesWritesBothWays(t *testing.T) {
	r, err := shm.Create("pingpong", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	copy(r.Bytes(), "ping")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SHM_TEST_HELPER=1")
	cmd.ExtraFiles = []*os.File{r.File()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := string(r.Bytes()[:4]); got != "pong" {
		t.Fatalf("parent reads %q after child wrote, want pong", got)
	}
}

func TestCloseReleasesFdAndMapping(t *testing.T) {
	before := countFds(t)
	r, err := shm.Create("leak", 4096)
	if err != nil {
		t.Fatal(err)
	}
	if !mapped(t, "leak") {
		t.Fatal("memfd:leak not in /proc/self/maps after Create")
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if after := countFds(t); after != before {
		t.Errorf("fds: %d before Create, %d after Close", before, after)
	}
	if mapped(t, "leak") {
		t.Error("memfd:leak still mapped after Close")
	}
	if err := r.Close(); !errors.Is(err, shm.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

func TestMemfdIsCloseOnExec(t *testing.T) {
	r, err := shm.Create("cloexec", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	fdinfo, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", r.File().Fd()))
	if err != nil {
		t.Fatal(err)
	}
	var flags int
	for _, line := range strings.Split(string(fdinfo), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			fmt.Sscanf(strings.TrimSpace(v), "%o", &flags)
		}
	}
	const oCloexec = 0o2000000
	if flags&oCloexec == 0 {
		t.Errorf("memfd flags %o lack O_CLOEXEC", flags)
	}
}

func TestOpenRejectsNilAndEmpty(t *testing.T) {
	if _, err := shm.Open(nil); err == nil {
		t.Error("Open(nil) succeeded")
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "empty"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := shm.Open(f); err == nil {
		r.Close()
		t.Error("Open of an empty file succeeded")
	}
}

func countFds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func mapped(t *testing.T, name string) bool {
	t.Helper()
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Contains(string(maps), "/memfd:"+name+" ")
}
