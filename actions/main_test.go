package actions_test

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/pmrun/pmrun/actions"
)

// TestMain lets this test binary serve as a pmrun agent: agents are the
// running binary re-executed as "/proc/self/exe agent".
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "agent" {
		if err := actions.ServeAgent(context.Background()); err != nil {
			fmt.Fprintln(os.Stderr, "agent:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
