package sem

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/pmrun/pmrun/actions/internal/shm"
)

// TestMain doubles as the child process of the cross-process tests, selected
// by SEM_TEST_HELPER; the shared region arrives as fd 3.
func TestMain(m *testing.M) {
	switch os.Getenv("SEM_TEST_HELPER") {
	case "":
		os.Exit(m.Run())
	case "pingpong":
		os.Exit(helperPingPong())
	case "holdmutex":
		os.Exit(helperHoldMutex())
	default:
		fmt.Fprintln(os.Stderr, "unknown helper", os.Getenv("SEM_TEST_HELPER"))
		os.Exit(2)
	}
}

// flagCanceler is a minimal Canceler: what osthread.Thread does, without threads.
type flagCanceler struct {
	mu   sync.Mutex
	flag bool
	addr *uint32
}

func (f *flagCanceler) Cancelled() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.flag
}

func (f *flagCanceler) Watch(addr *uint32) {
	f.mu.Lock()
	f.addr = addr
	f.mu.Unlock()
}

func (f *flagCanceler) cancel() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.flag = true
	Interrupt(f.addr)
}

// tidCanceler is a Canceler that never cancels and names its thread.
type tidCanceler int

func (tidCanceler) Cancelled() bool { return false }
func (tidCanceler) Watch(*uint32)   {}
func (c tidCanceler) TID() int      { return int(c) }

// untilSleeping waits until n callers are in the slow path of s.
func untilSleeping(t *testing.T, waiters *atomic.Uint32, n uint32) {
	t.Helper()
	for waiters.Load() < n {
		time.Sleep(time.Millisecond)
	}
}

func TestLayoutFitsSize(t *testing.T) {
	if got := unsafe.Sizeof(Semaphore{}); got != Size {
		t.Errorf("Semaphore is %d bytes, Size says %d", got, Size)
	}
	if got := unsafe.Sizeof(Mutex{}); got != Size {
		t.Errorf("Mutex is %d bytes, Size says %d", got, Size)
	}
}

func TestAtChecksMemory(t *testing.T) {
	buf := make([]uint64, 4)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), 32)
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"aligned", b, true},
		{"short", b[:Size-1], false},
		{"misaligned", b[4:], false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := At(tt.b)
			_, merr := MutexAt(tt.b)
			if tt.ok != (err == nil) || tt.ok != (merr == nil) {
				t.Fatalf("At: %v, MutexAt: %v; want ok=%v", err, merr, tt.ok)
			}
			if !tt.ok && !errors.Is(err, ErrLayout) {
				t.Fatalf("At: %v, want ErrLayout", err)
			}
		})
	}
}

func TestCounting(t *testing.T) {
	s := New(3)
	for i := range 3 {
		if !s.TryP() {
			t.Fatalf("TryP %d of 3 failed", i+1)
		}
	}
	if s.TryP() {
		t.Fatal("TryP on value 0 succeeded")
	}
	s.V()
	s.V()
	if got := s.Value(); got != 2 {
		t.Fatalf("Value after two V = %d, want 2", got)
	}
	if err := s.P(nil, 0); err != nil {
		t.Fatal(err)
	}
	if got := s.Value(); got != 1 {
		t.Fatalf("Value = %d, want 1", got)
	}
}

func TestPTimesOut(t *testing.T) {
	s := New(0)
	if err := s.P(nil, 10*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("P on 0 = %v, want ErrTimeout", err)
	}
	if s.waiters.Load() != 0 {
		t.Fatalf("waiters = %d after timeout, want 0", s.waiters.Load())
	}
}

func TestVWakesSleeper(t *testing.T) {
	s := New(0)
	done := make(chan error)
	go func() { done <- s.P(nil, 0) }()
	untilSleeping(t, &s.waiters, 1)
	s.V()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if s.Value() != 0 {
		t.Fatalf("Value = %d after the waiter took it, want 0", s.Value())
	}
}

func TestCancelWakesSleeper(t *testing.T) {
	s := New(0)
	c := &flagCanceler{}
	done := make(chan error)
	go func() { done <- s.P(c, 0) }()
	untilSleeping(t, &s.waiters, 1)
	c.cancel()
	if err := <-done; !errors.Is(err, ErrCancelled) {
		t.Fatalf("P = %v, want ErrCancelled", err)
	}
	if s.Value() != 0 {
		t.Fatalf("cancel changed the value to %d", s.Value())
	}
	if err := s.P(c, 0); !errors.Is(err, ErrCancelled) {
		t.Fatalf("P with a cancelled Canceler = %v, want ErrCancelled", err)
	}
}

// TestCancelledWaiterPassesWakeOn: when a V's wake lands on a waiter that is
// just giving up, another sleeper must still get the unit.
func TestCancelledWaiterPassesWakeOn(t *testing.T) {
	for range 50 {
		s := New(0)
		c := &flagCanceler{}
		first := make(chan error)
		second := make(chan error)
		go func() { first <- s.P(c, 0) }()
		go func() { second <- s.P(nil, 0) }()
		untilSleeping(t, &s.waiters, 2)
		go c.cancel()
		s.V()
		if err := <-first; err != nil && !errors.Is(err, ErrCancelled) {
			t.Fatal(err)
		} else if err == nil {
			s.V() // the cancelled one got the first unit; give the other one its own
		}
		if err := <-second; err != nil {
			t.Fatal(err)
		}
	}
}

// TestHammerKeepsCount: many goroutines on real threads take and give a
// semaphore of value k; never more than k are inside at once, and the value
// ends where it started.
func TestHammerKeepsCount(t *testing.T) {
	const k, workers, rounds = 3, 16, 2000
	s := New(k)
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for range rounds {
				if err := s.P(nil, 0); err != nil {
					t.Error(err)
					return
				}
				n := inside.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				if n > k {
					t.Errorf("%d inside a semaphore of %d", n, k)
				}
				inside.Add(-1)
				s.V()
			}
		})
	}
	wg.Wait()
	if s.Value() != k {
		t.Fatalf("value %d after balanced P/V, want %d", s.Value(), k)
	}
	if most.Load() < 1 {
		t.Fatal("nobody got in")
	}
}

// TestNoLostWakeups: takers far outnumber units, so most of them sleep, and
// some give up by timeout or cancellation mid-way. Every unit posted must
// still be taken: a lost wakeup would leave a unit unclaimed and a taker
// asleep forever, and the test would hang.
func TestNoLostWakeups(t *testing.T) { noLostWakeups(t, 3000) }

// TestStressNoLostWakeups is TestNoLostWakeups a hundred times longer; only
// with PMRUN_STRESS set (make stress).
func TestStressNoLostWakeups(t *testing.T) {
	if os.Getenv("PMRUN_STRESS") == "" {
		t.Skip("set PMRUN_STRESS=1 (make stress)")
	}
	noLostWakeups(t, 300000)
}

func noLostWakeups(t *testing.T, perPoster int64) {
	const takers, posters = 8, 2
	s := New(0)
	var taken, gaveUp atomic.Int64
	var wg sync.WaitGroup
	stops := make([]*flagCanceler, takers)
	for i := range takers {
		stops[i] = &flagCanceler{}
		wg.Go(func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			for n := 0; ; n++ {
				var c Canceler = stops[i]
				timeout := time.Duration(0)
				if i%3 == 0 && n%5 == 0 {
					timeout = 50 * time.Microsecond // impatient: often gives up
				}
				switch err := s.P(c, timeout); {
				case err == nil:
					taken.Add(1)
				case errors.Is(err, ErrTimeout):
					gaveUp.Add(1)
				case errors.Is(err, ErrCancelled):
					return
				default:
					t.Error(err)
					return
				}
			}
		})
	}
	var posted sync.WaitGroup
	for range posters {
		posted.Go(func() {
			for range perPoster {
				s.V()
			}
		})
	}
	posted.Wait()
	for taken.Load() < posters*perPoster {
		time.Sleep(time.Millisecond)
	}
	for _, stop := range stops {
		stop.cancel()
	}
	wg.Wait()
	if got := taken.Load(); got != posters*perPoster || s.Value() != 0 {
		t.Fatalf("taken %d, value left %d; want %d and 0", got, s.Value(), posters*perPoster)
	}
	t.Logf("%d timeouts along the way", gaveUp.Load())
}

func TestMutexExcludes(t *testing.T) {
	const workers, rounds = 8, 5000
	m := NewMutex()
	counter := 0 // a plain int: the race detector checks the mutex orders it
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range rounds {
				if err := m.Lock(nil, 0); err != nil {
					t.Error(err)
					return
				}
				counter++
				if err := m.Unlock(); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if counter != workers*rounds {
		t.Fatalf("counter = %d, want %d", counter, workers*rounds)
	}
}

func TestMutexOwnerAndMisuse(t *testing.T) {
	m := NewMutex()
	if err := m.Unlock(); !errors.Is(err, ErrNotOwner) {
		t.Fatalf("Unlock of a free mutex = %v, want ErrNotOwner", err)
	}
	if err := m.Lock(tidCanceler(4242), 0); err != nil {
		t.Fatal(err)
	}
	if pid, tid := m.Owner(); pid != os.Getpid() || tid != 4242 {
		t.Fatalf("Owner = %d/%d, want %d/4242", pid, tid, os.Getpid())
	}
	if m.TryLock() {
		t.Fatal("TryLock of a held mutex succeeded")
	}
	if err := m.Lock(nil, 5*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Lock of a held mutex = %v, want ErrTimeout", err)
	}
	c := &flagCanceler{}
	done := make(chan error)
	go func() { done <- m.Lock(c, 0) }()
	untilSleeping(t, &m.waiters, 1)
	c.cancel()
	if err := <-done; !errors.Is(err, ErrCancelled) {
		t.Fatalf("Lock = %v, want ErrCancelled", err)
	}
	if err := m.Unlock(); err != nil {
		t.Fatal(err)
	}
	if pid, _ := m.Owner(); pid != 0 {
		t.Fatalf("Owner after Unlock = %d, want 0", pid)
	}
}

// Cross-process layout in the shared region: ping at 0, pong at 16, mutex at
// 32, a round counter at 48.
const (
	offPing, offPong, offMutex, offRound = 0, 16, 32, 48
	pingPongRounds                       = 2000
)

func openHelperRegion() (*shm.Region, error) { return shm.Open(os.NewFile(3, "shm")) }

func helperPingPong() int {
	r, err := openHelperRegion()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer r.Close()
	ping, _ := At(r.Bytes()[offPing:])
	pong, _ := At(r.Bytes()[offPong:])
	round := (*atomic.Uint32)(unsafe.Pointer(&r.Bytes()[offRound]))
	for i := range uint32(pingPongRounds) {
		if err := ping.P(nil, 10*time.Second); err != nil {
			fmt.Fprintln(os.Stderr, "child ping:", err)
			return 1
		}
		if got := round.Load(); got != 2*i+1 {
			fmt.Fprintf(os.Stderr, "child saw round %d, want %d\n", got, 2*i+1)
			return 1
		}
		round.Add(1)
		pong.V()
	}
	return 0
}

func helperHoldMutex() int {
	r, err := openHelperRegion()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m, _ := MutexAt(r.Bytes()[offMutex:])
	if err := m.Lock(nil, 10*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, "child lock:", err)
		return 1
	}
	select {} // hold it until killed
}

func helper(t *testing.T, mode string, r *shm.Region) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SEM_TEST_HELPER="+mode, "GORACE="+os.Getenv("GORACE")+" atexit_sleep_ms=0")
	cmd.ExtraFiles = []*os.File{r.File()}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}

func TestPingPongBetweenProcesses(t *testing.T) {
	r, err := shm.Create("pingpong", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ping, _ := At(r.Bytes()[offPing:])
	pong, _ := At(r.Bytes()[offPong:])
	ping.Init(0)
	pong.Init(0)
	round := (*atomic.Uint32)(unsafe.Pointer(&r.Bytes()[offRound]))
	cmd := helper(t, "pingpong", r)
	defer cmd.Process.Kill()
	for i := range uint32(pingPongRounds) {
		round.Add(1)
		ping.V()
		if err := pong.P(nil, 10*time.Second); err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		if got := round.Load(); got != 2*i+2 {
			t.Fatalf("parent saw round %d, want %d", got, 2*i+2)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("child: %v", err)
	}
}

func TestOwnerKilledHoldingMutex(t *testing.T) {
	r, err := shm.Create("ownerdead", 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	m, _ := MutexAt(r.Bytes()[offMutex:])
	m.Init()
	cmd := helper(t, "holdmutex", r)
	for {
		if pid, _ := m.Owner(); pid == cmd.Process.Pid {
			break
		}
		time.Sleep(time.Millisecond)
	}
	// Killed but not reaped: the owner is a zombie while we wait on the lock.
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err = m.Lock(nil, 30*time.Second)
	var dead *OwnerDeadError
	if !errors.As(err, &dead) || !errors.Is(err, ErrOwnerDead) {
		t.Fatalf("Lock after the owner was killed = %v, want OwnerDeadError", err)
	}
	if dead.PID != cmd.Process.Pid {
		t.Errorf("OwnerDeadError.PID = %d, want %d", dead.PID, cmd.Process.Pid)
	}
	if want := strconv.Itoa(cmd.Process.Pid); !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not name pid %s", err, want)
	}
	cmd.Wait()
}

func BenchmarkUncontendedPV(b *testing.B) {
	s := New(1)
	for b.Loop() {
		s.P(nil, 0)
		s.V()
	}
}

func BenchmarkPingPongThreads(b *testing.B) {
	ping, pong := New(0), New(0)
	stop := &flagCanceler{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for ping.P(stop, 0) == nil {
			pong.V()
		}
	}()
	for b.Loop() {
		ping.V()
		pong.P(nil, 0)
	}
	stop.cancel()
	<-done
}
