package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/actions"
)

// tryLine is a suggestion in a lab's "Things to try": pmrun's arguments,
// then => and the outcome it promises, passes or fails.
var tryLine = regexp.MustCompile(`^#\s*try:\s*(.*?)\s*=>\s*(passes|fails)\b`)

// TestThingsToTry runs every suggestion of every lab with its file and
// checks that it does what it says: exit 0 for "passes", 1 for "fails".
// Every lab in scenarios/labs and its folders (labs/book), and the lab
// 'pmrun init --lab' writes, must suggest something.
func TestThingsToTry(t *testing.T) {
	t.Parallel()
	bin := labBinary(t)
	labs, err := filepath.Glob("../../scenarios/labs/*.yaml")
	more, err2 := filepath.Glob("../../scenarios/labs/*/*.yaml")
	labs = append(labs, more...)
	if err != nil || err2 != nil || len(labs) == 0 {
		t.Fatalf("no labs: %v %v", err, err2)
	}
	skeleton := filepath.Join(t.TempDir(), "skeleton.yaml")
	if out, err := exec.Command(bin, "init", "--lab", "skeleton", skeleton).CombinedOutput(); err != nil {
		t.Fatalf("pmrun init --lab: %v\n%s", err, out)
	}
	labs = append(labs, skeleton)
	for _, lab := range labs {
		data, err := os.ReadFile(lab)
		if err != nil {
			t.Fatal(err)
		}
		var tries [][]string
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			if m := tryLine.FindStringSubmatch(sc.Text()); m != nil {
				tries = append(tries, []string{m[1], m[2]})
			}
		}
		name := strings.TrimSuffix(strings.TrimPrefix(lab, "../../scenarios/labs/"), ".yaml")
		if lab == skeleton {
			name = "init --lab"
		}
		if len(tries) == 0 {
			t.Errorf("%s has no \"# try: ARGS => passes|fails: …\" lines under Things to try", lab)
		}
		for _, try := range tries {
			t.Run(name+"/"+try[0], func(t *testing.T) {
				args := append([]string{"run", "--no-log"}, strings.Fields(try[0])...)
				out, err := exec.Command(bin, append(args, lab)...).CombinedOutput()
				code := 0
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				want := map[string]int{"passes": 0, "fails": 1}[try[1]]
				if code != want {
					t.Errorf("pmrun %s %s: exit %d, but the lab says it %s\n%s", try[0], lab, code, try[1], out)
				}
				if code == 1 {
					replayPrinted(t, bin, out)
				}
			})
		}
	}
}

// foundLine is the console's note on a program step that found a failure:
// its verdict, in which run, and the failure.
var foundLine = regexp.MustCompile(`(?m)^\s*found (\w+) (?:in run \d+ \([^)]*\)(?:, shrunk from [^:]*)?|in the replay): (.*)$`)

// replayPrinted runs, as a shell would, the last replay line that out (a
// failing run's console) prints, and wants the same failure from it: the
// line must carry what the run needed (its --var values, its seed), or it
// would replay nothing and pass.
func replayPrinted(t *testing.T, bin string, out []byte) {
	t.Helper()
	found := foundLine.FindAllSubmatch(out, -1)
	var line string
	for _, l := range strings.Split(string(out), "\n") {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(l), "replay: "); ok {
			line = cmd
		}
	}
	if line == "" || len(found) == 0 {
		return // nothing found, nothing printed: the broken program had nothing to find
	}
	last := found[len(found)-1]
	cmd := exec.Command("sh", "-c", line+" --no-log")
	cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(bin)+":"+os.Getenv("PATH"))
	replayed, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Errorf("%s: %v, want exit 1, the same failure\n%s", line, err, replayed)
		return
	}
	want := fmt.Sprintf("found %s in the replay: %s", last[1], last[2])
	if !bytes.Contains(replayed, []byte(want)) {
		t.Errorf("%s: no %q in its output:\n%s", line, want, replayed)
	}
}

// TestCLabHeader: the C labs' pmrun.h is the one pmrun builds its library
// with.
func TestCLabHeader(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../scenarios/labs/c/pmrun.h")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != actions.PreloadHeader() {
		t.Errorf("scenarios/labs/c/pmrun.h differs from pmrun preload --header:\n%s", actions.PreloadHeader())
	}
}
