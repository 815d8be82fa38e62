package main

import (
	"runtime/debug"
	"testing"
)

// TestDescribeBuild: --version names the commit a build recorded, with
// its date and whether the checkout was modified, whatever the version.
func TestDescribeBuild(t *testing.T) {
	t.Parallel()
	vcs := func(main string, settings ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/pmrun/pmrun", Version: main}}
		for i := 0; i+1 < len(settings); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return info
	}
	const rev = "ea1e803b8892c0ffee0123456789abcdef012345"
	for _, tt := range []struct {
		name string
		set  string
		info *debug.BuildInfo
		want string
	}{
		{"a checkout, modified (go 1.24 and later stamp a pseudo-version)",
			"", vcs("v0.0.0-20261207190148-ea1e803b8892+dirty", "vcs", "git", "vcs.revision", rev, "vcs.time", "2026-12-07T19:01:48Z", "vcs.modified", "true"),
			"v0.0.0-20261207190148-ea1e803b8892+dirty (commit ea1e803b8892 of 2026-12-07, modified, go1.26.8, linux/amd64)"},
		{"a clean checkout, an older go",
			"", vcs("(devel)", "vcs.revision", rev, "vcs.modified", "false"),
			"devel (commit ea1e803b8892, go1.26.8, linux/amd64)"},
		{"a release, installed with go install …@v1.2.0",
			"", vcs("v1.2.0"),
			"v1.2.0 (go1.26.8, linux/amd64)"},
		{"no version control information (-buildvcs=false)",
			"", vcs("(devel)"),
			"devel (go1.26.8, linux/amd64)"},
		{"set with -ldflags",
			"1.3.0", vcs("(devel)", "vcs.revision", rev),
			"1.3.0 (commit ea1e803b8892, go1.26.8, linux/amd64)"},
		{"no build information", "", nil, "devel (go1.26.8, linux/amd64)"},
	} {
		if got := describeBuild(tt.set, tt.info, "go1.26.8", "linux/amd64"); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}
