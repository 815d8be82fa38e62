package preload

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pmrun/pmrun/actions/internal/proc"
)

// run runs argv through a process table (pmrun reaps through package
// proc alone) and returns its standard output.
func run(t *testing.T, env map[string]string, argv ...string) string {
	t.Helper()
	tab, err := proc.NewTable(proc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close(context.Background(), time.Second)
	p, err := tab.Start(proc.Spec{Name: "x", Argv: argv, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	e, err := p.Wait(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !e.Success {
		t.Fatalf("%v: exit %d %s\n%s%s", argv, e.ExitCode, e.Signal, e.Stdout, e.Stderr)
	}
	return e.Stdout
}

// cc compiles C files (from testdata, with the library's headers on the
// include path) into dir/out; it skips the test without a C compiler.
func cc(t *testing.T, dir, out string, args ...string) string {
	t.Helper()
	compiler, err := Compiler()
	if err != nil {
		t.Skip(err)
	}
	bin := filepath.Join(dir, out)
	run(t, nil, append([]string{compiler, "-g", "-pthread", "-Ic", "-o", bin}, args...)...)
	return bin
}

// TestLayout compiles c/pmrun_ctl.h and checks that Header and Slot put
// every field where C does.
func TestLayout(t *testing.T) {
	bin := cc(t, t.TempDir(), "layout", "testdata/layout.c")
	var h Header
	var s Slot
	want := map[string]uintptr{
		"hdr.magic": unsafe.Offsetof(h.Magic), "hdr.version": unsafe.Offsetof(h.Version),
		"hdr.nslots": unsafe.Offsetof(h.NSlots), "hdr.slot_size": unsafe.Offsetof(h.SlotSize),
		"hdr.next_slot": unsafe.Offsetof(h.NextSlot), "hdr.spin": unsafe.Offsetof(h.Spin),
		"hdr.closed": unsafe.Offsetof(h.Closed), "hdr.events": unsafe.Offsetof(h.Events),
		"hdr.ctl_sleeping": unsafe.Offsetof(h.CtlSleeping), "hdr.size": unsafe.Sizeof(h),
		"slot.turn": unsafe.Offsetof(s.Turn), "slot.sleeping": unsafe.Offsetof(s.Sleeping),
		"slot.reply": unsafe.Offsetof(s.Reply), "slot.park": unsafe.Offsetof(s.Parked),
		"slot.reply_arg": unsafe.Offsetof(s.ReplyArg), "slot.seq": unsafe.Offsetof(s.Seq),
		"slot.op": unsafe.Offsetof(s.Op), "slot.flags": unsafe.Offsetof(s.Flags),
		"slot.pid": unsafe.Offsetof(s.PID), "slot.tid": unsafe.Offsetof(s.TID),
		"slot.obj": unsafe.Offsetof(s.Obj), "slot.obj2": unsafe.Offsetof(s.Obj2),
		"slot.arg": unsafe.Offsetof(s.Arg), "slot.arg2": unsafe.Offsetof(s.Arg2),
		"slot.site": unsafe.Offsetof(s.Site), "slot.self": unsafe.Offsetof(s.Self),
		"slot.text": unsafe.Offsetof(s.Text), "slot.size": unsafe.Sizeof(s),
	}
	got := map[string]uintptr{}
	for _, line := range strings.Split(strings.TrimSpace(run(t, nil, bin)), "\n") {
		name, n, _ := strings.Cut(line, " ")
		v, _ := strconv.Atoi(n)
		got[name] = uintptr(v)
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: C puts it at %d, Go at %d", name, got[name], w)
		}
	}
	if unsafe.Sizeof(s) != SlotSize {
		t.Errorf("Slot is %d bytes, want %d", unsafe.Sizeof(s), SlotSize)
	}
}

// TestConstants checks every #define of c/pmrun_ctl.h against its Go
// constant.
func TestConstants(t *testing.T) {
	text, err := Source("pmrun_ctl.h")
	if err != nil {
		t.Fatal(err)
	}
	goNames := map[string]int64{
		"PMRUN_CTL_MAGIC": Magic, "PMRUN_CTL_VERSION": Version, "PMRUN_SLOTS": Slots,
		"PMRUN_SLOT_SIZE": SlotSize, "PMRUN_SLOTS_OFFSET": SlotsOffset, "PMRUN_TEXT_SIZE": TextSize,
		"PMRUN_FREE": Free, "PMRUN_FLAG_SHARED": FlagShared, "PMRUN_FLAG_TIMED": FlagTimed,
		"PMRUN_KIND_MUTEX": KindMutex, "PMRUN_KIND_COND": KindCond, "PMRUN_KIND_SEM": KindSem,
		"PMRUN_KIND_RWLOCK": KindRWLock, "PMRUN_KIND_SPIN": KindSpin, "PMRUN_KIND_BARRIER": KindBarrier,
		"PMRUN_OP_LAST_NOTE": LastNote,
	}
	for op, name := range opNames {
		goNames["PMRUN_OP_"+strings.ToUpper(name)] = int64(op)
	}
	def := regexp.MustCompile(`(?m)^#define (PMRUN_[A-Z_0-9]+) \(?(-?(?:0x)?[0-9a-f]+)u?\)?`)
	seen := 0
	for _, m := range def.FindAllStringSubmatch(text, -1) {
		v, err := strconv.ParseInt(m[2], 0, 64)
		if err != nil {
			t.Fatalf("%s: %v", m[1], err)
		}
		g, ok := goNames[m[1]]
		if !ok {
			t.Errorf("%s = %d has no Go constant", m[1], v)
			continue
		}
		seen++
		if g != v {
			t.Errorf("%s: C says %d, Go %d", m[1], v, g)
		}
	}
	if seen != len(goNames) {
		t.Errorf("%d of %d Go constants found in pmrun_ctl.h", seen, len(goNames))
	}
}

// TestLibrary builds the library into a fresh cache, finds it there the
// second time, and runs a program with it loaded but no control block:
// the calls go to libc as they are.
func TestLibrary(t *testing.T) {
	if _, err := Compiler(); err != nil {
		t.Skip(err)
	}
	cache := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", cache)
	resetBuilt()
	lib, err := Library(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(cache, "pmrun", "libpmrun-"+Hash()+".so"); lib != want {
		t.Errorf("library at %s, want %s", lib, want)
	}
	fi, err := os.Stat(lib)
	if err != nil {
		t.Fatal(err)
	}
	resetBuilt()
	again, err := Library(t.Context())
	if err != nil || again != lib {
		t.Fatalf("second Library: %s, %v", again, err)
	}
	if fi2, _ := os.Stat(lib); !fi2.ModTime().Equal(fi.ModTime()) {
		t.Errorf("the cached library was built again")
	}
	entries, _ := os.ReadDir(filepath.Join(cache, "pmrun"))
	if len(entries) != 1 {
		t.Errorf("the cache holds %d entries, want the library alone (no build folder left)", len(entries))
	}
	dir := t.TempDir()
	bin := cc(t, dir, "plain", "testdata/plain.c")
	if got := run(t, map[string]string{"LD_PRELOAD": lib}, bin); got != "count 4000\n" {
		t.Errorf("without pmrun the program printed %q", got)
	}
}

// TestNoCompiler: without a C compiler, the error says what to install.
func TestNoCompiler(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CC", "")
	resetBuilt()
	_, err := Library(t.Context())
	var nc *NoCompilerError
	if !errors.As(err, &nc) || !strings.Contains(err.Error(), "apt-get install gcc") {
		t.Fatalf("Library without a compiler: %v", err)
	}
}

// TestConcurrentBuilds has several processes build into one empty cache
// at once: each installs a whole library by rename, none fails.
func TestConcurrentBuilds(t *testing.T) {
	if _, err := Compiler(); err != nil {
		t.Skip(err)
	}
	cache := t.TempDir()
	tab, err := proc.NewTable(proc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer tab.Close(context.Background(), time.Second)
	var ps []*proc.Process
	for i := range 2 {
		p, err := tab.Start(proc.Spec{Name: fmt.Sprint(i), Argv: []string{os.Args[0], "-test.run=^TestHelperBuild$"},
			Env: map[string]string{"XDG_CACHE_HOME": cache, "PMRUN_PRELOAD_HELPER": "1"}})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	var paths []string
	for _, p := range ps {
		e, err := p.Wait(t.Context())
		if err != nil || !e.Success {
			t.Fatalf("builder %s: %v %d\n%s%s", p.Name(), err, e.ExitCode, e.Stdout, e.Stderr)
		}
		m := regexp.MustCompile(`library (\S+)`).FindStringSubmatch(e.Stdout)
		if m == nil {
			t.Fatalf("builder %s printed %q", p.Name(), e.Stdout)
		}
		paths = append(paths, m[1])
	}
	for _, p := range paths[1:] {
		if p != paths[0] {
			t.Errorf("builders disagree: %v", paths)
		}
	}
}

// TestHelperBuild is the builder TestConcurrentBuilds starts.
func TestHelperBuild(t *testing.T) {
	if os.Getenv("PMRUN_PRELOAD_HELPER") != "1" {
		t.Skip("a helper of TestConcurrentBuilds")
	}
	lib, err := Library(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("library %s\n", lib)
}

func resetBuilt() {
	built.Lock()
	built.path = ""
	built.Unlock()
}
