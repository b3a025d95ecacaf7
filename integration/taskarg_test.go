package integration

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// The -p TASK of ls and graph: one grammar ("self", PID, PID:TID), one
// set of answers for a task that does not exist (exit 2) and one the
// caller may not read (exit 4).

// runTimed runs nsinspect with the given credentials (nil: ours) and a
// deadline, and returns what it printed and its pid.
func runTimed(t *testing.T, attr *syscall.SysProcAttr, args ...string) (result, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.SysProcAttr = attr
	r := runCmd(t, cmd)
	if ctx.Err() != nil {
		t.Fatalf("nsinspect %v did not finish within 2 minutes; stderr: %s", args, r.stderr)
	}
	return r, cmd.Process.Pid
}

// ls -p pins its target's namespaces with fds of its own before the pass;
// those fds are nsinspect looking, not holders, as plain ls treats the
// pass's own. Before the fix every row of ls -p had the source fd and an
// fds entry with nsinspect's pid.
func TestLsTaskListsNoFDsOfItsOwn(t *testing.T) {
	testutil.RequireRoot(t)
	pid := child(t, "unshare", "--net", "--uts", "--ipc", "sleep", "600")
	for _, source := range []string{"auto", "proc", "bpf"} {
		r, self := runTimed(t, nil, "ls", "-p", strconv.Itoa(pid), "--json", "--source", source)
		if r.code != 0 {
			t.Fatalf("ls -p %d --source %s: exit %d: %s", pid, source, r.code, r.stderr)
		}
		rows := decodeLs(t, "ls -p --source "+source, r.stdout)
		if len(rows) != 8 {
			t.Errorf("--source %s: %d namespaces, want the 8 of pid %d", source, len(rows), pid)
		}
		for k, e := range rows {
			fds, _ := e["fds"].([]any)
			for _, f := range fds {
				if fmt.Sprint(f.(map[string]any)["pid"]) == strconv.Itoa(self) {
					t.Errorf("--source %s: %s lists nsinspect's own fd as a holder: %v (sources %v)", source, k, f, e["sources"])
				}
			}
		}
		for _, l := range []string{"net", "uts", "ipc"} {
			if k := nsKey(t, pid, l, l); rows[k] == nil {
				t.Errorf("--source %s: %s of pid %d is not listed", source, k, pid)
			}
		}
	}
}
