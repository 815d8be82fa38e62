package actions_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions"
)

// TestMain lets this test binary serve as a pmrun agent: agents are the
// running binary re-executed as "/proc/self/exe agent".
func TestMain(m *testing.M) {
	// A race-built binary sleeps a second before it exits (GORACE's
	// atexit_sleep_ms): every agent, pmrun and helper the tests start
	// would wait it out.
	if !strings.Contains(os.Getenv("GORACE"), "atexit_sleep_ms") {
		os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		if err := actions.ServeAgent(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
