package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// startHold starts `nsinspect hold ARGS` with attr and returns the
// command and the PID it printed; it is killed and reaped in t.Cleanup.
func startHoldProc(t *testing.T, attr *syscall.SysProcAttr, args ...string) (*exec.Cmd, string) {
	t.Helper()
	cmd := testutil.Command(t, testutil.Held, binary, append([]string{"hold"}, args...)...)
	cmd.SysProcAttr = attr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("hold printed no PID: %v", err)
	}
	return cmd, strings.TrimSpace(line)
}

// hold announces itself on stdout and in --ready-file, and SIGTERM and
// SIGINT end it with exit 0.
func TestHoldSignals(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		ready := filepath.Join(t.TempDir(), "ready")
		cmd, pid := startHoldProc(t, nil, "--ready-file", ready)
		if pid != strconv.Itoa(cmd.Process.Pid) {
			t.Errorf("hold printed %q, its pid is %d", pid, cmd.Process.Pid)
		}
		if b, err := os.ReadFile(ready); err != nil || string(b) != pid+"\n" {
			t.Errorf("--ready-file holds %q (%v), want %q", b, err, pid+"\n")
		}
		cmd.Process.Signal(sig)
		if err := cmd.Wait(); err != nil {
			t.Errorf("hold after %v: %v, want exit 0", sig, err)
		}
	}
}

func TestHoldBadReadyFile(t *testing.T) {
	r := nsinspect(t, "hold", "--ready-file", "/nonexistent/dir/ready")
	if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, "--ready-file") {
		t.Errorf("exit %d, stderr %q; want exit 2 and one line about --ready-file", r.code, r.stderr)
	}
}

// As PID 1 of a PID namespace, hold still ends on SIGTERM (the kernel
// drops signals PID 1 has no handler for) and reaps orphans: a sleep whose
// parent exited inside the namespace is reparented to hold and must not
// stay a zombie once killed.
func TestHoldAsPID1(t *testing.T) {
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "nsenter", "util-linux")
	cmd, pid := startHoldProc(t, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID, Pdeathsig: syscall.SIGKILL})
	if pid != "1" {
		t.Fatalf("hold in a new PID namespace printed %q, want 1", pid)
	}
	host := cmd.Process.Pid
	// sh starts sleep in the background and exits: sleep is orphaned in
	// hold's namespace. sh prints sleep's pid as the host numbers it.
	out, err := testutil.Output(testutil.Command(t, testutil.Quick, "nsenter", "-t", strconv.Itoa(host), "-p", "--",
		"sh", "-c", `sleep 1000 >/dev/null 2>&1 & echo $!`))
	if err != nil {
		t.Fatalf("starting an orphan in hold's namespace: %v", err)
	}
	inner := strings.TrimSpace(out)
	orphan := findByNSpid(t, host, inner)
	if ppid := statusField(t, orphan, "PPid"); ppid != strconv.Itoa(host) {
		t.Fatalf("the orphan's parent is %s, want hold (%d)", ppid, host)
	}
	syscall.Kill(orphan, syscall.SIGKILL)
	// Reaping is asynchronous (hold wakes on SIGCHLD); the bound only
	// keeps a broken hold from hanging the suite.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", orphan)); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphan %d was not reaped: state %s", orphan, statusField(t, orphan, "State"))
		}
	}
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Errorf("hold as PID 1 after SIGTERM: %v, want exit 0", err)
	}
}

// findByNSpid finds hold's child whose pid in hold's namespace is inner.
func findByNSpid(t *testing.T, hold int, inner string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", hold, hold))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		ns := strings.Fields(statusField(t, pid, "NSpid"))
		if len(ns) == 2 && ns[1] == inner {
			return pid
		}
	}
	t.Fatalf("no child of hold has pid %s in its namespace (children: %q)", inner, b)
	return 0
}

func statusField(t *testing.T, pid int, field string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("pid %d: no %s in status", pid, field)
	return ""
}
