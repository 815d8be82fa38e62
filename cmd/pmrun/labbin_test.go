package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// labBin is pmrun built without the race detector, shared by the tests
// that hold it (labBinary), and removed when the last of them ends.
var labBin struct {
	mu    sync.Mutex
	users int
	dir   string
}

// labBinary returns pmrun for the tests that run every lab through the CLI
// (TestScenarios, TestThingsToTry, TestPlayEveryBookLab): what they check
// is each lab's outcome, and this test binary, when go test built it with
// -race, takes five to ten times longer to search a lab (santa_claus's
// exhaustive find: 25 s of CPU), most of cmd/pmrun's time in make test.
// So under -race they run pmrun built without it (go build, whose
// packages go vet has compiled already); the scripts and the other tests
// still run this binary, race detector and all.
func labBinary(t *testing.T) string {
	t.Helper()
	if !raceEnabled {
		return pmrunBinary(t)
	}
	labBin.mu.Lock()
	defer labBin.mu.Unlock()
	if labBin.users == 0 {
		dir, err := os.MkdirTemp("", "pmrun-labs-")
		if err != nil {
			t.Fatal(err)
		}
		goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
		if _, err := os.Stat(goCmd); err != nil {
			goCmd = "go"
		}
		build := exec.Command(goCmd, "build", "-o", filepath.Join(dir, "pmrun"), ".")
		if out, err := build.CombinedOutput(); err != nil {
			os.RemoveAll(dir)
			t.Fatalf("go build of pmrun for the labs: %v\n%s", err, out)
		}
		labBin.dir = dir
	}
	labBin.users++
	dir := labBin.dir
	t.Cleanup(func() {
		labBin.mu.Lock()
		defer labBin.mu.Unlock()
		if labBin.users--; labBin.users == 0 {
			os.RemoveAll(labBin.dir)
		}
	})
	return filepath.Join(dir, "pmrun")
}
