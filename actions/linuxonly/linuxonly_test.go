package linuxonly_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// TestOtherSystems builds pmrun for another system (one: each costs a
// build of pmrun's dependencies: under a minute on 2 CPUs with an empty
// cache, about 90 s of CPU): the build stops with one error, the one that says
// pmrun runs on Linux only, not a page of undefined names of
// golang.org/x/sys/unix.
func TestOtherSystems(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles pmrun's dependencies for another system")
	}
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		t.Skipf("no go command beside the test's toolchain: %v", err)
	}
	errorLine := regexp.MustCompile(`(?m)^[^ #].*\.go:\d+:\d+: .*$`)
	for _, goos := range []string{"darwin"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command(goBin, "build", "-o", os.DevNull, "../../cmd/pmrun")
			cmd.Env = append(os.Environ(), "GOOS="+goos, "GOARCH=amd64", "CGO_ENABLED=0")
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("the build for %s succeeded", goos)
			}
			errs := errorLine.FindAllString(string(out), -1)
			if len(errs) != 1 || !strings.Contains(errs[0], "undefined: pmrun_runs_on_Linux_only") {
				t.Errorf("the build for %s stopped with %d errors, want the one of package linuxonly:\n%s", goos, len(errs), out)
			}
		})
	}
}
