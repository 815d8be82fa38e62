package actions_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pmrun/pmrun/runner/lang"
)

// bigMessageEnv makes the test binary run TestBigMessageMemory's
// scenario, the receive in the place it names, and print its own peak
// RSS.
const bigMessageEnv = "PMRUN_TEST_BIG_MESSAGE"

// TestBigMessageMemory: a 256 MiB message that reaches the runner, from
// its own end of a channel or in an agent's reply, costs the runner the
// message once, not twice (issue 27, item 7: it peaked at 536 MB). The
// runner is this test binary run again, as in TestReceiveMemory.
func TestBigMessageMemory(t *testing.T) {
	if to := os.Getenv(bigMessageEnv); to != "" {
		bigMessageChild(t, to)
		return
	}
	if raceEnabled {
		t.Skip("the race detector's shadow of the message counts in the RSS")
	}
	t.Parallel()
	const size, limit = 256 << 20, 256<<20 + 100<<20
	for _, to := range []string{"runner", "a"} {
		t.Run(to, func(t *testing.T) {
			o := runScenario(t, fmt.Sprintf(`
name: big-parent
timeout: 10m
steps:
  - spawn: {name: child, cmd: [%q, "-test.run=^TestBigMessageMemory$", "-test.count=1"], env: {%s: %s}}
  - id: child
    wait: {process: child, timeout: 9m}
`, os.Args[0], bigMessageEnv, to))
			mustPass(t, o)
			res := o.step(t, "child").Result
			out, _ := res["stdout"].(string)
			if res["exit_code"] != 0 {
				t.Fatalf("child: exit code %v\n%s%v", res["exit_code"], out, res["stderr"])
			}
			_, after, ok := strings.Cut(out, "runner peak_rss=")
			if !ok {
				t.Fatalf("no peak_rss in:\n%s", out)
			}
			rss, err := strconv.ParseInt(strings.Fields(after)[0], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("a message of %d MiB received in %s: the runner's peak RSS is %d MiB", size>>20, to, rss>>20)
			if rss > limit {
				t.Errorf("a message of %d MiB received in %s took the runner a peak RSS of %d MiB, more than %d MiB", size>>20, to, rss>>20, limit>>20)
			}
		})
	}
}

// bigMessageChild is TestBigMessageMemory in the child: agent a sends one
// message of 256 MiB, received in the runner or in a.
func bigMessageChild(t *testing.T, to string) {
	o := runScenario(t, `
name: big
timeout: 8m
channels: {big: {max_message: 256MiB}}
steps:
  - spawn: {name: a, agent: true}
  - id: tx
    send: {channel: big, from: a, size: 256MiB}
    background: true
  - id: rx
    receive: {channel: big, to: `+to+`, timeout: 5m}
  - wait: {step: tx}
  - assert: steps.rx.count == 1 && steps.rx.bytes == 268435456 && len(steps.rx.message) == 268435456
`)
	rss, err := peakRSS("self")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("runner peak_rss=%d\n", rss)
	if o.Status != lang.StatusPassed {
		t.Fatalf("scenario %s: %v", o.Status, o.Err)
	}
}
