package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
)

func init() {
	register(func(c *cli) *cobra.Command {
		return &cobra.Command{
			Use:   "log clear [FILE]",
			Short: "empty the log file (default pmrun.log)",
			Long: `'pmrun log clear' empties the JSON-lines log file (default pmrun.log) and
keeps its permissions, as the original process manager's "Clear log file".
It clears only a pmrun log: a missing file, a symbolic link, a FIFO or
other non-regular file, and a file whose first line is not a pmrun event
are refused (exit 1), so a mistyped path never empties another file.`,
			ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) == 0 {
					return []cobra.Completion{cobra.CompletionWithDesc("clear", "empty the log file")}, cobra.ShellCompDirectiveNoFileComp
				}
				if len(args) == 1 {
					return []cobra.Completion{"log"}, cobra.ShellCompDirectiveFilterFileExt
				}
				return nil, cobra.ShellCompDirectiveNoFileComp
			},
			RunE: func(_ *cobra.Command, args []string) error { return c.log(args) },
		}
	})
}

func (c *cli) log(rest []string) error {
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

// clearLog empties the pmrun log at path, keeping its permissions. It
// clears only what is one: a missing file, a symbolic link (never
// followed: a link planted in a shared folder must not make pmrun empty
// another file), anything but a regular file (a FIFO is opened without
// blocking and refused), and a file whose first line is not a pmrun event
// are each refused with the reason.
func clearLog(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_NOCTTY, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("log clear: %s: no such log file", path)
	case errors.Is(err, unix.ELOOP):
		return fmt.Errorf("log clear: %s is a symbolic link: name the log file itself", path)
	case errors.Is(err, unix.EISDIR):
		return fmt.Errorf("log clear: %s is not a regular file (a folder): not cleared", path)
	case err != nil:
		return fmt.Errorf("log clear: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("log clear: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("log clear: %s is not a regular file (%s): not cleared", path, fileKind(fi.Mode()))
	}
	if !isEventLog(f) {
		return fmt.Errorf("log clear: %s does not look like a pmrun log (its first line is not a pmrun event): not cleared", path)
	}
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("log clear: %w", err)
	}
	return nil
}

// isEventLog reports whether r is empty or starts with a line that is a
// pmrun event: a JSON object with @timestamp and event.
func isEventLog(r io.Reader) bool {
	line, err := bufio.NewReaderSize(r, 64<<10).ReadSlice('\n')
	if len(line) == 0 && errors.Is(err, io.EOF) {
		return true
	}
	var ev struct {
		Timestamp *string `json:"@timestamp"`
		Event     *string `json:"event"`
	}
	return json.Unmarshal(line, &ev) == nil && ev.Timestamp != nil && ev.Event != nil
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return m.Type().String()
}
