package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/sys/unix"
)

// cmdPTY runs a command on a terminal of its own (a pseudo-terminal, as a
// shell in a terminal window would): pty [-size COLSxROWS] [-until REGEXP
// (-touch FILE | -sigint)] COMMAND [ARGS...]. What the command wrote is
// the script's stdout, byte for byte ("\n" is not turned into "\r\n").
// -until waits until the output matches REGEXP, then creates FILE in
// $WORK or sends SIGINT, so that a script can end a step once the live
// line showed, with no time to guess. The exit code is in pty.exitcode.
func cmdPTY(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("usage: pty [-size COLSxROWS] [-until REGEXP (-touch FILE | -sigint)] COMMAND [ARGS...]")
	}
	cols, rows := 100, 30
	var until *regexp.Regexp
	touch, sigint := "", false
	for len(args) > 0 && len(args[0]) > 1 && args[0][0] == '-' {
		switch {
		case args[0] == "-size" && len(args) > 1:
			_, err := fmt.Sscanf(args[1], "%dx%d", &cols, &rows)
			ts.Check(err)
			args = args[2:]
		case args[0] == "-until" && len(args) > 1:
			until = regexp.MustCompile(args[1])
			args = args[2:]
		case args[0] == "-touch" && len(args) > 1:
			touch = args[1]
			args = args[2:]
		case args[0] == "-sigint":
			sigint = true
			args = args[1:]
		default:
			ts.Fatalf("pty: unknown option %s", args[0])
		}
	}
	if len(args) == 0 || (until != nil) == (touch == "" && !sigint) {
		ts.Fatalf("usage: pty [-size COLSxROWS] [-until REGEXP (-touch FILE | -sigint)] COMMAND [ARGS...]")
	}
	master, slave, err := openPTY(cols, rows)
	ts.Check(err)
	defer master.Close()
	cmd := exec.Command(scriptPath(ts, args[0]), args[1:]...)
	cmd.Dir = ts.Getenv("WORK")
	cmd.Env = scriptEnv(ts)
	out, copied, err := startOnPTY(cmd, master, slave)
	ts.Check(err)
	if until != nil {
		deadline := time.Now().Add(30 * time.Second)
		for !until.MatchString(out.String()) {
			if time.Now().After(deadline) {
				_ = cmd.Process.Kill()
				_ = cmd.Wait()
				ts.Fatalf("pty: the output never matched %s in 30s:\n%q", until, out.String())
			}
			time.Sleep(10 * time.Millisecond)
		}
		if touch != "" {
			ts.Check(os.WriteFile(ts.MkAbs(touch), nil, 0o644))
		} else {
			ts.Check(cmd.Process.Signal(syscall.SIGINT))
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(60 * time.Second):
		_ = cmd.Process.Kill()
		ts.Fatalf("pty: %s did not end in 60s:\n%q", args[0], out.String())
	}
	<-copied
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else {
		ts.Check(err)
	}
	ts.Check(os.WriteFile(filepath.Join(ts.Getenv("WORK"), "pty.exitcode"), []byte(strconv.Itoa(code)+"\n"), 0o644))
	fmt.Fprint(ts.Stdout(), out.String())
}

// startOnPTY starts cmd in a session of its own whose controlling
// terminal is the pseudo-terminal's slave side, which it then closes (the
// child holds it: EOF, as EIO, comes when the child exits). What the child
// writes collects in out; copied is closed once all of it has.
func startOnPTY(cmd *exec.Cmd, master, slave *os.File) (out *lockedBuffer, copied <-chan struct{}, err error) {
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	err = cmd.Start()
	slave.Close()
	if err != nil {
		return nil, nil, err
	}
	out = new(lockedBuffer)
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			out.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	return out, done, nil
}

// openPTY opens a pseudo-terminal of cols×rows whose slave side writes
// output as it is (no "\n" to "\r\n").
func openPTY(cols, rows int) (master, slave *os.File, err error) {
	master, err = os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (*os.File, *os.File, error) {
		master.Close()
		return nil, nil, fmt.Errorf("pty: %w", err)
	}
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		return fail(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		return fail(err)
	}
	slave, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return fail(err)
	}
	sfd := int(slave.Fd())
	tio, err := unix.IoctlGetTermios(sfd, unix.TCGETS)
	if err == nil {
		tio.Oflag &^= unix.OPOST
		err = unix.IoctlSetTermios(sfd, unix.TCSETS, tio)
	}
	if err == nil {
		err = unix.IoctlSetWinsize(sfd, unix.TIOCSWINSZ, &unix.Winsize{Col: uint16(cols), Row: uint16(rows)})
	}
	if err != nil {
		slave.Close()
		return fail(err)
	}
	return master, slave, nil
}
