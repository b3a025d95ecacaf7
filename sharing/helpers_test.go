package sharing

import (
	"bufio"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// unshared is a process made by unshare(1): the process unshare itself
// (which becomes the sleeper unless --fork) and, with --fork, its child.
type unshared struct {
	parent, child *procinfo.Proc // child is nil without --fork
}

// startUnshare runs `unshare ARGS sh -c 'echo ready; exec sleep 1000'` and
// returns once the shell has printed, that is, once every unshare(2) and
// the fork are done. Everything is killed and reaped in t.Cleanup.
func startUnshare(t *testing.T, args ...string) unshared {
	t.Helper()
	testutil.RequireRoot(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	fork := false
	for _, a := range args {
		fork = fork || a == "--fork" || a == "-f"
	}
	if fork {
		// The child dies with unshare instead of outliving the test.
		args = append(args, "--kill-child")
	}
	args = append(args, "sh", "-c", "echo ready; exec sleep 1000")
	cmd := exec.Command("unshare", args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var u unshared
	t.Cleanup(func() {
		if u.child != nil {
			syscall.Kill(u.child.PID, syscall.SIGKILL)
			u.child.Close()
		}
		cmd.Process.Kill()
		cmd.Wait()
		u.parent.Close()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("unshare %v did not start: %q, %v", args, line, err)
	}
	if u.parent, err = procinfo.Open(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if fork {
		u.child = forkedChild(t, u.parent)
	}
	return u
}

// forkedChild pins the only child of p.
func forkedChild(t *testing.T, p *procinfo.Proc) *procinfo.Proc {
	t.Helper()
	b, err := p.ReadFile("task/" + strconv.Itoa(p.PID) + "/children")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(b))
	if len(f) != 1 {
		t.Fatalf("unshare (pid %d) has children %q, want one", p.PID, f)
	}
	pid, err := strconv.Atoi(f[0])
	if err != nil {
		t.Fatal(err)
	}
	c, err := procinfo.Open(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := c.Stat(); err != nil || st.PPID != p.PID {
		c.Close()
		t.Fatalf("pid %d is not unshare's child any more: %+v, %v", pid, st, err)
	}
	return c
}

// startSleep starts a plain sleep with the given clone flags and extra
// fds, pins it, and kills and reaps it in t.Cleanup.
func startSleep(t *testing.T, cloneflags uintptr, extra ...*os.File) *procinfo.Proc {
	t.Helper()
	testutil.RequireRoot(t)
	cmd, p, err := spawnSleep(cloneflags, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reap(cmd, p) })
	return p
}

// spawnSleep is startSleep for a goroutine other than the test's, where
// t.Fatal must not be called; the caller reaps.
func spawnSleep(cloneflags uintptr, extra ...*os.File) (*exec.Cmd, *procinfo.Proc, error) {
	cmd := exec.Command("sleep", "1000")
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: cloneflags}
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	p, err := procinfo.Open(cmd.Process.Pid)
	if err != nil {
		reap(cmd, nil)
		return nil, nil, err
	}
	return cmd, p, nil
}

func reap(cmd *exec.Cmd, p *procinfo.Proc) {
	cmd.Process.Kill()
	cmd.Wait()
	p.Close()
}

func self(t *testing.T) *procinfo.Proc {
	t.Helper()
	p, err := procinfo.Self()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func mustCompare(t *testing.T, a, b *procinfo.Proc) *Report {
	t.Helper()
	r, err := Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Resources) != 16 {
		t.Fatalf("got %d resources, want 16", len(r.Resources))
	}
	for i, n := range ResourceNames() {
		if r.Resources[i].Name != n {
			t.Fatalf("resource %d is %q, want %q", i, r.Resources[i].Name, n)
		}
	}
	return r
}

// wantVerdicts checks each named resource's verdict: "shared", "separate"
// or "indeterminate".
func wantVerdicts(t *testing.T, r *Report, want map[string]string) {
	t.Helper()
	for name, v := range want {
		res, ok := r.Resource(name)
		if !ok {
			t.Fatalf("no resource %q", name)
		}
		if res.Verdict() != v {
			t.Errorf("%s: got %s, want %s (evidence: %s; note: %s)", name, res.Verdict(), v, res.Evidence, res.Note)
		}
	}
}
