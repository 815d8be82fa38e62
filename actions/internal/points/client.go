package points

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/pmrun/pmrun/actions/internal/program"
)

// The variables pmrun gives each process it starts.
const (
	EnvSocket = "PMRUN_POINT_SOCKET" // the socket's path
	EnvID     = "PMRUN_POINT_ID"     // the process's identity
)

// maxName bounds a point's name.
const maxName = 200

// checkName says what is wrong with a point's name, if anything.
func checkName(name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errors.New("a point needs a name")
	case len(name) > maxName:
		return fmt.Errorf("a point's name has at most %d bytes (this one has %d)", maxName, len(name))
	case strings.ContainsAny(name, "\r\n\t"):
		return fmt.Errorf("a point's name is one line without tabs: %q", name)
	}
	return nil
}

// ParseAt reads the place a point is at, FILE:LINE with LINE a whole
// number from 1. "" is no place, and so is FILE: with no line, which
// "$0:$LINENO" gives in a shell without $LINENO (dash): the point is
// still a point.
func ParseAt(at string) (program.Pos, error) {
	if at == "" || strings.HasSuffix(at, ":") && !strings.ContainsAny(at, "\r\n\t") {
		return program.Pos{}, nil
	}
	i := strings.LastIndex(at, ":")
	if i <= 0 || strings.ContainsAny(at, "\r\n\t") {
		return program.Pos{}, fmt.Errorf("%q is not a place FILE:LINE", at)
	}
	n, err := strconv.Atoi(at[i+1:])
	if err != nil || n < 1 {
		return program.Pos{}, fmt.Errorf("%q is not a place FILE:LINE (a line number from 1)", at)
	}
	return program.Pos{File: at[:i], Line: n}, nil
}

// Ask stops the calling process at point name until pmrun lets it go:
// the client side of the protocol. at, if not "", is where the process
// is in its source (FILE:LINE), which the run's table shows. Without
// PMRUN_POINT_SOCKET in the environment it returns at once.
func Ask(ctx context.Context, name, at string) error {
	if err := checkName(name); err != nil {
		return err
	}
	if pos, err := ParseAt(at); err != nil {
		return err
	} else if pos.Line > 0 {
		at = "\t" + at
	} else {
		at = ""
	}
	sock := os.Getenv(EnvSocket)
	if sock == "" {
		return nil
	}
	id := os.Getenv(EnvID)
	if id == "" || strings.ContainsAny(id, " \r\n") {
		return fmt.Errorf("%s is set but %s is %q: this process was not started by a scripts step of pmrun", EnvSocket, EnvID, id)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", sock)
	if err != nil {
		return fmt.Errorf("cannot reach pmrun at %s (%s): %w", sock, EnvSocket, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if _, err := fmt.Fprintf(conn, "point %s %s%s\n", id, name, at); err != nil {
		return fmt.Errorf("point %s: %w", name, err)
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	switch {
	case err != nil && ctx.Err() != nil:
		return context.Cause(ctx)
	case err != nil:
		return fmt.Errorf("point %s: pmrun closed the connection without letting the process go (the run is over)", name)
	}
	line = strings.TrimSuffix(line, "\n")
	if line == "go" {
		return nil
	}
	if msg, ok := strings.CutPrefix(line, "error "); ok {
		return fmt.Errorf("point %s: %s", name, msg)
	}
	return fmt.Errorf("point %s: pmrun answered %q", name, line)
}
