// Package program is the pure core of pmrun's `programs:` language: the
// parser of a scenario's `programs:` section, the checks a loader can make,
// and a deterministic model of a program's execution, independent of OS
// threads. The executors (free-running OS threads under `scheduler: os`,
// one thread at a time under random, PCT, exhaustive and replay) drive the
// model: they ask which threads can take a step ([State.Enabled]), take one
// ([State.Step]), and clone and hash states ([State.Clone], [State.Hash]).
//
// # Steps
//
// Each operation is declared once, in the table of ops.go: its key, the
// shape of what it takes, the lists of operations beside it, its schema's
// words and how it compiles to instructions (with their footprints); the
// parser, the schema, the canonical text and the compiler read the table,
// and State.step holds what each instruction does.
//
// A run is a sequence of visible steps, each taken by one thread, one at a
// time; a scheduler chooses among the enabled threads before each step.
// Between two of its visible steps a thread runs its invisible operations at
// once: they read and write only its own locals, so no other thread can
// tell when they ran. An expression "reads shared" when it names a
// program variable (not a local, not self).
//
//	operation                       steps   enabled when / effect
//	wait: S                         1       non-FIFO: S > 0; takes a unit. Any
//	                                        waiter may take it (barging).
//	                                        FIFO: always; takes a unit if S > 0,
//	                                        else queues and blocks until a signal
//	                                        hands it one (it then needs no step
//	                                        of its own to return from wait).
//	signal: S                       1       FIFO with waiters: hands the unit to
//	                                        the oldest; else S += 1. Past a
//	                                        declared max: misuse.
//	lock: M                         1       M free; takes it. Locking a mutex the
//	                                        thread holds is enabled and a misuse
//	                                        (mutexes are not recursive).
//	unlock: M                       1       always; by a thread that does not
//	                                        hold M: misuse.
//	cond_wait: {cond: C, mutex: M}  2       1st (always enabled): releases M and
//	                                        queues on C (misuse if the thread
//	                                        does not hold M). 2nd, after a
//	                                        cond_signal or cond_broadcast, when M
//	                                        is free: takes M back (Mesa: the
//	                                        condition may no longer hold).
//	cond_signal: C                  1       moves the oldest waiter of C on to
//	                                        reacquiring; lost when none waits.
//	cond_broadcast: C               1       moves every waiter of C, oldest first.
//	set: x = EXPR                   2 / 1   EXPR reads shared: a read step (EXPR
//	                                        evaluated, all its variables at once)
//	                                        and a write step. Otherwise one write
//	                                        step. Updates between the two are lost.
//	atomic_set: x = EXPR            1       read and write in one step.
//	local: t = EXPR                 1 / 0   a step when EXPR reads shared.
//	if: COND (then/else)            1 / 0   the test is a step when COND reads
//	                                        shared.
//	while: COND (do)                1 / 0   each test is a step when COND reads
//	                                        shared; a bare while (no do) spins.
//	repeat: N (do)                  1 / 0   N is read once, a step when it reads
//	                                        shared; counting is invisible.
//	critical: [ops]                 2       entering and leaving are steps; a
//	                                        thread entering a region that already
//	                                        holds its capacity breaks mutual
//	                                        exclusion.
//	assert: EXPR                    1       false: verdict assert.
//	work: DURATION                  1       real time under scheduler: os; no
//	                                        time under control.
//	yield                           1       nothing: a point where another thread
//	                                        may run.
//	log: TEXT                       1       prints TEXT with ${{ EXPR }} parts.
//	call: NAME(ARGS)                0       the procedure's operations, in place,
//	                                        its parameters standing for ARGS (a
//	                                        value computed into a local: a step
//	                                        when it reads shared).
//	progress                        1       nothing: the thread made progress
//	                                        (exhaustive looks for starvation:
//	                                        a fair cycle without it).
//
// `set: x = 1` is one step: its expression reads nothing shared, so a read
// step before the write could not be told apart from any other moment.
//
// A step that reads no shared object (yield, work, a log of locals) has an
// empty [Footprint]. The reacquire of cond_wait reads its condition, since
// only a signal of that condition enables it. Invariants are checked on
// every state, so a search that skips states rather than orders (DPOR with
// persistent sets) must count a write to [Program.InvariantVars] as
// visible. A thread's start and end are not steps; a thread has
// finished when its code is done. A thread may run at most 100000
// invisible operations between two visible steps (a loop over locals that
// never ends fails with verdict max_steps).
//
// Locals are declared by their first `local:`, in the order of the text,
// and hold that expression's type (an integer or a bool) from then on;
// each thread has its own. `self` is the index of a thread declared with
// `count`, and undefined elsewhere.
//
// # Arrays and procedures
//
// An array is a family of objects declared as one name — vars: {state:
// [0, 0, 0]}, semaphores: {fork: {count: 5, value: 1}}, mutexes: [{m:
// 3}], regions: {seat: [1, 1]} — whose elements are objects of their
// own, named NAME[0] … NAME[N-1] in states, footprints and messages. An
// operation names one as NAME[EXPR] (wait: fork[(self + 1) % 5]), EXPR
// computed at load for each thread from self, numbers and the parameters
// of the procedure it is in: alike threads whose indices read self get
// code each. An index outside the array is a load error at its line and
// column. An expression reads an element as NAME[EXPR] too: with an index
// known at load the step reads that element alone; with one only a run
// knows (a local, a shared variable) it reads the whole array, and an
// index outside it fails the step (verdict assert).
//
// A procedure (procedures: {NAME: {params: [P, …], do: [ops]}}) is put in
// place by each call: (see procs.go): a parameter stands for an object or
// an array element (the body acts on it), for a number known at load, or
// for a value computed into a local when the call starts. A procedure
// does not call itself. Errors in its body are at their line and column
// in the procedure, with the call they were made for.
//
// # Critical regions
//
// A bare `critical: [ops]` uses the program's default region, which admits
// one thread. For Downey's multiplex, declare regions with a capacity and
// name one: `regions: {room: 3}` and `critical: {region: room, do: [ops]}`.
// Regions are independent of each other; a thread cannot nest a region
// inside itself.
//
// # Checks
//
// After every step: the step's own check (assert, misuse, mutual
// exclusion), then, if the step changed a shared variable, the invariants
// (which read only shared variables). When no thread is enabled,
// [State.End]: if every thread has finished, expect; otherwise a deadlock,
// explained. A run driver adds the step limit (max_steps). The verdicts:
// pass, assert, expect, invariant, mutual_exclusion, misuse, deadlock,
// max_steps. A run-time error of an expression (a % 0) is verdict assert.
// Integers are 64-bit and their arithmetic is checked (arith.go): an
// overflow (x + x past 2^63−1, -x of −2^63), a division by zero (a / 0,
// a % 0) or a fraction out of range (int(2 ** 64)) is verdict assert,
// with the expression and its values, wherever it is evaluated — a
// step, an invariant, expect or a log; on two literals, a load error.
//
// # Deadlock explanation
//
// Every blocked thread, what it waits on, and who could release it: a
// mutex's holder (or that the holder finished without unlocking it); for a
// semaphore or a condition, the other threads whose remaining code — from
// where they are, every branch and loop followed — signals it, or
// "nobody". When threads wait for each other in a cycle, the cycle is
// given: A → m2 → B → m1 → A.
//
// # Determinism
//
// Step is a function of the state and the thread: conditions queue in
// arrival order, a signal hands to the oldest, broadcast wakes oldest
// first. [State.Hash] hashes the state's words (xxHash64's rounds),
// stable across processes and machines. [Program.TextHash] hashes a
// canonical text of the definition, not its YAML layout.
package program
