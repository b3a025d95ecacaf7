//go:build cgo

package nsichild

import (
	"fmt"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// spawned is one parent spawned for a test, ended and reaped in Cleanup.
type spawned struct {
	z             *Zygote
	pid           int
	parent, child *Side
	pipes         map[string]bool // "pipe:[INO]" of the four ends the C side keeps
}

func spawn(t *testing.T, e Experiment) *spawned {
	t.Helper()
	return spawnIn(t, ZygoteHost, e)
}

// spawnIn is spawn from a zygote started in mode.
func spawnIn(t *testing.T, mode ZygoteMode, e Experiment) *spawned {
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
	z := startZygote(t, mode)
	s.z = z
	var pidfd int
	s.pid, pidfd, err = z.Spawn(e, ends)
	for _, f := range ends {
		f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(pidfd)
	t.Cleanup(func() {
		s.parent.Close()
		s.child.Close()
		if err := z.Reap(); err != nil {
			t.Error(err)
		}
		if err := z.Close(); err != nil {
			t.Error(err)
		}
	})
	hello, err := s.parent.Recv(RequestTimeout)
	if err != nil || hello.Op != OpHello || hello.Ret != 0 {
		t.Fatalf("parent's hello: %+v, %v", hello, err)
	}
	return s
}

// startZygote starts a zygote on the host, in mode, for one test.
func startZygote(t *testing.T, mode ZygoteMode) *Zygote {
	t.Helper()
	z, err := StartZygote(mode, &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL})
	if err != nil {
		t.Fatal(err)
	}
	return z
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
	pidfds := map[string]int{}
	for who, pid := range map[string]int{"parent": s.pid, "child": child} {
		fd, err := unix.PidfdOpen(pid, 0)
		if err != nil {
			t.Fatalf("pidfd on the %s: %v", who, err)
		}
		defer unix.Close(fd)
		pidfds[who] = fd
	}
	if err := s.child.Send(OpExit, 0, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.parent.Send(OpExit, 0, ""); err != nil {
		t.Fatal(err)
	}
	// Both exit on OpExit, without being killed: a pidfd polls readable
	// once its process has exited. (The child may also be killed by its
	// PDEATHSIG when the parent exits first; it is gone either way.)
	for who, fd := range pidfds {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, int(RequestTimeout.Milliseconds())); n != 1 || err != nil {
			t.Errorf("the %s did not exit on OpExit: poll %d, %v", who, n, err)
		}
	}
	// And the zygote reaps both: a reaped process takes no signal.
	if err := s.z.Reap(); err != nil {
		t.Fatal(err)
	}
	for who, fd := range pidfds {
		if err := unix.PidfdSendSignal(fd, 0, nil, 0); err != unix.ESRCH {
			t.Errorf("the %s after the zygote reaped: signal 0 gives %v, want ESRCH", who, err)
		}
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

// The parent is forked from the zygote, not from this Go process: no
// mapping of its address space covers this process's Go heap. (A parent
// forked from nsinspect shared the whole heap copy-on-write, and every
// page the Go process wrote while it lived cost a fault and a TLB
// shootdown: docs/kernel-notes.md, "The experiment's processes".)
func TestParentHoldsNoGoHeap(t *testing.T) {
	heap := new([4096]byte) // escapes: on the Go heap
	heap[0] = 1
	addr := uint64(uintptr(unsafe.Pointer(heap)))
	s := spawn(t, Experiment{ExitSignal: int(unix.SIGCHLD), CgroupFD: -1})
	maps, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", s.pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(maps)), "\n") {
		var lo, hi uint64
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err != nil {
			t.Fatalf("maps line %q: %v", line, err)
		}
		if lo <= addr && addr < hi {
			t.Errorf("the parent maps %q, which covers this process's Go heap at %#x", line, addr)
		}
	}
	runtime.KeepAlive(heap)
}

// A timens zygote (the user-namespace lab's) stays in our time namespace
// and makes a new one that every parent it forks is born in: the lab's
// time namespace, made where Linux 6.1 allows it (docs/kernel-notes.md).
func TestTimensZygoteParentsAreBornInItsTimeNamespace(t *testing.T) {
	testutil.RequireRoot(t)
	s := spawnIn(t, ZygoteTimens, Experiment{ExitSignal: int(unix.SIGCHLD), CgroupFD: -1})
	link := func(pid int, name string) string {
		l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, name))
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	self := link(os.Getpid(), "time")
	if got := link(s.z.PID(), "time"); got != self {
		t.Errorf("the zygote is in %s, want ours, %s", got, self)
	}
	forChildren := link(s.z.PID(), "time_for_children")
	if forChildren == self {
		t.Errorf("the zygote's time_for_children is ours, %s: it made no time namespace", self)
	}
	if got := link(s.pid, "time"); got != forChildren {
		t.Errorf("the parent is in %s, want the zygote's time_for_children %s", got, forChildren)
	}
}
