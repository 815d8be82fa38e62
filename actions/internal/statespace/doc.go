// Package statespace is pmrun's model checker: it searches every state of
// a program of the programs: language (package program) on the model
// alone, with no thread, real or otherwise, and says whether any run can
// fail, how, and by the fewest steps. The exhaustive scheduler of package
// control searches here, then replays the run it shows on the program's
// real threads.
//
// # The search
//
// [Search] is breadth first, level by level: level L is the states whose
// shortest path from the start takes L steps. Each state of a level is
// expanded by taking the step of each enabled thread, in index order, on
// a copy of its words ([program.State.Advance]: every check of the model
// applies). A successor is known by its fingerprint (hash.go: 64 bits, a
// sum over the words so that a step's few changed words update it), in an
// open-addressing table of fingerprints (table.go, 12 bytes a slot): two
// states with the same fingerprint are taken as one, as in SPIN's hash
// compaction (-DHC); with N states the chance that any two are confused
// is about N²/2^65 (10⁻⁶ for 6 million states). Only the level being
// expanded and the next are kept as states, each word a zigzag varint
// (store.go); the states already expanded are kept as fingerprints and
// as the state graph: for each state, its edges in thread order, each the
// number of the state the step leads to or a mark for a step that fails
// (4 bytes an edge, in compressed rows).
//
// States are numbered in the order a search on one worker finds them: a
// level's new states by the smallest (parent, thread) that reaches them,
// which is the order of their first shortest paths, the lowest thread
// first. With several workers ([Options.Workers]) a level's states are
// shared out in chunks, the table is shared (a compare-and-swap claims a
// slot), each new state keeps the smallest key any worker reached it by,
// and the level's new states are sorted by key once it is done. So the
// numbers, the graph, the failure shown and every count are the same
// whatever the number of workers and however the threads ran: the result
// depends on the program and the options alone (TestWorkersAgree).
//
// A step that fails (assert, invariant, misuse, mutual exclusion) ends
// its run: the failing state is not explored further. A state where no
// thread can step is final: it passes (every thread finished, expect
// holds) or fails (a deadlock, or expect is false). The search goes on
// past failures, counts each failing step (a state and a thread) and
// each failing final state once ([Result.Failures]), by kind
// ([Result.Kinds]), and shows the first of the shortest: the failure
// whose run has the fewest steps, and among those the one whose first
// shortest path comes first in thread order. Its steps are found again
// from the graph: for each state, the first state of the level before
// with an edge to it.
//
// # What the graph says
//
// When the search is complete, Tarjan's algorithm runs over the graph
// from the start (graph.go, without recursion). A run can end from a
// state when it can reach a final state or a failing step; a state from
// which no run can end is a livelock (or a spin nobody will release): the
// runs through it go on for ever, and state hashing alone would call the
// program a pass. The first such state on a cycle (by number) is shown as
// a lasso ([Lasso]): its first shortest path, then the shortest cycle
// back to it, breadth first within its component. A livelock is counted
// as a failure, verdict max_steps, shown when nothing else failed. When
// the graph has no cycle and [Options.Count] asks, the interleavings are
// counted in the same pass: the maximal runs from the start (a failing
// step ends one), in machine words that saturate at 2^64-1
// ([Result.Saturated]): big integers for each state would cost more than
// the rest of the search. A cycle (a spin) makes them infinitely many
// ([Result.Cyclic]).
//
// # Limits
//
// A search stops, incomplete, and says why ([Result.Stop]): when it has
// visited [Options.MaxStates] states; when what it keeps would pass
// [Options.MaxBytes] (the table, the graph, the two levels, and the
// arrays the analysis needs at the end: all counted, so the bound holds);
// when a state lies [Options.MaxSteps] steps from the start and can still
// step (its runs take more steps than allowed: that state is shown as a
// max_steps failure); when ctx ends or [Options.Budget] has passed. A
// bound reached in the middle of a level drops that level's work: what
// an incomplete search reports depends only on the levels it finished,
// so it too is the same whatever the number of workers.
//
// # Bitstate
//
// With [Options.Bitstate], the search is Holzmann's bitstate hashing
// (supertrace, SPIN's -DBITSTATE): depth first, threads in index order,
// each state remembered as three bits of an array of that many bytes.
// Two states whose bits coincide are taken as one, so a part of the space
// may be missed: a bitstate search is never complete and never a proof
// ([StopBitstate]); it reports, as SPIN does, the hash factor (bits per
// state stored: above 100, close to complete) and the chances it missed
// states ([Coverage]). It keeps no graph: it neither finds livelocks nor
// counts interleavings. Its failure shown is the first its depth-first
// order met, not the shortest.
//
// # DPOR
//
// With [Options.DPOR], the search keeps no state (dpor.go): it walks runs
// depth first, threads in index order, with source sets and sleep sets
// (Abdulla, Aronis, Jonsson and Sagonas, "Optimal dynamic partial order
// reduction", POPL 2014, Algorithm 1). Two steps of different threads are
// dependent when one writes an object the other reads or writes (their
// [program.Footprint]s conflict), when both write variables an invariant
// reads (the invariants are checked on every state, so such writes are
// visible), and when either fails (a failing step ends its run, which
// disables every other step). Each step taken is checked against the run
// for races, steps it depends on with no step between them in the
// happens-before order (vector clocks); for each, a thread that starts
// the other order is added to the backtrack set of the state before the
// earlier step, unless the earlier step is what enabled the later. Two
// additions keep blocking and failures sound: the next step of a thread
// that is blocked (a wait, a lock, a condition) is checked for races as
// if taken, since the run may never take it; and a failing step's state
// is expanded by every thread. TestDPORIsSound compares it with the plain
// search on random programs (failures by kind, final states, whether a
// run passes); leaving out any of these rules makes it fail.
//
// The search is complete when every run is walked; its States count the
// states of the runs walked (a state on two runs counts twice), so
// Transitions + 1. It finds every failure kind and final state the plain
// search finds, shows the failure with the fewest steps it met (not
// always the fewest there are), and counts no interleavings. A run that
// comes back to a state on its own path (a loop, a spin) or grows longer
// than [Options.MaxSteps] means the runs need not end: the search then
// gives way to the plain one ([Result.Fallback] says why), which decides
// livelocks and max_steps as usual. The check of the path only makes the
// fallback early: equivalent runs have the same length, so the runs cut
// at MaxSteps are traces of their own, and a program with a run that
// does not end has one DPOR walks to that depth.
//
// With [Options.Shard], DPOR splits its tree of runs, not the state graph
// (dshard.go): every shard walks the top of the tree alike, to the least
// depth at which it holds at least 8·N prefixes, trying every thread at
// each state of the top (with sleep sets: no two prefixes are one run in
// another order); it deals the prefixes, and the runs that end above
// them, round-robin, and walks with DPOR below its own. A race found
// below a prefix asks for a thread at a state of its run; at a state of
// the top every thread is taken already, so nothing below a prefix
// changes the top, and the shards between them walk what one search
// with its top expanded in full walks (TestDPORShards: every failure and
// final state of the whole search). Each shard's transitions against the
// whole DPOR search's, 4 shards (TestDPORShardBalance, its walks of the
// top included): dining philosophers of 8, ordered, 0.23 to 0.42; of 10,
// 0.24 to 0.40; lost update of 3 threads × 2, 0.22 to 0.30: the largest
// is 1.2 to 1.7 times an even share, where the hashing search's shards
// each take 0.56 to 1.00 of the whole. More prefixes a shard (32·N) do
// worse: the top is walked unreduced, by every shard. A shard that meets
// a run that need not end falls back to the whole plain search (another
// shard may not meet it: the whole graph keeps the union complete).
//
// # Shards
//
// With [Options.Shard] {I, N} the search is split across workers that
// share nothing: every shard searches the first levels alike, until a
// level holds at least 8·N states; of that level, shard I keeps every
// N-th state from I and takes the others as visited (another shard
// searches from them). Between them the shards visit every state and
// find every failure the whole search finds (TestShards), and the shard
// whose part holds the whole search's shortest failure shows one as
// short. But the states two parts reach overlap: the runs of a
// concurrent program meet again, so each shard visits a large part of
// the space (TestShardBalance, 4 shards, each shard's transitions
// against the whole search's: barrier of 7 threads 1.00; dining
// philosophers of 8, ordered, 0.86 to 0.95; lost update of 4 threads × 3,
// 0.81 to 0.87): the split is even, but saves little. Parallel search on
// the cores of one machine does not duplicate anything. A DPOR search
// splits its tree of runs instead, which does save (see DPOR above).
//
// # Starvation
//
// A program with a progress step ([program.Program.ProgressThreads]) is
// one whose runs may go on for ever: its cycles are not livelocks in
// themselves, and [Search] does not report them. [Starvation] judges
// them instead (progress.go): it keeps every state and every step (as
// [Search] does: fingerprints in the table, the states to expand as
// varints, the graph in flat arrays; about 100 bytes a state), and
// for each thread with a progress step looks for a weakly fair cycle in
// which that thread, not finished, never takes it (SPIN's non-progress
// cycles, a thread at a time). [Starves] checks one lasso, for a replay.
//
// # Hooks for reductions
//
// [Options.Canon] puts each state in a canonical form before it is
// hashed (a symmetry reduction maps the states that differ by a
// permutation of interchangeable threads to one); the search then keeps
// canonical states. The graph the search keeps is what a search for
// cycles needs (progress cycles, fair cycles): every edge of every state.
// Canon also gives the permutation it made, with which a path of
// canonical states becomes a run of the program (path.go): the failure
// and the passing run a search with Canon shows are real runs. Its
// livelocks have no steps (a canonical cycle need not be one of the
// program) and it counts no interleavings.
package statespace
