//go:build cgo

package nsichild

import (
	"fmt"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// spawned is one parent spawned for a test, ended and reaped in Cleanup.
type spawned struct {
	pid           int
	parent, child *Side
	pipes         map[string]bool // "pipe:[INO]" of the four ends the C side keeps
}

func spawn(t *testing.T, e Experiment) *spawned {
	t.Helper()
	s := &spawned{pipes: map[string]bool{}}
	var ends [4]*os.File
	var err error
	var pe, ce [2]*os.File
	if s.parent, pe, err = NewSide("parent"); err != nil {
		t.Fatal(err)
	}
	if s.child, ce, err = NewSide("child"); err != nil {
		t.Fatal(err)
	}
	ends = [4]*os.File{pe[0], pe[1], ce[0], ce[1]}
	for _, f := range ends {
		var st unix.Stat_t
		if err := unix.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatal(err)
		}
		s.pipes[fmt.Sprintf("pipe:[%d]", st.Ino)] = true
	}
	s.pid, err = Spawn(e, ends)
	for _, f := range ends {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.parent.Close()
		s.child.Close()
		unix.Kill(s.pid, unix.SIGKILL)
		reapAll(t)
	})
	hello, err := s.parent.Recv(RequestTimeout)
	if err != nil || hello.Op != OpHello || hello.Ret != 0 {
		t.Fatalf("parent's hello: %+v, %v", hello, err)
	}
	return s
}

// reapAll waits for every child of ours, the experiment's orphans
// included, and fails if one takes longer than the request timeout.
func reapAll(t *testing.T) {
	for {
		var ws unix.WaitStatus
		_, err := unix.Wait4(-1, &ws, unix.WALL, nil)
		if err == unix.ECHILD {
			return
		}
		if err != nil && err != unix.EINTR {
			t.Errorf("wait4: %v", err)
			return
		}
	}
}

// checkFDs: 0-2 on /dev/null, 3-6 the four pipe ends, nothing else of
// ours (the test's own files, the Go runtime's epoll and pidfds).
func checkFDs(t *testing.T, who string, pid int, pipes map[string]bool) {
	t.Helper()
	got := testutil.FDs(t, pid)
	if len(got) != 7 {
		t.Errorf("%s: fds %v, want exactly 0-6", who, got)
	}
	for fd := 0; fd <= 2; fd++ {
		if got[fd] != "/dev/null" {
			t.Errorf("%s: fd %d is %q, want /dev/null", who, fd, got[fd])
		}
	}
	for fd := 3; fd <= 6; fd++ {
		if !pipes[got[fd]] {
			t.Errorf("%s: fd %d is %q, not one of the experiment's pipes %v", who, fd, got[fd], pipes)
		}
	}
}

// The parent starts with the fixed fd layout and serves requests; its
// clone call makes a child that serves requests too, and both end on
// OpExit. No privilege is needed: the parent and a plain child are made
// without namespaces.
func TestSpawnServesRequests(t *testing.T) {
	decoy, err := os.Open("/etc/hostname") // an fd of ours that must not leak
	if err != nil {
		t.Fatal(err)
	}
	defer decoy.Close()
	s := spawn(t, Experiment{Flags: unix.CLONE_FILES, ExitSignal: int(unix.SIGCHLD), CgroupFD: -1})
	checkFDs(t, "parent", s.pid, s.pipes)
	old, _, err := s.parent.Do(OpUmask, 0o027, "")
	if err != nil {
		t.Fatal(err)
	}
	if back, _, err := s.parent.Do(OpUmask, int32(old), ""); err != nil || back != 0o027 {
		t.Errorf("umask back: %o, %v; want the 0027 just set", back, err)
	}
	if _, _, err := s.parent.Do(OpChdir, 0, "/nonexistent"); err != unix.ENOENT {
		t.Errorf("chdir(/nonexistent): %v, want the kernel's ENOENT", err)
	}
	if err := s.parent.Send(OpClone, 0, ""); err != nil {
		t.Fatal(err)
	}
	r, err := s.parent.Recv(RequestTimeout)
	if err != nil || r.Op != OpClone || r.Ret <= 0 {
		t.Fatalf("clone: %+v, %v", r, err)
	}
	if hello, err := s.child.Recv(RequestTimeout); err != nil || hello.Op != OpHello {
		t.Fatalf("child's hello: %+v, %v", hello, err)
	}
	child := int(r.Ret)
	checkFDs(t, "child", child, s.pipes)
	// CLONE_FILES: an fd the child opens is in the parent's table too.
	fd, _, err := s.child.Do(OpOpen, 0, "/dev/null")
	if err != nil {
		t.Fatal(err)
	}
	if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", s.pid, fd)); err != nil || l != "/dev/null" {
		t.Errorf("the child's fd %d in the parent (CLONE_FILES): %q, %v", fd, l, err)
	}
	if _, _, err := s.child.Do(OpClose, int32(fd), ""); err != nil {
		t.Error(err)
	}
	if err := s.child.Send(OpExit, 0, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.parent.Send(OpExit, 0, ""); err != nil {
		t.Fatal(err)
	}
	var ws unix.WaitStatus
	if _, err := unix.Wait4(s.pid, &ws, unix.WALL, nil); err != nil || !ws.Exited() || ws.ExitStatus() != 0 {
		t.Errorf("parent after OpExit: %v, %v; want exit 0", ws, err)
	}
	// The child may be killed before it gets to exit: its parent's exit
	// sends it PDEATHSIG (SIGKILL), and on a loaded machine the parent can
	// exit first (seen in CI: status 9). Either way it is gone, and ours to
	// reap as an orphan.
	if _, err := unix.Wait4(child, &ws, unix.WALL, nil); err != nil || !(ws.Exited() || ws.Signaled() && ws.Signal() == unix.SIGKILL) {
		t.Errorf("child after OpExit (an orphan of ours now): %v, %v; want it exited, or killed by its PDEATHSIG", ws, err)
	}
}

// A request the C side does not know is ENOSYS, and the child refuses
// OpClone: only the parent makes the experiment's call.
func TestSpawnRefusesUnknownRequests(t *testing.T) {
	s := spawn(t, Experiment{ExitSignal: int(unix.SIGCHLD), CgroupFD: -1})
	if _, _, err := s.parent.Do(OpUnshare+1, 0, ""); err != unix.ENOSYS {
		t.Errorf("unknown op: %v, want ENOSYS", err)
	}
	if _, _, err := s.parent.Do(OpOpen, 0, string(make([]byte, 200))); err == nil {
		t.Error("a request string longer than struct nsi_msg's was sent")
	}
}
