package sharing

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/procinfo"
)

// unshared is a process made by unshare(1): the process unshare itself
// (which becomes the sleeper unless --fork) and, with --fork, its child.
type unshared struct {
	parent, child *procinfo.Proc // child is nil without --fork
}

// startUnshare runs `unshare ARGS sh -c 'echo ready; exec sleep 1000'`
// (testutil.Unshare) and pins what it made; the pins are closed in
// t.Cleanup, after the processes are killed and reaped there.
func startUnshare(t *testing.T, args ...string) unshared {
	t.Helper()
	parent, child := testutil.Unshare(t, args...)
	var u unshared
	var err error
	if u.parent, err = procinfo.Open(parent); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.parent.Close() })
	if child > 0 {
		if u.child, err = procinfo.Open(child); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { u.child.Close() })
		if st, err := u.child.Stat(); err != nil || st.PPID != parent {
			t.Fatalf("pid %d is not unshare's child: %+v, %v", child, st, err)
		}
	}
	return u
}

// startSleep starts a plain sleep with the given clone flags and extra
// fds, pins it, and kills and reaps it in t.Cleanup.
func startSleep(t *testing.T, cloneflags uintptr, extra ...*os.File) *procinfo.Proc {
	t.Helper()
	testutil.RequireRoot(t)
	cmd, p, err := spawnSleep(t, cloneflags, extra...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reap(cmd, p) })
	return p
}

// spawnSleep is startSleep for a goroutine other than the test's, where
// t.Fatal must not be called; the caller reaps.
func spawnSleep(t testing.TB, cloneflags uintptr, extra ...*os.File) (*exec.Cmd, *procinfo.Proc, error) {
	cmd := testutil.Command(t, testutil.Held, "sleep", "1000")
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
	if err := untilAsleep(p); err != nil {
		reap(cmd, p)
		return nil, nil, err
	}
	return cmd, p, nil
}

// untilAsleep waits until sleep(1) sits in clock_nanosleep or nanosleep:
// before that it is still starting up (loading its locale, for one) and its
// fd table is still changing.
func untilAsleep(p *procinfo.Proc) error {
	for i := 0; i < 1000; i++ {
		b, err := p.ReadFile("syscall")
		if err != nil {
			return err
		}
		// The first field is the syscall number, which is per arch.
		sleeping := []string{strconv.Itoa(unix.SYS_CLOCK_NANOSLEEP), strconv.Itoa(unix.SYS_NANOSLEEP)}
		if f := strings.Fields(string(b)); len(f) > 0 && slices.Contains(sleeping, f[0]) {
			return nil
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("pid %d never went to sleep", p.PID)
}

// reap kills and reaps cmd and closes its pin. A test that reaped the
// child itself makes Wait fail, which leaves os/exec's pidfd open: Release
// closes it.
func reap(cmd *exec.Cmd, p *procinfo.Proc) {
	cmd.Process.Kill()
	cmd.Wait()
	cmd.Process.Release()
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
