package nproc

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCounts: this process's own threads are among its user's tasks, and
// those among the machine's.
func TestCounts(t *testing.T) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	var own int
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			own = atoi(strings.TrimSpace(v))
		}
	}
	user := UserTasks(unix.Getuid())
	total, ok := systemTasks()
	if !ok || own < 1 || user < own || int(total) < user {
		t.Errorf("own threads %d, user's tasks %d, machine's %d (ok %v): want 1 ≤ own ≤ user ≤ machine", own, user, total, ok)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// TestLimitError names the limit and matches EAGAIN, a fork's errno.
func TestLimitError(t *testing.T) {
	err := error(&LimitError{Limit: 40, UID: 1000, Used: 35, Want: 1})
	if !strings.Contains(err.Error(), "RLIMIT_NPROC (ulimit -u) is 40") || !strings.Contains(err.Error(), "user 1000 has 35") {
		t.Errorf("message %q does not name the limit and the count", err)
	}
	if !errors.Is(err, syscall.EAGAIN) {
		t.Errorf("%v is not EAGAIN", err)
	}
	if Explain(syscall.ENOENT, 1) != syscall.ENOENT {
		t.Errorf("Explain changed an error that is not EAGAIN")
	}
}
