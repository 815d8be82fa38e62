// Package points puts processes written in any language (shell scripts,
// Python, a program pmrun cannot preload) under pmrun's scheduler at a
// coarse grain: a process stops at a named point, `pmrun point NAME`,
// until pmrun lets it go, so that a scenario can search and replay the
// order in which several real processes pass their points (two scripts
// racing on a lock file).
//
// # The protocol
//
// pmrun listens on a Unix stream socket and gives every process it starts
// two variables: PMRUN_POINT_SOCKET, the socket's path, and
// PMRUN_POINT_ID, the process's identity (opaque text without spaces;
// anything the process starts inherits both). At a point a process
// connects to the socket and writes one line:
//
//	point ID NAME\n
//
// ID is PMRUN_POINT_ID, NAME the point's name (the rest of the line, at
// most 200 bytes, no tab). NAME may be followed by a tab and FILE:LINE,
// where the process is in its source (`pmrun point --at "$0:$LINENO"
// NAME`): the run's table shows that line, and the report the script's
// lines around it. It then reads one line: pmrun writes "go\n" when it
// lets the process go on, or "error MESSAGE\n" when it refuses the point
// (an unknown ID, a second point of a process already stopped at one, a
// run already over); either way pmrun closes the connection. Without
// PMRUN_POINT_SOCKET a point is nothing: the process goes on at once, so
// a script runs the same outside pmrun. [Ask] is the client (`pmrun
// point`); any language with Unix sockets speaks it in a few lines.
//
// # A run
//
// Each run starts the processes one at a time, in the order of their
// names, each in a new empty folder shared by the run's processes (their
// files start afresh every run): a process runs alone until it stops at
// its first point or ends, then the next starts. Then at each step pmrun
// lets one stopped process go, and waits until it stops again or ends:
// one process runs at a time, so the same schedule gives the same run.
// A run fails when a process exits with a status other than the one
// expected, is killed by a signal, writes a standard output without a
// match of what is expected of it, or when the run takes longer than its
// timeout.
//
// # What is outside its control
//
// A process that neither stops at a point nor ends within the watchdog
// time (it waits for another process, reads a pipe, sleeps) is let run
// and noted in the result; the others go on meanwhile, so that run may
// not replay exactly. What a process does between two points is one
// step: a race between two of its accesses without a point between them
// is not searched.
package points
