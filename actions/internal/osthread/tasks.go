package osthread

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strconv"
	"syscall"
)

// Task is one OS thread of a process as the kernel reports it.
type Task struct {
	TID   int
	Name  string // comm: the first 15 bytes of the thread's name
	State string // running, sleeping, disk-sleep, stopped, zombie, …
}

// Tasks lists the threads of process pid from /proc/PID/task, in TID order.
// A missing process gives an error matching fs.ErrNotExist; threads that end
// while the list is read are left out.
func Tasks(pid int) ([]Task, error) {
	dir := fmt.Sprintf("/proc/%d/task", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("osthread: threads of pid %d: %w", pid, err)
	}
	tasks := make([]Task, 0, len(ents))
	for _, e := range ents {
		tid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(dir + "/" + e.Name() + "/stat")
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ESRCH) {
			continue // ended since ReadDir: gone, or its files opened but empty of it
		}
		if err != nil {
			return nil, fmt.Errorf("osthread: threads of pid %d: %w", pid, err)
		}
		name, state, err := parseStat(stat)
		if err != nil {
			return nil, fmt.Errorf("osthread: %s/%d/stat: %w", dir, tid, err)
		}
		tasks = append(tasks, Task{TID: tid, Name: name, State: state})
	}
	slices.SortFunc(tasks, func(a, b Task) int { return a.TID - b.TID })
	return tasks, nil
}

// parseStat takes comm and state out of a /proc stat line: "TID (comm) S …".
// comm may itself contain spaces and parentheses, so it runs to the last ')'.
func parseStat(stat []byte) (name, state string, err error) {
	open := bytes.IndexByte(stat, '(')
	close := bytes.LastIndexByte(stat, ')')
	if open < 0 || close < open || close+2 >= len(stat) {
		return "", "", fmt.Errorf("malformed stat %q", stat)
	}
	return string(stat[open+1 : close]), stateName(stat[close+2]), nil
}

// stateName spells out the one-letter state of proc(5).
func stateName(c byte) string {
	switch c {
	case 'R':
		return "running"
	case 'S':
		return "sleeping"
	case 'D':
		return "disk-sleep"
	case 'T':
		return "stopped"
	case 't':
		return "tracing-stop"
	case 'Z':
		return "zombie"
	case 'X', 'x':
		return "dead"
	case 'I':
		return "idle"
	case 'P':
		return "parked"
	case 'W':
		return "waking"
	case 'K':
		return "wakekill"
	default:
		return string(c)
	}
}
