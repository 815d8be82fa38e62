package pslist

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

func find(procs []Proc, pid int) (Proc, bool) {
	for _, p := range procs {
		if int(p.PID) == pid {
			return p, true
		}
	}
	return Proc{}, false
}

func TestListSelfAndChild(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()

	procs, err := List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(procs); i++ {
		if procs[i-1].PID >= procs[i].PID {
			t.Fatalf("not sorted by pid at %d: %d then %d", i, procs[i-1].PID, procs[i].PID)
		}
	}
	self, ok := find(procs, os.Getpid())
	if !ok {
		t.Fatal("this process is not listed")
	}
	comm, _ := os.ReadFile("/proc/self/comm")
	if self.Name != strings.TrimSpace(string(comm)) || int(self.PPID) != os.Getppid() ||
		(self.Status != Running && self.Status != Sleep) || self.Threads < 2 || self.RSS == 0 ||
		!strings.HasPrefix(self.Cmdline, os.Args[0]+" ") || self.CPUPercent < 0 {
		t.Errorf("self: %+v", self)
	}
	child, ok := find(procs, cmd.Process.Pid)
	if !ok {
		t.Fatal("the child is not listed")
	}
	want := Proc{PID: int32(cmd.Process.Pid), PPID: int32(os.Getpid()), Name: "sleep", Threads: 1, Cmdline: "sleep 60"}
	if child.Status != Sleep && child.Status != Running { // running: still starting
		t.Errorf("child status %q", child.Status)
	}
	child.RSS, child.CPUPercent, child.Status = 0, 0, ""
	if child != want {
		t.Errorf("child: %+v, want %+v", child, want)
	}
}

func TestZombie(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("/bin/true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	// Not waited yet, so it stays a zombie once it exits.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		procs, err := List(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if p, ok := find(procs, cmd.Process.Pid); ok && p.Status == Zombie {
			if p.Cmdline != "" || p.Name != "true" {
				t.Errorf("zombie: %+v", p)
			}
			return
		}
	}
	t.Error("the exited child never showed as a zombie")
}

func TestSample(t *testing.T) {
	t.Parallel()
	busy := exec.Command("/bin/sh", "-c", "while :; do :; done")
	if err := busy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		busy.Process.Kill()
		busy.Wait()
	}()
	procs, err := Sample(t.Context(), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := find(procs, busy.Process.Pid)
	if !ok || p.CPUPercent <= 0 {
		t.Errorf("busy loop: %+v (listed %v), want CPU time over the interval", p, ok)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := Sample(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Sample with a cancelled context: %v", err)
	}
	if _, err := List(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context: %v", err)
	}
}

func TestParseStat(t *testing.T) {
	t.Parallel()
	// A command name may hold spaces and parentheses.
	line := "42 (a) (b c) S 7 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 1234 1000000 5 18446744073709551615\n"
	p, st, ok := parseStat([]byte(line), 4096)
	want := Proc{PPID: 7, Name: "a) (b c", Status: Sleep, Threads: 3, RSS: 5 * 4096}
	if !ok || p != want || st != (stat{cpu: 300, start: 1234}) {
		t.Errorf("parseStat = %+v %+v %v, want %+v", p, st, ok, want)
	}
	for _, bad := range []string{"", "42 (a", "42 (a) S 7", "42 (a) SS 7 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22"} {
		if _, _, ok := parseStat([]byte(bad), 4096); ok {
			t.Errorf("parseStat(%q) accepted", bad)
		}
	}
}

func TestGoneProcessSkipped(t *testing.T) {
	t.Parallel()
	cmd := exec.Command("/bin/true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := newReader().read(int32(cmd.Process.Pid)); ok {
		t.Error("a reaped process was read")
	}
}

func TestTree(t *testing.T) {
	t.Parallel()
	procs := []Proc{
		{PID: 1, PPID: 0}, {PID: 2, PPID: 0}, {PID: 30, PPID: 1}, {PID: 10, PPID: 1},
		{PID: 11, PPID: 10}, {PID: 50, PPID: 99}, // 99 is not listed: 50 is a root
	}
	var got []string
	Walk(Tree(procs), func(n *Node, depth int) {
		got = append(got, strings.Repeat(" ", depth)+strconv.Itoa(int(n.PID)))
	})
	want := []string{"1", " 10", "  11", " 30", "2", "50"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("tree walk %q, want %q", got, want)
	}
	b, err := json.Marshal(Tree(procs[:2]))
	if err != nil || !strings.Contains(string(b), `"pid":1`) || strings.Contains(string(b), "children") {
		t.Errorf("json %s, %v", b, err)
	}
}

// BenchmarkList lists and encodes every process as `pmrun ps --json`
// does; compare its ns/op with BenchmarkPS (the make bench target: at
// most 1.0×).
func BenchmarkList(b *testing.B) {
	for b.Loop() {
		procs, err := List(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := json.Marshal(procs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPS runs the baseline, `ps -e -o pid,ppid,comm,stat`.
func BenchmarkPS(b *testing.B) {
	if _, err := exec.LookPath("ps"); err != nil {
		b.Skip("no ps")
	}
	for b.Loop() {
		if err := exec.Command("ps", "-e", "-o", "pid,ppid,comm,stat").Run(); err != nil {
			b.Fatal(err)
		}
	}
}
