package actions_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pmrun/pmrun/runner/lang"
)

// stressOnly skips a test unless the long runs were asked for.
func stressOnly(t *testing.T) {
	if os.Getenv("PMRUN_STRESS") == "" {
		t.Skip("set PMRUN_STRESS=1 (make stress)")
	}
}

// TestAgentMessagesOfAnySize: what goes in and out of an agent has no size
// limit short of a channel's own: a receive of many small messages into
// an agent, with and without verify, 16 MiB messages both ways, a list of
// thousands of an agent's threads. Each of these failed when an agent's
// reply had to fit in 128 KiB, and the messages it held were lost.
func TestAgentMessagesOfAnySize(t *testing.T) {
	t.Parallel()
	agentMessages(t, 200_000)
}

// TestStressAgentMessages is TestAgentMessagesOfAnySize with a million
// small messages.
func TestStressAgentMessages(t *testing.T) {
	stressOnly(t)
	agentMessages(t, 1_000_000)
}

// agentMessages runs TestAgentMessagesOfAnySize with small messages of 64
// bytes.
func agentMessages(t *testing.T, small int) {
	o := runScenario(t, fmt.Sprintf(`
name: any-size
timeout: 10m
vars: {n: %d}
channels: {small: {}, big: {}}
steps:
  - spawn: {name: a, agent: true}
  - id: tx
    send: {channel: small, count: "${{ vars.n }}", size: 64}
    background: true
  - id: kept
    receive: {channel: small, to: a, count: "${{ vars.n }}", timeout: 5m}
  - wait: {step: tx}
  - assert: steps.kept.ok && steps.kept.count == vars.n && steps.kept.bytes == vars.n * 64 && steps.kept.verified
  - assert: len(steps.kept.messages) == 1000 && len(steps.kept.message) == 64
  - id: left
    receive: {channel: small, to: a}
  - assert: steps.left.count == 0
  - id: tx2
    send: {channel: small, count: "${{ vars.n }}", size: 64}
    background: true
  - id: verified
    receive: {channel: small, to: a, count: "${{ vars.n }}", verify: true, timeout: 5m}
  - wait: {step: tx2}
  - assert: steps.verified.ok && steps.verified.verified && steps.verified.count == vars.n

  - id: down
    send: {channel: big, size: 16MiB}
    background: true
  - id: got
    receive: {channel: big, to: a, timeout: 1m}
  - wait: {step: down}
  - assert: steps.got.ok && steps.got.bytes == 16777216 && len(steps.got.message) == 16777216
  - id: up
    send: {channel: big, from: a, message: "${{ steps.got.message }}"}
    background: true
  - id: got2
    receive: {channel: big, timeout: 1m}
  - wait: {step: up}
  - assert: steps.got2.ok && steps.got2.bytes == 16777216 && steps.got2.message == steps.got.message
`, small))
	mustPass(t, o)
}

// TestAgentListsThousandsOfThreads: list {threads} of an agent with
// thousands of threads, past what a reply of 128 KiB held (about 1,700)
// and, under make stress, the 10,000 at which the Go runtime used to
// abort the agent.
func TestAgentListsThousandsOfThreads(t *testing.T) {
	t.Parallel()
	agentThreads(t, 2500)
}

// TestStressAgentThreads is TestAgentListsThousandsOfThreads with 10,000
// threads, more than the race detector allows goroutines.
func TestStressAgentThreads(t *testing.T) {
	stressOnly(t)
	if raceEnabled {
		t.Skip("the race detector allows at most 8,128 goroutines")
	}
	agentThreads(t, 10_000)
}

// agentThreads starts n threads in an agent and lists them.
func agentThreads(t *testing.T, n int) {
	var b strings.Builder
	fmt.Fprintf(&b, "name: threads\ntimeout: 10m\nsteps:\n  - spawn: {name: a, agent: true}\n")
	for i := range n {
		fmt.Fprintf(&b, "  - thread: {name: t%d, in: a}\n", i)
	}
	fmt.Fprintf(&b, `  - id: l
    list: {threads: a}
  - assert: steps.l.count >= %d && len(filter(steps.l.items, .pmrun)) == %d
`, n, n)
	mustPass(t, runScenario(t, b.String()))
}

// memoryEnv makes the test binary run TestReceiveMemory's scenario and
// print its own peak RSS.
const memoryEnv = "PMRUN_TEST_RECEIVE_MEMORY"

// TestReceiveMemory: receiving many messages of 64 KiB keeps memory
// bounded, in the runner and in an agent: a result keeps the first
// messages only. The runner is this test binary run again, as a process
// of a scenario (the scenario's reaper would take the exit of a child
// started otherwise), and reports its own peak RSS and its agent's.
func TestReceiveMemory(t *testing.T) {
	if n := os.Getenv(memoryEnv); n != "" {
		receiveMemoryChild(t, n)
		return
	}
	t.Parallel()
	receiveMemory(t, 3000) // 192 MiB: without the bound, some 400 MiB
}

// TestStressReceiveMemory is TestReceiveMemory with 100,000 messages of
// 64 KiB, 6.25 GiB.
func TestStressReceiveMemory(t *testing.T) {
	stressOnly(t)
	receiveMemory(t, 100_000)
}

// receiveMemory runs TestReceiveMemory's child with count messages.
func receiveMemory(t *testing.T, count int) {
	const limit = 100 << 20
	o := runScenario(t, fmt.Sprintf(`
name: memory-parent
timeout: 20m
steps:
  - spawn: {name: child, cmd: [%q, "-test.run=^TestReceiveMemory$", "-test.count=1"], env: {%s: "%d"}}
  - id: child
    wait: {process: child, timeout: 15m}
`, os.Args[0], memoryEnv, count))
	mustPass(t, o)
	res := o.step(t, "child").Result
	out, _ := res["stdout"].(string)
	if res["exit_code"] != 0 {
		t.Fatalf("child: exit code %v\n%s%v", res["exit_code"], out, res["stderr"])
	}
	for _, side := range []string{"runner", "agent"} {
		_, after, ok := strings.Cut(out, side+" peak_rss=")
		if !ok {
			t.Fatalf("no %s peak_rss in:\n%s", side, out)
		}
		rss, err := strconv.ParseInt(strings.Fields(after)[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d messages of 64 KiB, peak RSS %d MiB", side, count, rss>>20)
		if rss > limit {
			t.Errorf("%s: receiving %d messages of 64 KiB took a peak RSS of %d MiB, more than %d MiB", side, count, rss>>20, limit>>20)
		}
	}
}

// receiveMemoryChild is TestReceiveMemory in the child: count messages of
// 64 KiB from an agent to the runner, then from the runner to the agent,
// and each side's peak RSS printed.
//
// The peak is the kernel's VmHWM of each process (/proc/PID/status), not
// getrusage's ru_maxrss: a process's ru_maxrss starts from its parent's
// peak, which an exec after vfork keeps, so a child of a test process
// that has been busy would report that.
func receiveMemoryChild(t *testing.T, count string) {
	// Stop well before the machine runs out of memory if the bound is
	// broken.
	go func() {
		for {
			if rss, err := peakRSS("self"); err == nil && rss > 1<<30 {
				fmt.Printf("runner peak_rss=%d (stopped)\n", rss)
				os.Exit(3)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	o := runScenario(t, `
name: memory
timeout: 10m
vars: {n: `+count+`}
channels: {up: {}, down: {}}
steps:
  - id: a
    spawn: {name: a, agent: true}
  - id: tx
    send: {channel: up, from: a, count: "${{ vars.n }}", size: 64KiB}
    background: true
  - id: rx
    receive: {channel: up, count: "${{ vars.n }}", timeout: 5m}
  - wait: {step: tx}
  - assert: steps.rx.count == vars.n && steps.rx.bytes == vars.n * 65536 && len(steps.rx.messages) == 16
  - id: tx2
    send: {channel: down, count: "${{ vars.n }}", size: 64KiB}
    background: true
  - id: rx2
    receive: {channel: down, to: a, count: "${{ vars.n }}", timeout: 5m}
  - wait: {step: tx2}
  - assert: steps.rx2.count == vars.n && len(steps.rx2.messages) == 16
  - spawn: {name: status, cmd: [cat, "/proc/${{ steps.a.pid }}/status"]}
  - id: status
    wait: {process: status}
`)
	rss, err := peakRSS("self")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("runner peak_rss=%d\n", rss)
	if o.Status != lang.StatusPassed {
		t.Fatalf("scenario %s: %v", o.Status, o.Err)
	}
	status, _ := o.step(t, "status").Result["stdout"].(string)
	if rss, err = vmHWM(status); err != nil {
		t.Fatalf("the agent's status: %v", err)
	}
	fmt.Printf("agent peak_rss=%d\n", rss)
}

// peakRSS is the peak resident set size of process pid ("self" for this
// one), in bytes.
func peakRSS(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return 0, err
	}
	return vmHWM(string(b))
}

// vmHWM reads the peak resident set size, in bytes, from the text of a
// /proc/PID/status.
func vmHWM(status string) (int64, error) {
	_, after, ok := strings.Cut(status, "VmHWM:")
	if !ok {
		return 0, fmt.Errorf("no VmHWM in %.100q", status)
	}
	kb, err := strconv.ParseInt(strings.Fields(after)[0], 10, 64)
	return kb << 10, err
}
