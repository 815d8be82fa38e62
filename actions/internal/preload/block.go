package preload

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The control block's layout, as c/pmrun_ctl.h declares it (the tests
// compile that header and compare).
const (
	Magic       = 0x636d7270
	Version     = 1
	Slots       = 1024
	SlotSize    = 256
	SlotsOffset = 4096
	Size        = SlotsOffset + Slots*SlotSize
	TextSize    = 120
	// Env is the variable that gives the program the block's descriptor.
	Env = "PMRUN_CTL_FD"
	// Free is the reply that lets a call go as it is: pmrun no longer
	// controls the program.
	Free = -1
)

// Header is the control block's first 128 bytes.
type Header struct {
	Magic, Version, NSlots, SlotSize uint32
	NextSlot                         uint32 // slots handed out so far
	Spin                             uint32 // how long a thread spins before it sleeps
	Closed                           uint32 // pmrun stopped controlling
	_                                [9]uint32
	Events                           uint32 // futex word pmrun sleeps on
	CtlSleeping                      uint32
	_                                [14]uint32
}

// Slot is one thread's: its request and pmrun's answer.
type Slot struct {
	// Written by pmrun.
	Turn     uint32 // futex word: the number of the last request answered
	Sleeping uint32 // the thread sleeps (or is about to) on Turn
	Reply    int32
	Parked   uint32 // another thread was chosen for request Parked: sleep now
	ReplyArg int64
	_        [40]byte
	// Written by the thread.
	Seq      uint32
	Op       uint32
	Flags    uint32
	PID, TID int32
	_        int32
	Obj      uint64
	Obj2     uint64
	Arg      int64
	Arg2     int64
	Site     uint64
	Self     uint64
	Text     [TextSize]byte
}

// Block is a control block: a memfd mapped into pmrun, passed to the
// program as a descriptor (see [Block.File]).
type Block struct {
	mem  []byte
	file *os.File
	hdr  *Header
}

// NewBlock makes a zeroed control block.
func NewBlock(spin uint32) (*Block, error) {
	fd, err := unix.MemfdCreate("pmrun-ctl", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("preload: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "pmrun-ctl")
	if err := unix.Ftruncate(fd, Size); err != nil {
		f.Close()
		return nil, fmt.Errorf("preload: control block: %w", err)
	}
	mem, err := unix.Mmap(fd, 0, Size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("preload: mmap control block: %w", err)
	}
	b := &Block{mem: mem, file: f, hdr: (*Header)(unsafe.Pointer(&mem[0]))}
	b.hdr.Magic, b.hdr.Version, b.hdr.NSlots, b.hdr.SlotSize = Magic, Version, Slots, SlotSize
	b.hdr.Spin = spin
	return b, nil
}

// File is the block's descriptor, for the program's ExtraFiles (its
// number there goes in the [Env] variable). It is closed by Close.
func (b *Block) File() *os.File { return b.file }

// Close unmaps the block and closes its descriptor, if [Block.CloseFile]
// has not.
func (b *Block) Close() error {
	err := unix.Munmap(b.mem)
	if b.file != nil {
		if cerr := b.file.Close(); err == nil {
			err = cerr
		}
	}
	return err
}

// CloseFile closes pmrun's descriptor, once the program has its own.
func (b *Block) CloseFile() {
	b.file.Close()
	b.file = nil
}

// Header returns the block's header.
func (b *Block) Header() *Header { return b.hdr }

// Slot returns slot i.
func (b *Block) Slot(i int) *Slot {
	return (*Slot)(unsafe.Pointer(&b.mem[SlotsOffset+i*SlotSize]))
}

// Allocated is how many slots are handed out (at most Slots).
func (b *Block) Allocated() int { return int(min(atomic.LoadUint32(&b.hdr.NextSlot), Slots)) }

// Allocate hands out a slot for a thread pmrun makes room for (a thread
// being created, a child being forked); -1 when none is left.
func (b *Block) Allocate() int {
	i := atomic.AddUint32(&b.hdr.NextSlot, 1) - 1
	if i >= Slots {
		return -1
	}
	return int(i)
}

// Events is the count of requests so far, for [Block.Sleep].
func (b *Block) Events() uint32 { return atomic.LoadUint32(&b.hdr.Events) }

// Wake adds an event and wakes pmrun if it sleeps: for what pmrun's own
// goroutines see (a process that ended, a cancellation).
func (b *Block) Wake() {
	atomic.AddUint32(&b.hdr.Events, 1)
	if atomic.LoadUint32(&b.hdr.CtlSleeping) != 0 {
		futexWake(&b.hdr.Events, 1)
	}
}

// WaitEvents waits until the event count is no longer seen: first
// spinning for up to spin (yielding the CPU every 64 looks, so that the
// thread it waits for can run on a busy machine), then asleep for up to
// timeout. It returns the
// count. A thread that adds an event after pmrun said it sleeps wakes it
// (c/core.c's kick), so no event is missed.
func (b *Block) WaitEvents(seen uint32, spin, timeout time.Duration) uint32 {
	if n := b.spinEvents(seen, spin); n != seen {
		return n
	}
	atomic.StoreUint32(&b.hdr.CtlSleeping, 1)
	if n := atomic.LoadUint32(&b.hdr.Events); n != seen {
		atomic.StoreUint32(&b.hdr.CtlSleeping, 0)
		return n
	}
	futexWait(&b.hdr.Events, seen, timeout)
	atomic.StoreUint32(&b.hdr.CtlSleeping, 0)
	return atomic.LoadUint32(&b.hdr.Events)
}

func (b *Block) spinEvents(seen uint32, spin time.Duration) uint32 {
	if spin <= 0 {
		return seen
	}
	start := time.Now()
	for i := 1; ; i++ {
		if n := atomic.LoadUint32(&b.hdr.Events); n != seen {
			return n
		}
		if i%64 == 0 {
			if time.Since(start) >= spin {
				return seen
			}
			unix.Syscall(unix.SYS_SCHED_YIELD, 0, 0, 0)
		}
	}
}

// Answer answers request seq of slot s with reply and arg, waking its
// thread if it sleeps.
func (s *Slot) Answer(seq uint32, reply int32, arg int64) {
	s.Reply, s.ReplyArg = reply, arg
	atomic.StoreUint32(&s.Turn, seq)
	if atomic.LoadUint32(&s.Sleeping) != 0 {
		futexWake(&s.Turn, 1)
	}
}

// Park tells the thread of slot s, which waits for request seq, that
// another thread was chosen: it stops spinning and sleeps.
func (s *Slot) Park(seq uint32) { atomic.StoreUint32(&s.Parked, seq) }

// LoadSeq is the number of the slot's last request.
func (s *Slot) LoadSeq() uint32 { return atomic.LoadUint32(&s.Seq) }

// TextString is the request's text.
func (s *Slot) TextString() string {
	n := 0
	for n < len(s.Text) && s.Text[n] != 0 {
		n++
	}
	return string(s.Text[:n])
}

// SetClosed tells every thread that pmrun no longer controls the
// program.
func (b *Block) SetClosed() { atomic.StoreUint32(&b.hdr.Closed, 1) }

// Futex operations, shared (not PRIVATE): the block is mapped by several
// processes.
const (
	futexWaitOp = 0
	futexWakeOp = 1
)

func futexWait(addr *uint32, val uint32, timeout time.Duration) {
	ts := unix.NsecToTimespec(int64(timeout))
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitOp, uintptr(val), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

func futexWake(addr *uint32, n int) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakeOp, uintptr(n), 0, 0, 0)
}
