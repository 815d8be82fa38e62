package main

import (
	"context"
	"fmt"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
)

func init() {
	register(func(c *cli) *cobra.Command {
		return &cobra.Command{
			Use:    "agent",
			Short:  "(internal) serve a runner as its agent process",
			Hidden: true,
			// The agent's arguments are its own: no flag of pmrun's.
			DisableFlagParsing: true,
			RunE: func(_ *cobra.Command, args []string) error {
				if len(args) > 0 {
					return usageErrorf("agent takes no arguments; pmrun starts it for spawn: {agent: true}")
				}
				// The runner decides when an agent ends: by closing its control
				// socket, or by signalling its process group. A Ctrl-C at the
				// terminal reaches the runner, which then cleans up its agents.
				signal.Ignore(syscall.SIGINT)
				if err := actions.ServeAgent(context.Background()); err != nil {
					return fmt.Errorf("agent: %w", err)
				}
				return nil
			},
		}
	})
}
