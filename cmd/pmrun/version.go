package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

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
			Long:  "Prints pmrun's version, the commit it was built from (where the build\nrecorded one), and the Go version it was built with.",
			Args:  noArgs(""),
			RunE: func(*cobra.Command, []string) error {
				fmt.Fprintf(c.stdout, "pmrun %s\n", versionLine())
				return nil
			},
		}
	})
}

// versionLine is what 'pmrun version' and 'pmrun --version' print after
// "pmrun ": the version, the commit it was built from where the build
// recorded one (go build in a git checkout does, unless -buildvcs=false),
// the Go version and the system.
func versionLine() string {
	info, _ := debug.ReadBuildInfo()
	return describeBuild(version, info, runtime.Version(), runtime.GOOS+"/"+runtime.GOARCH)
}

// describeBuild writes versionLine from its parts: set is the version set
// with -ldflags (or ""), info the build information (or nil).
func describeBuild(set string, info *debug.BuildInfo, goVersion, system string) string {
	v, rev, when, modified := set, "", "", false
	if info != nil {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				when, _, _ = strings.Cut(s.Value, "T")
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if m := info.Main.Version; v == "" && m != "" && m != "(devel)" {
			v = m
		}
	}
	if v == "" {
		v = "devel"
	}
	var about []string
	if rev != "" {
		commit := "commit " + rev[:min(len(rev), 12)]
		if when != "" {
			commit += " of " + when
		}
		if modified {
			commit += ", modified"
		}
		about = append(about, commit)
	}
	about = append(about, goVersion, system)
	return fmt.Sprintf("%s (%s)", v, strings.Join(about, ", "))
}
