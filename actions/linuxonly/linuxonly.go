// Package linuxonly stops a build of pmrun for another system with one
// message: pmrun drives Linux's own interfaces (futexes, pidfds, prctl,
// pipe sizes, memfd, /proc), and has no port. Each package that calls one
// of them imports this one, so that the compiler, which does not compile
// a package whose import failed, reports this package's error alone
// instead of a page of undefined names of golang.org/x/sys/unix.
package linuxonly
