package nsichild

import (
	"context"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

const helperEnv = "NSICHILD_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(osExecHelper())
	}
	// The experiment's child is the parent's: once the parent is reaped,
	// the child comes back to us to be reaped too.
	unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	os.Exit(m.Run())
}

// Why the experiment's processes are C: os/exec with CLONE_FILES lets the
// child's dup2 of /dev/null onto its stdout land in the Go parent's fd
// table, which the two share until the child's execve unshares it. The
// test binary re-executes itself as that parent (osExecHelper), so the
// corruption stays in a process of its own; it exits 0 when its fd 1
// became /dev/null. Pinned in docs/kernel-notes.md.
func TestOsExecWithCloneFilesCorruptsParent(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := testutil.Command(t, testutil.Quick, exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	out, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("the os/exec parent hung")
	}
	switch code := cmd.ProcessState.ExitCode(); code {
	case 0:
	case 1:
		t.Errorf("os/exec with CLONE_FILES left the parent's stdout alone: the fact that makes the experiment's processes C no longer holds")
	default:
		t.Errorf("helper: %v (exit %d)", err, code)
	}
}

// osExecHelper starts /bin/true through os/exec with CLONE_FILES and
// stdout left to os/exec (/dev/null), then reports whether its own fd 1,
// a regular file, is now /dev/null.
func osExecHelper() int {
	before, err := os.Readlink("/proc/self/fd/1")
	if err != nil || before == "/dev/null" {
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Quick)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/true")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_FILES}
	if err := cmd.Run(); err != nil {
		return 3
	}
	after, err := os.Readlink("/proc/self/fd/1")
	if err != nil {
		return 4
	}
	if after == "/dev/null" {
		return 0
	}
	return 1
}
