// Package control runs a program of the programs: language under a
// controlled scheduler: on real, kernel-named OS threads, one at a time,
// choosing at every visible step which thread takes the next, so that a
// failing interleaving is found, printed as a schedule, shrunk, and
// replayed exactly.
//
// Every scheduler of the program action is a [Strategy], and they are
// peers, as awslabs/shuttle's are: random, pct, bounded and exhaustive
// search; os runs the program on free threads (package freerun), the
// kernel deciding; manual has a person choose every step ([Player], [Game]);
// replay runs the steps a schedule names. [For] is the one place a
// scheduler's name (or a schedule) becomes a strategy, [Register] adds
// one, and [Run] runs a [System] under the one chosen. All of them return
// an engine.Outcome, which the program action turns into its result.
// [Search] and [Replay] are Run on a program's threads.
//
// The strategies, the shrinker and the replay drive their threads through
// package engine's interfaces (engine.Threads, engine.Run, engine.Driver),
// so that another kind of controlled thread plugs in without touching
// them. This package gives two kinds for a program of the programs:
// section: program threads ([Start]), the executor below, and model
// threads ([Model]), which take the same steps with no OS thread, on the
// caller's goroutine (the shrinker runs its candidates there).
//
// # The executor
//
// Each thread of the program is an OS thread of its own (package
// osthread), named after it (the kernel keeps 15 bytes: see
// /proc/self/task/*/comm), and each has a futex word of its own (a
// sem.Semaphore). Exactly one holds the turn. It takes its step on the
// shared model state ([program.State.Step]; every check of the model
// applies), then asks the strategy who goes next among the enabled
// threads. If it is itself, it goes on with no system call at all;
// otherwise it posts the next thread's word (a futex wake) and waits on
// its own (a futex wait). Nobody ever waits on a real semaphore of the
// program, so a deadlock is exact: no thread is enabled while some have
// not finished ([program.State.End]), and the explanation is the model's.
// `work` takes no time. [Options.Trace] and [Options.OnRun] are called on
// the thread that took the step.
//
// The threads are started once for a search and take every run of it: a
// run that ends starts the next on the same thread, with no trip through
// the caller's goroutine. Measured (2 CPUs): starting and joining three
// threads costs 0.58 ms, a whole run of the reusable barrier (about 100
// steps, 40 switches) 0.33 ms, so threads a run would make a search about
// three times slower.
//
// A thread asleep in a futex wait keeps its Go runtime P until the
// runtime's monitor takes it back (20 µs to 10 ms later); with more
// threads than Ps, a thread handed the turn waits that long for one (55 µs
// a switch for three threads on 2 Ps). So while its threads live, a search
// raises GOMAXPROCS by their number, and restores it after: 5.6 µs a
// switch for three threads, 3.4 µs for two (a C program passing a turn
// through two sem_t: 3.5 µs). Only one of the threads runs at a time. The
// threads and those Ps count against the process limit (RLIMIT_NPROC:
// the runtime may give every P an OS thread, the garbage collector's
// workers first, and aborts pmrun when it cannot), so the threads must
// fit under it (package nproc) and the crew adds as many Ps as fit beside
// them.
//
// # Strategies
//
// Runs are numbered from 0, and run r draws all its randomness from a PCG
// generator (math/rand/v2's, whose output is specified) seeded with (seed,
// r); the uniform draws below are this package's own, not a library
// helper's, so they stay the same.
//
// random: at every step where more than one thread is enabled, the next is
// enabled[u], u uniform in [0, len(enabled)), the enabled threads in
// declaration order. A step with one enabled thread draws nothing.
//
// pct: the randomized scheduler of Burckhardt, Kothari, Musuvathi and
// Nagarakatte (ASPLOS 2010), as its Algorithm 1: thread t starts with
// priority d + π(t) − 1, π a uniform permutation of 1…n (drawn first);
// d−1 change points k_1…k_{d−1} are drawn independently and uniformly from
// 1…k (in that order); the enabled thread of highest priority takes every
// step, and after it takes the k_i-th step, its priority becomes d − i.
// Only steps where more than one thread is enabled are counted (the
// paper's 4.1). k is estimated once per search, by a probe run under the
// random strategy with the stream (seed, 2^64−1), as its number of steps
// with a choice; the probe's verdict is not reported, and every shard
// makes the same probe. The outcome reports k and the paper's bound for
// one run, pct_bound = 1/(n·k^(d−1)). One addition: a step that changes
// nothing at all (the test of a spin that found its condition unchanged)
// drops its thread below every other priority, as Coyote and Shuttle do
// on a yield; without it a spinning thread at the top would spin to
// max_steps and hide the real bug. A program without spins runs exactly
// the paper's algorithm.
//
// bounded: iterative preemption bounding, as CHESS (Musuvathi and Qadeer,
// PLDI 2007). A preemption is a step by another thread than the one that
// took the step before, when that one could have gone on; a switch where
// it blocked, ended or spun costs nothing. Round b makes every run with
// exactly b preemptions, b = 0, 1, … up to Options.Preemptions, and the
// search stops after the round that found a failure (Outcome.Bound is
// the last round made in full; -1 when not even round 0 was). A run keeps
// to the thread that took the last step while it can go on; at a switch
// that costs nothing it takes the first thread that can go, in
// declaration order, and the others are alternatives of the same round,
// taken depth first by later runs (each replaying the run before up to
// the step and going the other way there). Every point where the run kept
// to its thread while another could go is a run of the next round: the
// steps up to there, then the other thread. Each run with at most the
// bound is so made exactly once. A spin is a step that brings the run
// back to a state it was in (when the threads' states hash,
// [engine.Hasher]); the threads that spun since the last new state are
// passed over at a free switch, and when only they can go on the run is
// cut there, without a verdict (every way out of the loop is a run of its
// own). A search in which every run was cut is incomplete. Shards share
// round 0 (every shard makes it) and split the runs it passes by for
// round 1 round-robin, each shard then making the later rounds of its
// own.
//
// exhaustive: every reachable state, on the model alone (package
// statespace: breadth first, each state known by a 64-bit fingerprint, as
// SPIN's hash compaction, the chance of confusing two of N states about
// N²/2^65; every CPU; the result the same whatever their number). No
// thread runs during the search; the run it shows is then shrunk and
// replayed on the threads like any search's. The failure shown is one
// with the fewest steps there are, chosen among them to switch threads
// little (the shrinker then never makes it longer). States from which no
// run can end (a livelock, or a spin nobody will release) are a failure,
// verdict max_steps, shown as a lasso: the steps to such a state, then a
// cycle back to it. The search goes on past failures and counts each
// failing step and failing final state once; where the state graph is
// acyclic and the search complete and unsharded, it counts the
// interleavings too (maximal runs, a failing step ending one). Options
// bound it: MaxStates, MaxBytes (what it keeps), MaxSteps (a state
// further from the start that can still step fails with max_steps),
// Budget; Bitstate makes it a bitstate search, never complete. It
// searches states, not runs: Runs does not apply. The seed plays no part.
// In a program with a progress step, a search that found no failure then
// looks for a thread that starves (statespace.Starvation): the starvation
// is shown as a lasso, not shrunk, replayed with the loop watch ending
// the run with it; a schedule replayed whose last steps go round from
// where they started, starving a thread, says starvation too.
//
// A run shown as a lasso is replayed on the threads up to the end of its
// cycle, which must bring it back to the state where the cycle starts;
// a run of random or PCT that took max_steps is shown up to the first
// state it came back to, the same way. A replay that goes on past its
// schedule's end (the last thread while it can, else the lowest) and
// comes back to a (state, last thread) it was in, found by Brent's cycle
// finding in constant memory, would go round for ever: it ends there,
// verdict max_steps, the loop marked in its interleaving
// ([program.Interleaving.Repeats]).
//
// Every step of random, PCT, a replay or a game is taken by the real
// thread whose step it is; the model alone takes the steps of the
// exhaustive search and the runs of shrinking, whose result is then
// replayed on the real threads.
//
// replay ([Replay]): the steps a schedule names, in order; a step naming a
// thread that cannot take it is a [NotFitError] ("the schedule does not
// fit: step 7 names thread B, which is blocked on wait mutex"); a
// schedule for another program or an edited one is refused
// ([schedule.ErrMismatch]). Past the end of the schedule the run goes on
// with the last thread while it can, else the lowest that can, and
// the Outcome's Note says so.
//
// game ([NewGame]): a person is the scheduler. The caller asks for each
// step ([Game.Step]); the thread whose step it is takes it on its own OS
// thread (a drive of one step, so nothing runs between steps and no
// watchdog waits on the person), and [Game.Undo] goes back a step by
// restoring the model's state before it (the threads hold no state of
// their own). [Game.Finish] replays the steps kept, recording them, and
// returns an outcome as Replay does; its schedule replays the game.
//
// # What a search returns
//
// Random and PCT make all their runs and count the failing ones; the
// outcome shows the first that failed (the lowest run number), else the
// last run. Exhaustive goes on past a failure too (not beyond the failing
// step), counts the failing steps and final states it found, and shows
// one with the fewest steps. The shown run is shrunk (when [Options.Shrink]) and replayed
// on the real threads with every step recorded, which gives the
// interleaving, the final values and the deadlock's explanation; a replay
// that does not fail as the search saw is an error.
//
// Shrinking works on the model: it first drops the steps that changed
// nothing (a spin's test), then greedily tries, in a fixed order, each
// prefix (the run going on as a replay does), each block of one thread's
// consecutive steps left out, and each block moved next to its thread's
// following or preceding block, and takes the first candidate that fails
// the same way (verdict and place) with fewer switches, or as many and
// fewer steps; until none does or a budget of model steps is spent (a
// step count, not a time, so that it ends alike everywhere). The outcome
// keeps the original's steps and switches.
//
// # Determinism and shards
//
// A search depends only on its program, its options and its seed: the same
// runs, the same failure and the same schedule, byte for byte, in another
// process or on another machine (TestDeterminism compares two processes).
// With [Options.Shard] {I, N}, random and PCT make only the runs r with
// r mod N = I, each exactly as the whole search would, so the shards
// between them make every run once and fail in the same runs, and the
// shard holding the lowest failing run shows the same failure. Exhaustive
// is split by package statespace: every shard searches the first levels
// alike, until a level holds at least 8·N states, and searches from every
// N-th state of that level, from I; between them the shards visit every
// state the whole search does and find the same failures
// (TestExhaustiveShards), though what the parts reach overlaps.
//
// # Faults
//
// A thread that holds the turn longer than [Options.Watchdog] without
// taking a step or using CPU time (blocked outside the scheduler's
// control, by a trace callback or anything else) fails the search with a
// [StuckError] naming it; it is left to end when it comes back. A thread
// that works that long is not stuck: a step of a big search (its
// bookkeeping, a table that grows by gigabytes, its share of the garbage
// collector's marking) on a loaded machine can take seconds, as a
// 64-thread exhaustive search once did. When ctx ends in the middle of a search,
// the running thread stops at its next step and every thread is joined
// before Search returns, with the cause in the error and the outcome of
// what was done.
package control
