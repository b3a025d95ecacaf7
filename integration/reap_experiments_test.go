package integration

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// Every experiment command, in a lab and with --host, waits for every
// process it made (the lab, the experiment's parent and child, a child
// that exec'd sleep) before it exits. The test is a child subreaper, so a
// process nsinspect left behind would be reparented to it: after each run
// (the binary already waited for) no process but those the test had
// before may have the test as its parent. TestCloneReapsBeforeExit runs
// plain `clone` 20 times; this covers the other commands and modes.
func TestExperimentsReapBeforeExit(t *testing.T) {
	testutil.RequireRoot(t)
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	before := childrenOfTest(t, nil)
	t.Cleanup(func() {
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
		collect(t, childrenOfTest(t, before), true)
	})
	for _, args := range [][]string{
		{"clone", "net,files", "--host"},
		{"clone", "parent,newnet", "--host"}, // the child is nsinspect's own
		{"clone", "vm,vfork", "--host"},      // the parent is suspended in clone until killed
		{"clone", "files,fs", "--exec"},      // the child exec'd sleep(1)
		{"clone", "files,fs", "--exec", "--host"},
		{"clone", "vm,sighand,thread"},
		{"clone", "newpid,newuser", "--userns"},
		{"unshare", "newpid,newnet"},
		{"unshare", "newnet,files", "--thread"},
		{"unshare", "newuts", "--host"},
		{"matrix"},
	} {
		for i := 0; i < 3; i++ {
			if r := nsinspect(t, args...); r.code != 0 {
				t.Fatalf("nsinspect %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
			}
			if left := childrenOfTest(t, before); len(left) > 0 {
				t.Errorf("nsinspect %s (run %d) exited leaving %v to its reaper", strings.Join(args, " "), i, left)
				collect(t, left, false)
			}
			if args[0] == "matrix" {
				break // 190 experiments in one lab: once is enough
			}
		}
	}
}

// childrenOfTest lists, as "pid comm state", the processes whose parent is
// this test process and which are not in before (nil: all of them).
func childrenOfTest(t *testing.T, before map[int]string) map[int]string {
	t.Helper()
	out := map[int]string{}
	testutil.EachStat(t, func(pid int, stat string) {
		st, err := procinfo.ParseStat(stat)
		if err == nil && st.PPID == os.Getpid() && before[pid] == "" {
			out[pid] = st.Comm + " " + string(st.State)
		}
	})
	return out
}

// collect reaps what nsinspect left, killing it first where kill says so
// or it is still alive.
func collect(t *testing.T, left map[int]string, kill bool) {
	t.Helper()
	for pid, what := range left {
		if kill || !strings.HasSuffix(what, " Z") {
			unix.Kill(pid, unix.SIGKILL)
		}
		var ws unix.WaitStatus
		unix.Wait4(pid, &ws, unix.WALL, nil)
	}
}
