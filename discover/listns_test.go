package discover

import (
	"errors"
	"os"
	"runtime"
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/model"
	"github.com/nsinspect/nsinspect/namespaces"
)

// haveListns reports whether the kernel has listns(2), as its probe
// decides (features.TestProbesAgreeWithRelease pins the probe to the
// release). Without it the test checks what it can there, the source's
// refusal, and says so: the kernel matrix runs the rest on 6.19 and newer.
func haveListns(t *testing.T) bool {
	t.Helper()
	testutil.RequireRoot(t)
	if features.Has(features.Listns) {
		return true
	}
	if m, err := Run(Options{}, Listns{}); !errors.Is(err, features.ErrMissing) || m != nil {
		t.Errorf("Run(Listns) without listns(2): %v, %v; want nil and features.ErrMissing", m, err)
	}
	t.Logf("no listns(2) (%s): checked the refusal only; the kernel matrix's 6.19 and newest kernels run the rest", features.Probe(features.Listns).Evidence)
	return false
}

// socketOnlyNetns makes a network namespace whose only reference is a
// socket of this process (made on a thread that unshared and went back),
// and returns the socket and the namespace.
func socketOnlyNetns(t *testing.T) (int, namespaces.NS) {
	t.Helper()
	var sock int
	_, err := testutil.OnThread(t, func() error {
		back, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(back)
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return err
		}
		sock, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if serr := unix.Setns(back, unix.CLONE_NEWNET); serr != nil {
			return serr
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(sock) })
	return sock, nsAtFD(t, sock)
}

func listed(t *testing.T, id uint64) bool {
	t.Helper()
	ids, err := linux.Listns(0)
	if err != nil {
		t.Fatal(err)
	}
	return slices.Contains(ids, id)
}

// The listns source against the /proc walk: every namespace two /proc
// passes around it both found is in its answer with the same id and
// inode, but one held only by a socket, which a socket does not make
// active (the kernel's own selftest siocgskns_listns_visibility): listns
// leaves it out. What listns adds over its own walk (source listns) is
// held by an fd, as the /proc walk says. The population: a process in
// new namespaces, a netns held only by a bind mount, an ipc and a net
// namespace each held only by an fd of this process, and a netns held
// only by a socket.
func TestListnsAgreesWithProc(t *testing.T) {
	if !haveListns(t) {
		return
	}
	proc := startSleeper(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC})
	procNet := nsOf(t, proc.Process.Pid, "net")
	mount := nsAt(t, bindNetns(t))
	ipcFD, ipcNS := holdOnly(t, "ipc", "unshare", "--ipc", "sleep", "600")
	netFD, netNS := holdOnly(t, "net", "unshare", "--net", "sleep", "600")
	sock, sockNS := socketOnlyNetns(t)
	if listed(t, sockNS.ID) {
		t.Errorf("netns %v held only by socket %d is listed by listns: a socket makes it active", sockNS, sock)
	}

	before := runSource(t, Proc{})
	ml := runSource(t, Listns{})
	after := runSource(t, Proc{})
	if ml.Source != "listns" {
		t.Errorf("source %q, want listns", ml.Source)
	}
	byID := func(m *model.Model) map[uint64]*model.Namespace {
		out := make(map[uint64]*model.Namespace, len(m.Namespaces))
		for _, n := range m.Namespaces {
			out[n.ID] = n
		}
		return out
	}
	lb, la, ll := byID(before), byID(after), byID(ml)
	for id, n := range lb {
		if la[id] == nil {
			continue // died between the passes
		}
		l := ll[id]
		switch {
		case n.Sources&^model.Hierarchy == model.FromSocket:
			if l != nil {
				t.Errorf("%v (%s) held only by sockets %v is in listns's answer as %v", n.NS, n.IDText(), n.Sockets, l.Sources)
			}
		case l == nil:
			t.Errorf("%v (%s, sources %v) found by /proc twice is not in listns's answer", n.NS, n.IDText(), n.Sources)
		case l.Ino != n.Ino || l.Type != n.Type:
			t.Errorf("id %d: /proc says %v, listns %v", id, n.NS, l.NS)
		}
	}
	for id, l := range ll {
		if l.Sources&model.FromListns == 0 {
			continue
		}
		if n := lb[id]; n != nil && n.Sources&model.FromFD == 0 && la[id] != nil && la[id].Sources&model.FromFD == 0 {
			t.Errorf("%v listed only by listns, but /proc says its holders are %v, not an fd", l.NS, n.Sources)
		}
	}

	want := []struct {
		what    string
		ns      namespaces.NS
		sources model.Source
	}{
		{"a process's net namespace", procNet, model.FromProcess},
		{"a netns held only by a bind mount", mount, model.FromBindMount},
		{"an ipc namespace held only by an fd", ipcNS, model.FromListns},
		{"a netns held only by an fd", netNS, model.FromListns},
	}
	for _, w := range want {
		n := find(t, ml, w.ns)
		if n.Sources != w.sources {
			t.Errorf("%s %v: sources %v, want %v", w.what, w.ns, n.Sources, w.sources)
		}
		if len(n.FDs)+len(n.Sockets) != 0 {
			t.Errorf("%s %v: fds %v sockets %v from a source that reads no fd table", w.what, w.ns, n.FDs, n.Sockets)
		}
	}
	if n := find(t, ml, procNet); n.NProcs != 1 || n.PID != proc.Process.Pid {
		t.Errorf("%v: nprocs %d pid %d, want 1, %d", procNet, n.NProcs, n.PID, proc.Process.Pid)
	}
	for fd, ns := range map[int]namespaces.NS{ipcFD: ipcNS, netFD: netNS} {
		if n := find(t, before, ns); !slices.Contains(n.FDs, model.FD{PID: os.Getpid(), FD: fd}) {
			t.Errorf("/proc: %v fds %v, want %d:%d", n.NS, n.FDs, os.Getpid(), fd)
		}
	}
	if n := find(t, before, sockNS); n.Sources != model.FromSocket {
		t.Errorf("/proc: the socket-held %v has sources %v, want socket", sockNS, n.Sources)
	}
	if ll[sockNS.ID] != nil {
		t.Errorf("listns source lists the socket-held %v", sockNS)
	}
}

// An unprivileged caller gets no error from listns(2) but a subset: the
// namespaces it is in (the kernel's selftest
// listns_unprivileged_current_only). A thread of this process that gave
// up root (setresuid on itself only) sees its own network namespace and
// not a new one a child is in, and the source refuses it by capability.
func TestListnsUnprivileged(t *testing.T) {
	if !haveListns(t) {
		return
	}
	child := startSleeper(t, &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWNET})
	other := nsOf(t, child.Process.Pid, "net")
	own := nsAt(t, "/proc/self/ns/net")
	all, err := linux.Listns(unix.CLONE_NEWNET)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(all, other.ID) || !slices.Contains(all, own.ID) {
		t.Fatalf("root's listns(CLONE_NEWNET) %v lacks %s or %s", all, other.IDText(), own.IDText())
	}
	var (
		ids    []uint64
		listEr error
		usable error
	)
	_, err = testutil.OnThread(t, func() error {
		// The raw call changes this thread's credentials only (Go's
		// Setresuid changes every thread's); its capabilities go with
		// uid 0. The thread is never given back to the scheduler.
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, 65534, 65534, 65534); e != 0 {
			return e
		}
		runtime.Gosched()
		ids, listEr = linux.Listns(unix.CLONE_NEWNET)
		usable = ListnsUsable()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if listEr != nil {
		t.Fatalf("unprivileged listns: %v, want a filtered answer without an error", listEr)
	}
	if !slices.Contains(ids, own.ID) || slices.Contains(ids, other.ID) || len(ids) >= len(all) {
		t.Errorf("unprivileged listns(CLONE_NEWNET) = %v (root: %v); want its own netns %s and not the child's %s", ids, all, own.IDText(), other.IDText())
	}
	if !errors.Is(usable, ErrListnsFiltered) {
		t.Errorf("ListnsUsable without CAP_SYS_ADMIN: %v, want ErrListnsFiltered", usable)
	}
}

// On a kernel without listns(2) (the 6.18 host) the source fails before it
// records anything, with an error that matches features.ErrMissing; with
// it, root gets every namespace it is in.
func TestListnsPresentOrMissing(t *testing.T) {
	testutil.RequireRoot(t)
	_, err := linux.Listns(0)
	if !features.Has(features.Listns) {
		if !errors.Is(err, unix.ENOSYS) {
			t.Errorf("listns on a kernel the probe says lacks it: %v, want ENOSYS", err)
		}
		m, err := Run(Options{}, Listns{})
		if !errors.Is(err, features.ErrMissing) || m != nil {
			t.Errorf("Run(Listns): %v, %v; want nil and features.ErrMissing", m, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := Run(Options{}, Listns{})
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"net", "mnt", "user", "pid", "uts", "ipc", "cgroup"} {
		find(t, m, nsAt(t, "/proc/self/ns/"+link))
	}
}
