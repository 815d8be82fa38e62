// Package preload is pmrun's interposition library: its C source (c/,
// embedded), its build with the system C compiler into the user's cache,
// and the control block it shares with pmrun.
//
// Loaded into a program with LD_PRELOAD, the library makes each
// synchronization call (threads, mutexes, conditions, semaphores,
// read-write locks, spin locks, barriers, sched_yield, sleeps, waits for
// children, fork, exit, and pmrun_point from pmrun.h) ask pmrun for the
// turn first, through a [Block]: a memfd that pmrun maps and passes to the
// program, which every process of the program maps too. c/pmrun_ctl.h
// describes the protocol; package native is pmrun's side of it. Without
// the block in its environment the library only forwards each call to
// libc: one load and one branch more per call.
//
// # Build and cache
//
// [Library] builds the library on first use: the sources are written to a
// temporary folder and compiled with $CC, else cc, gcc or clang, into a
// temporary name in the cache folder ($XDG_CACHE_HOME/pmrun, or
// ~/.cache/pmrun; mode 0700, owned by the user), then renamed to
// libpmrun-HASH.so, HASH a hash of the sources: a rename is atomic, so
// two pmruns that build at once each install a whole library, and an
// edited source is a new file. Without a C compiler the error names what
// to install. PMRUN_PRELOAD names a library built elsewhere instead
// (make preload builds it into the cache and prints its path).
package preload
