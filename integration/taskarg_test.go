package integration

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
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

// graph -p takes "self" and PID:TID as ls -p does: self is nsinspect
// itself, PID:TID draws that one thread. Before, both were "not a number"
// (exit 2).
func TestGraphTaskArgs(t *testing.T) {
	testutil.RequireRoot(t)
	r, self := runTimed(t, nil, "graph", "-p", "self")
	if r.code != 0 || !strings.Contains(r.stdout, `"p`+strconv.Itoa(self)+`" [label="`+strconv.Itoa(self)+" ") {
		t.Errorf("graph -p self: exit %d, stderr %q; want nsinspect's own node p%d in:\n%.300s", r.code, r.stderr, self, r.stdout)
	}
	tid := otherThread(t)
	arg := fmt.Sprintf("%d:%d", os.Getpid(), tid)
	r, _ = runTimed(t, nil, "graph", "-p", arg)
	if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf(`"t%d" [label="%s `, tid, arg)) || strings.Contains(r.stdout, fmt.Sprintf(`"p%d"`, os.Getpid())) {
		t.Errorf("graph -p %s: exit %d, stderr %q; want thread node t%d and not its process in:\n%.500s", arg, r.code, r.stderr, tid, r.stdout)
	}
	for _, c := range []struct{ arg, has string }{
		{"2147483646", "no process with PID 2147483646"},
		{fmt.Sprintf("%d:2147483646", os.Getpid()), "no thread 2147483646"},
		{"self:x", "bad thread id"},
	} {
		r, _ := runTimed(t, nil, "graph", "-p", c.arg)
		checkOneLineError(t, r, 2, "graph -p "+c.arg)
		if !strings.Contains(r.stderr, c.has) {
			t.Errorf("graph -p %s: %q does not say %q", c.arg, r.stderr, c.has)
		}
	}
}

// otherThread returns a thread of the test process other than its leader.
func otherThread(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if tid, _ := strconv.Atoi(e.Name()); tid != 0 && tid != os.Getpid() {
			return tid
		}
	}
	t.Fatal("the test process has no thread besides its leader")
	return 0
}

// As nobody, a task of root's exists but its namespaces may not be read:
// ls -p and graph -p say so, with what it takes, and exit 4. Before,
// graph said "no process with PID 1" (exit 2) and ls exit 5.
func TestTaskArgUnreadable(t *testing.T) {
	testutil.RequireRoot(t)
	sleeper := testutil.Command(t, testutil.Held, "sleep", "1000")
	startChild(t, sleeper)
	for _, pid := range []string{"1", strconv.Itoa(sleeper.Process.Pid)} {
		for _, view := range []string{"ls", "graph"} {
			// --source proc: auto would add a note that BPF needs
			// privilege, a second line on stderr.
			r, _ := runTimed(t, nobody(), view, "-p", pid, "--source", "proc")
			what := fmt.Sprintf("as nobody: %s -p %s", view, pid)
			// graph's pass says first what it could not read of the
			// rest of the host (every view of a pass does); the error
			// is the last line.
			if lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); view == "graph" && len(lines) == 2 &&
				strings.HasPrefix(lines[0], "nsinspect: warning: could not read ") {
				r.stderr = lines[1] + "\n"
			}
			checkOneLineError(t, r, 4, what)
			if !strings.Contains(r.stderr, "cannot read") || !strings.Contains(r.stderr, "/proc/"+pid+"/ns") || !strings.Contains(r.stderr, "CAP_SYS_PTRACE") {
				t.Errorf("%s: %q; want it to say it cannot read /proc/%s/ns and that this needs CAP_SYS_PTRACE", what, r.stderr, pid)
			}
		}
	}
}
