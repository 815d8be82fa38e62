package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=…"; otherwise
// it comes from the module's build information.
var version = ""

func init() {
	register(&command{
		name:    "version",
		usage:   "version",
		summary: "print pmrun's version",
		run: func(c *cli, args []string) error {
			fs := c.newFlags("version", "version", "Prints pmrun's version and the Go version it was built with.")
			if _, err := fs.parse(args); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "pmrun %s (%s, %s/%s)\n", buildVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	})
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
