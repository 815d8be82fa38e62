// Package native runs a real, unmodified, dynamically linked program (C,
// C++: anything that synchronizes through glibc's pthread and semaphore
// calls) under pmrun's scheduler, the way CHESS did for Windows threads:
// one thread of the program runs at a time, and at every synchronization
// call pmrun decides which goes next, so that a failing interleaving is
// found, printed as a schedule, and replayed exactly.
//
// # How a run goes
//
// [Start] makes a control block (package preload: a memfd mapped by pmrun
// and by every process of the program), starts the program through a
// process table of its own (package proc: its own process group, reaped
// by the one reaper, marked for the guard) with the interposition library
// in LD_PRELOAD and the block as descriptor 3, and waits for the
// program's first thread to reach the library (the handshake).
//
// Every synchronization call of the program first asks pmrun: the
// library writes the call into its thread's slot (what, on which object,
// from which return address) and waits for its answer. A thread that
// waits is at a point; the one that holds the turn runs on to its next
// call. [Run.Enabled] lists the threads that can go, from pmrun's model
// of every object (a mutex's holder, a semaphore's value, a condition's
// queue, a read-write lock's readers, a barrier's arrivals, a child's
// end); [Run.Step] lets one go: the model takes its call (the call is
// then made for real only where it will not block, or the library
// returns what the model says: a condition, a barrier and the timeouts
// are emulated), and pmrun waits for that thread to reach its next
// point, end, or leave pmrun's control. Nothing ever blocks on a real
// lock, so a deadlock is exact: no thread can go while some have not
// ended, and [Run.End] explains it as the program action does (who holds
// what, who could release it, the cycle). Otherwise End checks how the
// program exited: a signal (an assert's SIGABRT, with the assertion the
// library noted), an exit status or an output other than expected.
//
// Timed calls (pthread_cond_timedwait, sem_timedwait, …) time out only
// when no thread can go otherwise: time passes when nothing else can
// happen. Sleeps and sched_yield are points where another thread may go;
// under pmrun they take no time. A condition wakes its waiters oldest
// first, with no spurious wake-ups.
//
// # Processes
//
// fork is a point: pmrun makes room for the child's thread before the
// real fork, and the child waits for its first turn before anything of
// it runs (in an atfork handler, before the program's own). Every process
// of the program is scheduled with the others. An object is known across
// processes by what its memory maps: a process-shared one (a mutex or a
// semaphore initialized process-shared, a condition, lock or barrier with
// a process-shared attribute) by the file its mapping holds (device,
// inode, offset, read from /proc/PID/maps: the same for every process
// that maps it, an anonymous shared mapping too), a named semaphore by
// its name, any other by its process and address. A wait for a child is
// a point that can go once a child it waits for has ended. exec keeps
// the thread's slot: the new image finds it by its thread id.
//
// # The turn passing
//
// A thread asks by numbering its request in its slot and adding one to
// the block's event count; pmrun, which spins on that count for a while
// after each step (ctlSpin) and then sleeps on it (a futex), answers by
// writing the request's number into the slot's turn. The thread spins on
// its turn for a while, then sleeps on it: when the same thread goes on,
// no system call is made at all; when another is chosen, pmrun tells the
// asker to stop spinning (Slot.Park) and wakes the chosen one.
//
// # What is outside its control
//
// Said in the result, never hung on:
//   - a static binary, a Go program, a Rust program, or one without glibc
//     never calls the library: [Check] refuses it before it runs, and the
//     handshake catches the rest ([HandshakeError]);
//   - a thread that holds the turn and sleeps in a call pmrun does not
//     control (a read on a pipe, poll, a raw futex) is noticed by the
//     watchdog ([Config.Watchdog]), let run, and named in [Run.Notes]; the
//     others go on meanwhile, so that run may not replay exactly;
//   - a race on plain memory between two synchronization calls is not a
//     point unless the program marks it with pmrun_point (pmrun.h);
//     ThreadSanitizer finds such races;
//   - a process started without a fork pmrun saw (posix_spawn, system)
//     joins when its library starts, at a time pmrun did not choose.
//
// # Strategies
//
// [Threads] are the program's threads as package engine's interface
// gives them to package control, whose strategies (random, PCT, replay),
// shrinker and outcome are written once for every kind of thread: each
// [Threads.Start] executes the program anew (a stateless search: there
// is no model state to hash), and a step hands the turn to a thread and
// waits for it at its next call. Threads are numbered in the order the
// program makes them, the same in every run that takes the same turns.
// The shrinker re-executes the program for each candidate, at most
// ShrinkRuns times. PCT gives a thread made during a run a priority when
// it first can go, and drops a thread that yields or sleeps and comes
// back to the same call (a spin: [engineRun.Hash] stands for the state
// pmrun sees). A schedule is the one-line text of package schedule,
// naming the binary's file and a hash of its bytes: a rebuilt binary
// refuses an old schedule ([Program.CheckSchedule], [RebuiltError]).
package native
