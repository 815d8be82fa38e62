package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/pmrun/pmrun/actions"
)

func init() {
	register(func(c *cli) *cobra.Command {
		var at string
		cmd := &cobra.Command{
			Use:   "point [--at FILE:LINE] NAME",
			Short: "stop at a named point until the pmrun that started this process lets it go",
			Long: `Stops the calling process at point NAME until pmrun lets it go on. A shell
script (or any program that can run a command) started by a scripts step
marks with it the places where another process may take a turn; pmrun
runs the step's processes one at a time between points and searches and
replays the order in which they pass them.

--at FILE:LINE says where the point is in the script: the run's table
shows the line beside the point, and the report and pmrun play the
script's lines around it. A process cannot see the line its shell is at,
so the script gives it:

  pmrun point --at "$0:$LINENO" take          # sh, dash, bash
  point() { pmrun point --at "$0:${BASH_LINENO[0]}" "$1"; }   # bash: one place

Outside a scripts step (no PMRUN_POINT_SOCKET in the environment) it
returns at once, so a script runs the same without pmrun. The protocol it
speaks, for programs that would rather not start a process at each point:
connect to the Unix stream socket $PMRUN_POINT_SOCKET, write the line
"point $PMRUN_POINT_ID NAME" (followed, for --at, by a tab and FILE:LINE),
read one line: "go" lets the process go on, "error MESSAGE" refuses the
point.

Exit status: 0 when let go, 1 when refused or when pmrun ended the run.`,
			Args: func(_ *cobra.Command, args []string) error {
				if len(args) != 1 {
					return usageErrorf("point takes one argument, the point's name (pmrun point NAME), got %d", len(args))
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
				defer stop()
				return actions.Point(ctx, args[0], at)
			},
		}
		cmd.Flags().StringVar(&at, "at", "", "where the point is in the script (`FILE:LINE`), shown in the run's table and pages")
		return cmd
	})
}
