package main

import (
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestConsoleReaderGoes runs `pmrun scenario.yaml | head -1` with a real
// pipe to a real head: once head has gone, pmrun stops the run as an
// interruption instead of dying of SIGPIPE: finally runs, everything it
// started is cleaned up, it exits with 141, and the log's last event says
// why.
func TestConsoleReaderGoes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	scenario := filepath.Join(dir, "piped.yaml")
	var s strings.Builder
	s.WriteString("name: piped\nsteps:\n  - spawn: {name: bg, shell: 'sleep 7784.5 & setsid sleep 7784.5 & wait'}\n")
	for range 500 {
		s.WriteString("  - sleep: 10ms\n")
	}
	s.WriteString("  - log: all steps ran\nfinally:\n  - log: finally ran\n")
	if err := os.WriteFile(scenario, []byte(s.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(dir, "pmrun.log")

	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	head := exec.Command("head", "-1")
	head.Stdin = r
	var headOut strings.Builder
	head.Stdout = &headOut
	pmrun := exec.Command(pmrunBinary(t), "--log", logFile, scenario)
	pmrun.Stdout = w
	var stderr strings.Builder
	pmrun.Stderr = &stderr
	if err := head.Start(); err != nil {
		t.Fatal(err)
	}
	if err := pmrun.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	w.Close()
	if err := head.Wait(); err != nil {
		t.Fatalf("head: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- pmrun.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		pmrun.Process.Kill()
		t.Fatalf("pmrun still runs 30s after its console's reader went away")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("pmrun: %v, want exit code 141", err)
	}
	if ws := ee.Sys().(syscall.WaitStatus); ws.Signaled() || ws.ExitStatus() != exitConsoleClosed {
		t.Fatalf("pmrun ended with %v, want exit code %d\nstderr: %s", ws, exitConsoleClosed, stderr.String())
	}
	if !strings.Contains(headOut.String(), "piped") {
		t.Errorf("head read %q, want the scenario's first line", headOut.String())
	}

	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	var last struct {
		Event, Status, Reason string
		Interrupted           bool
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if last.Event != "run_end" || last.Status != "interrupted" || !strings.Contains(last.Reason, "reader went away") {
		t.Errorf("last event %+v, want run_end, interrupted, saying the reader went away", last)
	}
	if !strings.Contains(string(data), `"@message":"finally ran"`) {
		t.Errorf("finally did not run")
	}
	if strings.Contains(string(data), "all steps ran") {
		t.Errorf("the run went on to its end instead of stopping")
	}
	if left := processesLeft("7784.5"); len(left) > 0 {
		t.Fatalf("left behind: %v", left)
	}
}
