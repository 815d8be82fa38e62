package agent

import (
	"context"
	"os"
	"slices"

	"github.com/pmrun/pmrun/actions/internal/proc"
)

// Spawn starts an agent in t and connects to it. spec.Argv defaults to
// this binary re-executed as `/proc/self/exe agent`; the control socket
// becomes the child's [ControlFD], ahead of spec.ExtraFiles. The client's
// errors name the agent by spec.Name and, once it is gone, how it ended.
// opts.Name and opts.Exit are filled in from spec and the process.
func Spawn(t *proc.Table, spec proc.Spec, opts ClientOptions) (*Client, *proc.Process, error) {
	if len(spec.Argv) == 0 && spec.Shell == "" {
		spec.Argv = []string{"/proc/self/exe", "agent"}
	}
	mine, theirs, err := Pair()
	if err != nil {
		return nil, nil, err
	}
	spec.ExtraFiles = append([]*os.File{theirs}, slices.Clone(spec.ExtraFiles)...)
	p, err := t.Start(spec)
	theirs.Close() // the child has its copy; ours would hide the agent's death
	if err != nil {
		mine.Close()
		return nil, nil, err
	}
	conn, err := NewConn(mine)
	if err != nil {
		p.Terminate(context.Background(), 0, 0)
		return nil, nil, err
	}
	opts.Name = spec.Name
	opts.Exit = p.Wait
	return NewClient(conn, opts), p, nil
}
