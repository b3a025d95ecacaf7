package testutil

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Unshare runs `unshare ARGS sh -c 'echo ready; exec sleep 1000'` and
// returns once the shell has printed, that is, once every unshare(2) and
// the fork are done: the pid of unshare (the sleeper itself without
// --fork) and, with --fork, of its child (else 0). Both are killed and
// reaped in t.Cleanup.
func Unshare(t testing.TB, args ...string) (parent, child int) {
	t.Helper()
	RequireRoot(t)
	RequireCommand(t, "unshare", "util-linux")
	fork := false
	for _, a := range args {
		fork = fork || a == "--fork" || a == "-f"
	}
	if fork {
		// The child dies with unshare instead of outliving the test.
		args = append(args, "--kill-child")
	}
	args = append(args, "sh", "-c", "echo ready; exec sleep 1000")
	cmd := Command(t, Held, "unshare", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if child > 0 {
			syscall.Kill(child, syscall.SIGKILL)
		}
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := readReady(cmd, out)
	if err != nil || line != "ready\n" {
		t.Fatalf("unshare %v did not start: %q, %v", args, line, err)
	}
	parent = cmd.Process.Pid
	if !fork {
		// "ready" comes from sh just before it execs sleep.
		WaitComm(t, parent, "sleep")
	}
	if fork {
		// Not yet reaped by the test, so the pid cannot be reused.
		b, err := os.ReadFile("/proc/" + strconv.Itoa(parent) + "/task/" + strconv.Itoa(parent) + "/children")
		if err != nil {
			t.Fatal(err)
		}
		f := strings.Fields(string(b))
		if len(f) != 1 {
			t.Fatalf("unshare (pid %d) has children %q, want one", parent, f)
		}
		if child, err = strconv.Atoi(f[0]); err != nil {
			t.Fatal(err)
		}
	}
	return parent, child
}
