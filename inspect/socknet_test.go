package inspect

import (
	"os"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/discover"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/sharing"
)

// socketFromNewNetns makes a UDP socket in a new network namespace, on a
// thread that unshared and went back, and returns it with that namespace.
// The socket is then the namespace's only reference.
func socketFromNewNetns(t *testing.T) (*os.File, namespaces.NS) {
	t.Helper()
	sock := testutil.SocketInNewNetns(t)
	f := os.NewFile(uintptr(sock), "socket")
	t.Cleanup(func() { f.Close() })
	nsfd, err := unix.IoctlRetInt(sock, unix.SIOCGSKNS)
	if err != nil {
		t.Fatalf("SIOCGSKNS: %v", err)
	}
	defer unix.Close(nsfd)
	ns, err := namespaces.FromFD(nsfd)
	if err != nil {
		t.Fatal(err)
	}
	return f, ns
}

// A sleep that inherited, as fd 3, a socket made in another network
// namespace than its own, beside sockets of its own namespace (more than
// discover.NetListsFirstAfter, so that its first socket lists are read
// too): show and
// compare name that socket and its namespace, and no other; a sleep
// without it has none.
func TestOtherNetSockets(t *testing.T) {
	testutil.RequireRoot(t)
	sock, other := socketFromNewNetns(t)
	extra := []*os.File{sock}
	for range discover.NetListsFirstAfter + 2 {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			t.Fatal(err)
		}
		f := os.NewFile(uintptr(fd), "own socket")
		t.Cleanup(func() { f.Close() })
		extra = append(extra, f)
	}
	start := func(files []*os.File) int {
		cmd := testutil.Command(t, testutil.Held, "sleep", "1000")
		cmd.ExtraFiles = files
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		testutil.WaitComm(t, cmd.Process.Pid, "sleep")
		return cmd.Process.Pid
	}
	holder, plain := start(extra), start(extra[1:])
	want := []sharing.SocketNet{{FD: 3, NS: other}}
	same := func(got []sharing.SocketNet) bool {
		return slices.EqualFunc(got, want, func(a, b sharing.SocketNet) bool { return a.FD == b.FD && a.NS.Same(b.NS) })
	}

	p, err := procinfo.Open(holder)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	s, err := ReadShow(p)
	if err != nil {
		t.Fatal(err)
	}
	if !same(s.OtherNetSockets) {
		t.Errorf("show %d: sockets in other net namespaces %+v, want %+v", holder, s.OtherNetSockets, want)
	}
	c, err := CompareTasks(strconv.Itoa(holder), strconv.Itoa(plain), false)
	if err != nil {
		t.Fatal(err)
	}
	if !same(c.A.OtherNetSockets) || c.B.OtherNetSockets != nil {
		t.Errorf("compare %d %d: sockets in other net namespaces A %+v B %+v, want A %+v and B none", holder, plain, c.A.OtherNetSockets, c.B.OtherNetSockets, want)
	}
}
