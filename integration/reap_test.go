package integration

import (
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// TestCloneReapsBeforeExit runs clone experiments as children of a child
// subreaper (PR_SET_CHILD_SUBREAPER, as a container's init or systemd is):
// a process nsinspect made and left unreaped would be reparented to it
// when nsinspect exits. None may be: after each run, no process the test
// did not start has the test as its parent.
func TestCloneReapsBeforeExit(t *testing.T) {
	testutil.RequireRoot(t)
	n := 20
	if testing.Short() {
		n = 5
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
		for _, pid := range adopted(t) {
			unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, 0, nil)
		}
	})
	left := 0
	for i := range n {
		mustRun(t, "clone", "CLONE_NEWNET|CLONE_NEWUTS")
		if kids := adopted(t); len(kids) > 0 {
			left++
			t.Errorf("run %d: nsinspect exited leaving %v to its reaper", i, kids)
			for _, pid := range kids {
				var ws unix.WaitStatus
				unix.Wait4(pid, &ws, 0, nil)
			}
		}
	}
	if left > 0 {
		t.Errorf("%d of %d clone runs left a process for the reaper", left, n)
	}
}

// adopted lists the processes whose parent is this test process: with
// the test a subreaper and every nsinspect run already waited for, those
// are orphans nsinspect left behind.
func adopted(t *testing.T) []int {
	t.Helper()
	var out []int
	testutil.EachStat(t, func(pid int, stat string) {
		if st, err := procinfo.ParseStat(stat); err == nil && st.PPID == os.Getpid() && st.Comm == "nsinspect" {
			out = append(out, pid)
		}
	})
	return out
}
