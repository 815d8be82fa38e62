// Command pmrun runs process-synchronization scenarios written in YAML
// against real processes, threads, pipes and semaphores, and logs
// everything it does as JSON lines.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/pmrun/pmrun/runner/lang"
)

func main() {
	// pmrun's OS threads lock the main goroutine to the main thread (package
	// osthread), so the real work runs on another goroutine: blocking here
	// would otherwise park a whole OS thread each time.
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		nameAgentProcess()
	}
	code := make(chan int)
	go func() {
		// PMRUN_CPUPROFILE=FILE writes a CPU profile of the command, for
		// whoever works on pmrun's speed (make bench).
		if path := os.Getenv("PMRUN_CPUPROFILE"); path != "" {
			if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
				c := pmrun(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
				pprof.StopCPUProfile()
				f.Close()
				code <- c
				return
			}
		}
		code <- pmrun(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	}()
	os.Exit(<-code)
}

var agentName = []byte("pmrun-agent\x00")

// nameAgentProcess names the process pmrun-agent in ps and top: an agent is
// /proc/self/exe re-executed, which the kernel would call "exe". It must
// run on the main thread, whose name is the process's; the main goroutine
// holds it (package osthread locks it there).
func nameAgentProcess() {
	_ = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(&agentName[0])), 0, 0, 0)
}

// Exit codes (README "Exit codes").
const (
	exitOK          = 0
	exitFailed      = 1
	exitUsage       = 2
	exitOutput      = 3 // the log, a report, the trace, the JUnit file, a recording or stdout could not be written
	exitInterrupted = 130
)

// exitError carries an exit code; main only maps errors to codes.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }
func (e *exitError) ExitCode() int { return e.code }

func usageErrorf(format string, args ...any) error {
	return &exitError{code: exitUsage, err: fmt.Errorf(format, args...)}
}

// pmrun runs the command line and returns the exit code.
func pmrun(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	out := &checkedOutput{w: stdout}
	c := &cli{stdin: stdin, stdout: out, stderr: stderr}
	root := c.commands()
	root.SetArgs(doubleDashes(root, args))
	err := root.Execute()
	if werr := out.Err(); werr != nil {
		err = outputLost(err, werr, stderr)
	}
	return code(err, stderr)
}

func code(err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	var loadErrs lang.LoadErrors
	if errors.As(err, &loadErrs) {
		// FILE:LINE:COL: message, one per line, as editors and CI parse them.
		fmt.Fprintln(stderr, loadErrs.Error())
		fmt.Fprintf(stderr, "pmrun: %d %s; nothing was run\n", len(loadErrs), plural(len(loadErrs), "error", "errors"))
	} else if msg := err.Error(); msg != "" {
		fmt.Fprintln(stderr, "pmrun: "+msg)
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return exitFailed
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
