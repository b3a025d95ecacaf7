//go:build cgo

package clone

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/internal/nsichild"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

func TestMain(m *testing.M) {
	if IsLab() {
		os.Exit(LabMain()) // the test binary re-executed as a lab
	}
	os.Exit(m.Run())
}

// hostZygote starts a zygote on the host for one test; Cleanup reaps what
// is left and ends it.
func hostZygote(t testing.TB) *nsichild.Zygote {
	t.Helper()
	z, err := nsichild.StartZygote(nsichild.ZygoteHost, &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := z.Close(); err != nil {
			t.Error(err)
		}
	})
	return z
}

func TestStartPairSmoke(t *testing.T) {
	testutil.RequireRoot(t)
	z := hostZygote(t)
	for _, fl := range []string{"files", "vm,sighand,thread", "newnet,newipc", "vfork", "vm,vfork", "fs", "pidfd", "newtime", "clear_sighand", "newpid,newuser"} {
		fs, err := flags.Parse(fl)
		if err != nil {
			t.Fatal(err)
		}
		p, err := startPair(z, fs, false, -1)
		if err != nil {
			t.Errorf("%s: %v", fl, err)
			continue
		}
		st, err := p.childProc.Status()
		if err != nil {
			t.Errorf("%s: child status: %v", fl, err)
		}
		if fs.Has(unix.CLONE_THREAD) {
			if st.Tgid != p.parentPID {
				t.Errorf("%s: child thread's Tgid %d, want the parent %d", fl, st.Tgid, p.parentPID)
			}
		} else if st.PPid != p.parentPID || st.Pid != p.childPID {
			t.Errorf("%s: child pid %d ppid %d, want pid %d ppid %d", fl, st.Pid, st.PPid, p.childPID, p.parentPID)
		}
		t.Logf("%s via %s: parent %d child %d/%d vfork-suspended=%v pidfd=%d", fs, p.syscall, p.parentPID, p.childPID, p.childTID, p.vforkSuspended, p.parentPidfd)
		p.stop()
	}
}

func TestStartPairRefused(t *testing.T) {
	testutil.RequireRoot(t)
	z := hostZygote(t)
	fs, _ := flags.Parse("sighand")
	p, err := startPair(z, fs, false, -1)
	var ce *CallError
	if !errors.As(err, &ce) || ce.Errno != unix.EINVAL {
		if p != nil {
			p.stop()
		}
		t.Fatalf("CLONE_SIGHAND alone: got %v, want EINVAL", err)
	}
}
