package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

func init() {
	register(&command{
		name:    "log",
		usage:   "log clear [FILE]",
		summary: "empty the log file (default pmrun.log)",
		run:     (*cli).log,
	})
}

func (c *cli) log(args []string) error {
	fs := c.newFlags("log", "log clear [FILE]", `'pmrun log clear' empties the JSON-lines log file (default pmrun.log) and
keeps its permissions, as the original process manager's "Clear log file".`)
	rest, err := fs.parse(args)
	if err != nil {
		return err
	}
	if len(rest) == 0 || rest[0] != "clear" || len(rest) > 2 {
		return usageErrorf("log: want 'pmrun log clear [FILE]'")
	}
	path := "pmrun.log"
	if len(rest) == 2 {
		path = rest[1]
	}
	if err := clearLog(path); err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "cleared %s\n", path)
	return nil
}

// clearLog empties the log file at path; a missing file is already empty.
func clearLog(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("log clear: %w", err)
	}
	return f.Close()
}
