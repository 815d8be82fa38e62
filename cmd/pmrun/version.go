package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it comes from the module's build information.
var version = ""

func init() {
	register(func(c *cli) *cobra.Command {
		return &cobra.Command{
			Use:   "version",
			Short: "print pmrun's version (also --version)",
			Long:  "Prints pmrun's version and the Go version it was built with.",
			Args:  noArgs(""),
			RunE: func(*cobra.Command, []string) error {
				fmt.Fprintf(c.stdout, "pmrun %s\n", versionLine())
				return nil
			},
		}
	})
}

// versionLine is what 'pmrun version' and 'pmrun --version' print after
// "pmrun ".
func versionLine() string {
	return fmt.Sprintf("%s (%s, %s/%s)", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if v := info.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		if rev != "" {
			if len(rev) > 12 {
				rev = rev[:12]
			}
			if dirty {
				rev += "-dirty"
			}
			return "devel-" + rev
		}
	}
	return "devel"
}
